package awsfake

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/rootguard/rootguard/internal/cloudtrail"
)

// TestSSM drives the fake Parameter Store with the real SDK client: parameters are per region
// and account, overwriting needs Overwrite, every put is recorded, and the recorded put plays
// the trail as a CloudTrail event.
func TestSSM(t *testing.T) {
	s := start(t, Sample(), Options{})
	c := ssm.New(ssm.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(s.URL(SSM)),
		Credentials: credentials.NewStaticCredentialsProvider("ASIA111111111111ROLE", "fake", "fake-token"),
	})
	ctx := context.Background()
	inRegion := func(r string) func(*ssm.Options) { return func(o *ssm.Options) { o.Region = r } }
	put := func(region, value string, overwrite bool) (*ssm.PutParameterOutput, error) {
		return c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/rootguard/heartbeat"), Value: aws.String(value),
			Type: ssmtypes.ParameterTypeString, Overwrite: aws.Bool(overwrite)}, inRegion(region))
	}
	if out, err := put("us-east-1", "2026-11-27T10:00:00Z", true); err != nil || out.Version != 1 {
		t.Fatalf("first put: %+v, %v", out, err)
	}
	if out, err := put("us-east-1", "2026-11-27T10:10:00Z", true); err != nil || out.Version != 2 {
		t.Fatalf("overwrite: %+v, %v", out, err)
	}
	var exists *ssmtypes.ParameterAlreadyExists
	if _, err := put("us-east-1", "x", false); !errors.As(err, &exists) {
		t.Errorf("put without overwrite: %v, want ParameterAlreadyExists", err)
	}
	if out, err := put("eu-west-1", "2026-11-27T10:10:00Z", true); err != nil || out.Version != 1 {
		t.Errorf("another region is another parameter: %+v, %v", out, err)
	}
	got, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/rootguard/heartbeat")}, inRegion("us-east-1"))
	if err != nil || aws.ToString(got.Parameter.Value) != "2026-11-27T10:10:00Z" || got.Parameter.Version != 2 {
		t.Errorf("get: %+v, %v", got, err)
	}
	var notFound *ssmtypes.ParameterNotFound
	if _, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/nothing")}); !errors.As(err, &notFound) {
		t.Errorf("get of a missing parameter: %v, want ParameterNotFound", err)
	}
	puts := s.SSMPuts()
	if len(puts) != 3 || puts[0].Account != "111111111111" || puts[2].Region != "eu-west-1" {
		t.Fatalf("recorded puts %+v", puts)
	}
	raw := puts[2].CloudTrailEvent("arn:aws:iam::111111111111:role/rootguard-heartbeat")
	ev, err := cloudtrail.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	var env struct {
		Source, Account, Region string
	}
	_ = json.Unmarshal(raw, &env)
	if env.Source != "aws.ssm" || env.Account != "111111111111" || env.Region != "eu-west-1" || ev.EventName != "PutParameter" ||
		ev.AWSRegion != "eu-west-1" || ev.RecipientAccountID != "111111111111" || ev.Param("name") != "/rootguard/heartbeat" {
		t.Errorf("CloudTrail event %s", raw)
	}
}
