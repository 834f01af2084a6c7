package awsenv

import (
	"errors"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/google/go-cmp/cmp"
)

// creds are a complete set of function credentials.
var creds = map[string]string{EnvAccessKeyID: "ASIAEXAMPLE", EnvSecretAccessKey: "secret", EnvSessionToken: "token"}

// with returns creds plus the given variables ("" values are kept, as unset ones read "").
func with(kv ...string) map[string]string {
	m := map[string]string{}
	for k, v := range creds {
		m[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func lookup(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadEnvironment(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		region  string
		session string
		wantErr error
	}{
		{name: "lambda", env: with(EnvRegion, "eu-west-1"), region: "eu-west-1", session: "token"},
		{name: "default region", env: with(EnvDefaultRegion, "ap-southeast-2"), region: "ap-southeast-2", session: "token"},
		{name: "AWS_REGION wins", env: with(EnvRegion, "eu-west-1", EnvDefaultRegion, "us-east-2"), region: "eu-west-1", session: "token"},
		{name: "long-term keys", env: with(EnvRegion, "eu-west-1", EnvSessionToken, ""), region: "eu-west-1"},
		{name: "no region", env: with(), wantErr: ErrNoRegion},
		{name: "no credentials", env: map[string]string{EnvRegion: "eu-west-1"}, wantErr: ErrNoCredentials},
		{name: "no secret", env: map[string]string{EnvRegion: "eu-west-1", EnvAccessKeyID: "ASIAEXAMPLE"}, wantErr: ErrNoCredentials},
		{name: "no key id", env: map[string]string{EnvRegion: "eu-west-1", EnvSecretAccessKey: "secret"}, wantErr: ErrNoCredentials},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Load(lookup(tt.env))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Load: err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if cfg.Region != tt.region {
				t.Errorf("Region = %q, want %q", cfg.Region, tt.region)
			}
			got, err := cfg.Credentials.Retrieve(t.Context())
			if err != nil {
				t.Fatalf("Retrieve: %v", err)
			}
			want := aws.Credentials{AccessKeyID: "ASIAEXAMPLE", SecretAccessKey: "secret", SessionToken: tt.session}
			if diff := cmp.Diff(want, got, cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Source" }, cmp.Ignore())); diff != "" {
				t.Errorf("credentials (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadErrorsNameTheVariables(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{EnvRegion: "eu-west-1"}, "no AWS credentials in the environment: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (the Lambda runtime sets them from the function's role)"},
		{map[string]string{EnvRegion: "eu-west-1", EnvAccessKeyID: "ASIAEXAMPLE"}, "no AWS credentials in the environment: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"},
		{map[string]string{EnvRegion: "eu-west-1", EnvSecretAccessKey: "s3cr3t"}, "no AWS credentials in the environment: AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not"},
		{creds, "no AWS region in the environment: set AWS_REGION"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			_, err := Load(lookup(tt.env))
			if err == nil || err.Error() != tt.want {
				t.Errorf("Load: err = %v, want %q", err, tt.want)
			}
		})
	}
}

// endpoints builds one client of each service rootguard's functions use from cfg and returns
// each one's base endpoint ("" for the SDK's own).
func endpoints(cfg aws.Config) map[string]string {
	str := func(p *string) string { return aws.ToString(p) }
	return map[string]string{
		"dynamodb":      str(dynamodb.NewFromConfig(cfg).Options().BaseEndpoint),
		"eventbridge":   str(eventbridge.NewFromConfig(cfg).Options().BaseEndpoint),
		"iam":           str(iam.NewFromConfig(cfg).Options().BaseEndpoint),
		"organizations": str(organizations.NewFromConfig(cfg).Options().BaseEndpoint),
		"securityhub":   str(securityhub.NewFromConfig(cfg).Options().BaseEndpoint),
		"sns":           str(sns.NewFromConfig(cfg).Options().BaseEndpoint),
		"sts":           str(sts.NewFromConfig(cfg).Options().BaseEndpoint),
	}
}

// clearEndpoints unsets every endpoint variable the test process may have: the SDK clients
// also look at the process environment to tell a service override from the global one.
func clearEndpoints(t *testing.T) {
	t.Helper()
	for _, s := range []string{"", "_DYNAMODB", "_EVENTBRIDGE", "_IAM", "_ORGANIZATIONS", "_SECURITYHUB", "_SNS", "_STS"} {
		t.Setenv(EnvEndpointURL+s, "")
		os.Unsetenv(EnvEndpointURL + s)
	}
	t.Setenv(EnvIgnoreEndpoints, "")
}

func TestEndpointOverrides(t *testing.T) {
	none := map[string]string{"dynamodb": "", "eventbridge": "", "iam": "", "organizations": "", "securityhub": "", "sns": "", "sts": ""}
	all := func(u string, overrides ...string) map[string]string {
		m := map[string]string{}
		for k := range none {
			m[k] = u
		}
		for i := 0; i+1 < len(overrides); i += 2 {
			m[overrides[i]] = overrides[i+1]
		}
		return m
	}
	tests := []struct {
		name string
		env  map[string]string
		want map[string]string
	}{
		{"none", nil, none},
		{"global", map[string]string{"AWS_ENDPOINT_URL": "http://all:1"}, all("http://all:1")},
		{"per service", map[string]string{
			"AWS_ENDPOINT_URL_DYNAMODB": "http://ddb:1", "AWS_ENDPOINT_URL_EVENTBRIDGE": "http://eb:1",
			"AWS_ENDPOINT_URL_IAM": "http://iam:1", "AWS_ENDPOINT_URL_ORGANIZATIONS": "http://orgs:1",
			"AWS_ENDPOINT_URL_SECURITYHUB": "http://sh:1", "AWS_ENDPOINT_URL_SNS": "http://sns:1", "AWS_ENDPOINT_URL_STS": "http://sts:1",
		}, map[string]string{"dynamodb": "http://ddb:1", "eventbridge": "http://eb:1", "iam": "http://iam:1",
			"organizations": "http://orgs:1", "securityhub": "http://sh:1", "sns": "http://sns:1", "sts": "http://sts:1"}},
		{"service wins over global", map[string]string{"AWS_ENDPOINT_URL": "http://all:1", "AWS_ENDPOINT_URL_SNS": "http://sns:1"},
			all("http://all:1", "sns", "http://sns:1")},
		{"ignored", map[string]string{"AWS_ENDPOINT_URL": "http://all:1", "AWS_ENDPOINT_URL_SNS": "http://sns:1",
			"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}, none},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEndpoints(t)
			t.Setenv(EnvRegion, "eu-west-1")
			for k, v := range creds {
				t.Setenv(k, v)
			}
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			cfg, err := Load(os.Getenv)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, endpoints(cfg)); diff != "" {
				t.Errorf("client endpoints (-want +got):\n%s", diff)
			}
		})
	}
}

func TestServiceEndpointName(t *testing.T) {
	env := map[string]string{"AWS_ENDPOINT_URL_SECURITYHUB": "http://sh", "AWS_ENDPOINT_URL_SOME_SERVICE": "http://x"}
	e := Endpoints{Getenv: lookup(env)}
	for id, want := range map[string]string{"SecurityHub": "http://sh", "Some Service": "http://x", "SNS": ""} {
		if got := e.ServiceEndpoint(id); got != want {
			t.Errorf("ServiceEndpoint(%q) = %q, want %q", id, got, want)
		}
	}
}
