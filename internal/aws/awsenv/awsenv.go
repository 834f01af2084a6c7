// Package awsenv builds the AWS SDK configuration of a rootguard Lambda function from the
// environment the Lambda runtime gives it, without the SDK's default configuration chain
// (config.LoadDefaultConfig), whose shared files, SSO, sign-in and instance metadata providers
// cost several milliseconds of every cold start in package initialisation alone.
//
// It reads:
//   - AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN: the function role's
//     credentials (the runtime sets them; the first two are required);
//   - AWS_REGION (else AWS_DEFAULT_REGION): required;
//   - AWS_ENDPOINT_URL (every client) and AWS_ENDPOINT_URL_<SERVICE> (one service, named by its
//     SDK id in upper case with spaces as underscores: AWS_ENDPOINT_URL_SNS,
//     AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_ORGANIZATIONS, AWS_ENDPOINT_URL_SECURITYHUB, ...),
//     which win over the former, as with the SDK's default chain; AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true
//     ignores both.
//
// The command-line tool keeps config.LoadDefaultConfig (profiles, SSO), where start time does
// not matter.
package awsenv

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Sentinel errors.
var (
	// ErrNoCredentials: the environment holds no credentials (or only half of them).
	ErrNoCredentials = errors.New("no AWS credentials in the environment")
	// ErrNoRegion: the environment names no region.
	ErrNoRegion = errors.New("no AWS region in the environment")
)

// Environment variable names.
const (
	EnvAccessKeyID      = "AWS_ACCESS_KEY_ID"
	EnvSecretAccessKey  = "AWS_SECRET_ACCESS_KEY"
	EnvSessionToken     = "AWS_SESSION_TOKEN"
	EnvRegion           = "AWS_REGION"
	EnvDefaultRegion    = "AWS_DEFAULT_REGION"
	EnvEndpointURL      = "AWS_ENDPOINT_URL"
	EnvIgnoreEndpoints  = "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"
	serviceEndpointBase = EnvEndpointURL + "_"
)

// Load returns the SDK configuration the environment (read through getenv, usually os.Getenv)
// describes: static credentials, the region, and the endpoint overrides. Every client built from
// it with NewFromConfig honours AWS_ENDPOINT_URL_<SERVICE> through the configuration's
// ConfigSources, the hook the SDK's own default chain uses. The retryer, HTTP client and the
// rest are the SDK's defaults; set them on the result.
func Load(getenv func(string) string) (aws.Config, error) {
	id, secret := getenv(EnvAccessKeyID), getenv(EnvSecretAccessKey)
	switch {
	case id == "" && secret == "":
		return aws.Config{}, fmt.Errorf("%w: set %s and %s (the Lambda runtime sets them from the function's role)", ErrNoCredentials, EnvAccessKeyID, EnvSecretAccessKey)
	case id == "":
		return aws.Config{}, fmt.Errorf("%w: %s is set but %s is not", ErrNoCredentials, EnvSecretAccessKey, EnvAccessKeyID)
	case secret == "":
		return aws.Config{}, fmt.Errorf("%w: %s is set but %s is not", ErrNoCredentials, EnvAccessKeyID, EnvSecretAccessKey)
	}
	region := getenv(EnvRegion)
	if region == "" {
		region = getenv(EnvDefaultRegion)
	}
	if region == "" {
		return aws.Config{}, fmt.Errorf("%w: set %s", ErrNoRegion, EnvRegion)
	}
	cfg := aws.Config{
		Region:      region,
		Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(id, secret, getenv(EnvSessionToken))),
	}
	ignore, _ := strconv.ParseBool(getenv(EnvIgnoreEndpoints))
	if ignore {
		return cfg, nil
	}
	if u := getenv(EnvEndpointURL); u != "" {
		cfg.BaseEndpoint = aws.String(u)
	}
	cfg.ConfigSources = append(cfg.ConfigSources, Endpoints{Getenv: getenv})
	return cfg, nil
}

// Endpoints answers the SDK clients' question for a service's own endpoint
// (AWS_ENDPOINT_URL_<SERVICE>). The SDK finds it in aws.Config.ConfigSources by its method.
type Endpoints struct {
	// Getenv reads the environment (os.Getenv).
	Getenv func(string) string
}

// ServiceEndpoint returns AWS_ENDPOINT_URL_<SERVICE> for the service's SDK id ("SNS",
// "DynamoDB", "Organizations", "SecurityHub", ...), or "" when it is not set.
func (e Endpoints) ServiceEndpoint(sdkID string) string {
	return e.Getenv(serviceEndpointBase + strings.ReplaceAll(strings.ToUpper(sdkID), " ", "_"))
}

// GetServiceBaseEndpoint implements the SDK's service endpoint source: it reports the service's
// endpoint override, when set.
func (e Endpoints) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	u := e.ServiceEndpoint(sdkID)
	return u, u != "", nil
}
