package awsorg

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cloudtrailapi "github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/rootguard/rootguard/internal/cloudtrail"
	"github.com/rootguard/rootguard/internal/org"
	"github.com/rootguard/rootguard/internal/testenv/awsfake"
)

const auditRole = "rootguard-audit"

// clock is a settable clock for TTL tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a fake AWS and live facts reading from it.
type env struct {
	fake  *awsfake.Server
	facts *Facts
	clock *clock
	ref   *org.Snapshot // the seed, as the reference Facts
}

// testClients builds real SDK clients pointed at the fake, with the SDK's standard retryer
// (a tiny backoff keeps throttling tests quick).
func testClients(s *awsfake.Server, attempts int) Clients {
	cfg := aws.Config{
		Region:      "eu-west-1",
		Credentials: credentials.NewStaticCredentialsProvider(awsfake.CentralAccessKeyID, "secret", ""),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = attempts
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
			})
		},
	}
	orgs := organizations.NewFromConfig(cfg, func(o *organizations.Options) {
		o.BaseEndpoint, o.Region = aws.String(s.URL(awsfake.Organizations)), OrganizationsRegion
	})
	iamc := iam.NewFromConfig(cfg, func(o *iam.Options) {
		o.BaseEndpoint, o.Region = aws.String(s.URL(awsfake.IAM)), OrganizationsRegion
	})
	stsc := sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(s.URL(awsfake.STS)) })
	trails := cloudtrailapi.NewFromConfig(cfg, func(o *cloudtrailapi.Options) { o.BaseEndpoint = aws.String(s.URL(awsfake.CloudTrail)) })
	return Clients{Organizations: orgs, STS: stsc, IAM: iamc, Trails: trails}
}

func setup(t *testing.T, doc org.SnapshotDoc, cfg Config) *env {
	t.Helper()
	return setupFake(t, doc, cfg, awsfake.Options{RoleName: auditRole})
}

func setupFake(t *testing.T, doc org.SnapshotDoc, cfg Config, opts awsfake.Options) *env {
	t.Helper()
	fake, err := awsfake.New(doc, opts)
	if err != nil {
		t.Fatalf("awsfake.New: %v", err)
	}
	t.Cleanup(fake.Close)
	ref, err := org.NewSnapshot(doc)
	if err != nil {
		t.Fatalf("NewSnapshot: %v", err)
	}
	c := &clock{t: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
	if cfg.RoleName == "" && cfg.Mode != ModeAssumeRoot {
		cfg.RoleName = auditRole
	}
	cfg.Now = c.Now
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	return &env{fake: fake, facts: New(cfg, testClients(fake, 3)), clock: c, ref: ref}
}

// view returns a view bound to the test's context.
func (e *env) view(t *testing.T) *View { return e.facts.For(t.Context()) }

// orgCalls counts the Organizations requests the fake received.
func (e *env) orgCalls() int { return e.fake.Calls(awsfake.Organizations, "") }

// record builds a CloudTrail event: an Organizations call by the management account unless
// fields say otherwise.
func record(t *testing.T, fields map[string]any) *cloudtrail.Event {
	t.Helper()
	r := map[string]any{
		"eventVersion":       "1.09",
		"eventTime":          "2026-11-26T12:00:00Z",
		"eventSource":        cloudtrail.SourceOrganizations,
		"awsRegion":          "us-east-1",
		"eventID":            fmt.Sprintf("ev-%d", time.Now().UnixNano()),
		"eventType":          "AwsApiCall",
		"recipientAccountId": "111111111111",
		"userIdentity":       map[string]any{"type": "AssumedRole", "arn": "arn:aws:sts::111111111111:assumed-role/admin/alex", "accountId": "111111111111"},
	}
	for k, v := range fields {
		r[k] = v
	}
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := cloudtrail.Decode(data)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	return ev
}

func orgEvent(t *testing.T, name string, params map[string]any) *cloudtrail.Event {
	return record(t, map[string]any{"eventName": name, "requestParameters": params})
}

func isNotFoundErr(err error) bool { return errors.Is(err, org.ErrNotFound) }

func ctxWithTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}
