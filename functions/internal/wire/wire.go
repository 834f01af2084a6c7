// Package wire holds what every rootguard function starts from: the ROOTGUARD_* configuration
// read once, the JSON logger, the metrics recorder and the AWS SDK configuration, all built at
// cold start without any network call. Its sub-packages build each kind of handler, so that a
// function links only the AWS clients it uses: evaluator (root-activity, scp-guard, onboarding,
// audit) and notifier.
package wire

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rootguard/rootguard/internal/aws/awsenv"
	"github.com/rootguard/rootguard/internal/config"
	"github.com/rootguard/rootguard/internal/metric"
)

// Base is the configuration, logging and AWS setup of one function.
type Base struct {
	Config  config.Config
	Log     *slog.Logger
	Metrics *metric.Recorder
	// AWS is the SDK configuration from the Lambda environment (internal/aws/awsenv), with every call
	// counted in Metrics.
	AWS aws.Config
	// AWSUncounted is AWS without the call counter, for clients whose calls are reported
	// otherwise (the organization facts report theirs through awsorg.Config.Metrics).
	AWSUncounted aws.Config
}

// Load reads and validates the function's configuration and builds the AWS SDK configuration
// from the environment the Lambda runtime sets (credentials, region, AWS_ENDPOINT_URL and
// AWS_ENDPOINT_URL_<SERVICE>; see internal/aws/awsenv), without the SDK's default chain, whose
// providers slow every cold start.
func Load(ctx context.Context, function string) (*Base, error) {
	cfg, err := config.Load(function, os.Getenv)
	if err != nil {
		return nil, err
	}
	log := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: cfg.LogLevel})).With("function", function)
	m := metric.New(os.Stdout, function)
	plain, err := awsenv.Load(os.Getenv)
	if err != nil {
		return nil, fmt.Errorf("%s: load the AWS configuration: %w", function, err)
	}
	counted := plain.Copy()
	counted.APIOptions = append(counted.APIOptions, m.AWSCallCounter())
	return &Base{Config: cfg, Log: log, Metrics: m, AWS: counted, AWSUncounted: plain}, nil
}

// Exit reports a start-up failure on standard error and ends the process: Lambda shows the
// message as the init error.
func Exit(err error) {
	fmt.Fprintln(os.Stderr, "rootguard:", err)
	os.Exit(1)
}
