package heartbeat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"

	"github.com/rootguard/rootguard/internal/canary"
	"github.com/rootguard/rootguard/internal/metric"
	"github.com/rootguard/rootguard/internal/testenv/awsfake"
)

const (
	mgmt    = "111111111111"
	roleARN = "arn:aws:iam::" + mgmt + ":role/" + canary.RoundTripRoleName
)

// roundTripHandler is a heartbeat whose round trip writes through the real SSM client to the
// fake Parameter Store, signed as the management account's heartbeat role session.
func roundTripHandler(t *testing.T, regions ...string) (*Handler, *awsfake.Server, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	fake, err := awsfake.New(awsfake.Sample(), awsfake.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	client := ssm.New(ssm.Options{
		Region: "eu-west-1", BaseEndpoint: aws.String(fake.URL(awsfake.SSM)),
		Credentials: credentials.NewStaticCredentialsProvider("ASIA"+mgmt+"ROLE", "fake", "fake-token"),
	})
	var logs, metrics bytes.Buffer
	h := &Handler{
		API: &fakeBus{}, Bus: "rootguard", Log: slog.New(slog.NewJSONHandler(&logs, nil)),
		Metrics:   metric.New(&metrics, "heartbeat"),
		RoundTrip: &RoundTrip{API: client, Regions: regions, ManagementAccount: mgmt, RoleARN: roleARN},
	}
	return h, fake, &logs, &metrics
}

// TestRoundTripPutsAndCounts: a heartbeat writes the parameter once per region in the
// management account (value: its time); each recorded call that comes back is counted by its
// region as CloudTrailRoundTrip, in an EMF line.
func TestRoundTripPutsAndCounts(t *testing.T) {
	ctx := context.Background()
	h, fake, _, metrics := roundTripHandler(t, "us-east-1", "eu-west-1", "ap-southeast-2")
	if err := h.Handle(ctx, scheduled(ScheduledSource, "2026-11-27T10:10:00Z")); err != nil {
		t.Fatal(err)
	}
	puts := fake.SSMPuts()
	var regions []string
	for _, p := range puts {
		regions = append(regions, p.Region)
		if p.Account != mgmt || p.Name != "/rootguard/heartbeat" || p.Value != "2026-11-27T10:10:00Z" || p.Type != "String" || !p.Overwrite {
			t.Errorf("put %+v: want the management account's String /rootguard/heartbeat = the heartbeat's time, overwritten", p)
		}
	}
	slices.Sort(regions)
	if strings.Join(regions, ",") != "ap-southeast-2,eu-west-1,us-east-1" {
		t.Errorf("puts in %v, want one per region", regions)
	}
	metrics.Reset()
	for _, p := range puts {
		if p.Region == "ap-southeast-2" {
			continue // its call never comes back
		}
		if err := h.Handle(ctx, p.CloudTrailEvent(roleARN)); err != nil {
			t.Fatalf("round trip from %s: %v", p.Region, err)
		}
	}
	got := map[string]float64{}
	for _, line := range strings.Split(strings.TrimSpace(metrics.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("metric line %q: %v", line, err)
		}
		v, _ := m[canary.RoundTripMetric].(float64)
		got[m["Region"].(string)] += v
		if m["Function"] != canary.RoundTripFunction || !strings.Contains(line, `"Namespace":"RootGuard"`) {
			t.Errorf("metric line %s: want namespace RootGuard, Function %s", line, canary.RoundTripFunction)
		}
	}
	if got["us-east-1"] != 1 || got["eu-west-1"] != 1 || len(got) != 2 {
		t.Errorf("round trips counted %v, want us-east-1 and eu-west-1 once", got)
	}
}

// TestRoundTripRefusals: only the heartbeat role's PutParameter of the parameter, recorded in
// the management account (envelope and record agreeing), counts; anything else is refused with
// its reason, and nothing is counted.
func TestRoundTripRefusals(t *testing.T) {
	ctx := context.Background()
	h, fake, _, metrics := roundTripHandler(t, "us-east-1")
	if err := h.Handle(ctx, scheduled(ScheduledSource, "2026-11-27T10:10:00Z")); err != nil {
		t.Fatal(err)
	}
	good := fake.SSMPuts()[0].CloudTrailEvent(roleARN)
	change := func(f func(ev map[string]any, d map[string]any)) []byte {
		var ev map[string]any
		_ = json.Unmarshal(good, &ev)
		f(ev, ev["detail"].(map[string]any))
		b, _ := json.Marshal(ev)
		return b
	}
	for name, c := range map[string]struct {
		raw  []byte
		want string
	}{
		"a member account's parameter": {change(func(ev, d map[string]any) { ev["account"], d["recipientAccountId"] = "444455556666", "444455556666" }),
			`recorded in account "444455556666"`},
		"envelope and record disagree": {change(func(ev, d map[string]any) { d["recipientAccountId"] = "444455556666" }), `recorded in account "444455556666" (envelope "111111111111")`},
		"another parameter":            {change(func(_, d map[string]any) { d["requestParameters"].(map[string]any)["name"] = "/other" }), `of "/other" is not the round-trip call`},
		"another caller": {change(func(_, d map[string]any) {
			d["userIdentity"].(map[string]any)["sessionContext"].(map[string]any)["sessionIssuer"].(map[string]any)["arn"] = "arn:aws:iam::111111111111:role/admin"
		}), `made by "arn:aws:iam::111111111111:role/admin", not the heartbeat role`},
		"another call":    {change(func(_, d map[string]any) { d["eventName"] = "DeleteParameter" }), "ssm.amazonaws.com:DeleteParameter"},
		"no region":       {change(func(ev, d map[string]any) { d["awsRegion"] = "" }), `region "" of the record`},
		"region mismatch": {change(func(ev, d map[string]any) { ev["region"] = "eu-west-1" }), `region "us-east-1" of the record and "eu-west-1" of the envelope`},
	} {
		t.Run(name, func(t *testing.T) {
			metrics.Reset()
			err := h.Handle(ctx, c.raw)
			if !errors.Is(err, ErrNotRoundTrip) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want %v saying %q", err, ErrNotRoundTrip, c.want)
			}
			if strings.Contains(metrics.String(), canary.RoundTripMetric) {
				t.Errorf("a refused event was counted: %s", metrics.String())
			}
		})
	}
	h.RoundTrip = nil
	if err := h.Handle(ctx, good); !errors.Is(err, ErrNotRoundTrip) || !strings.Contains(err.Error(), "not configured") {
		t.Errorf("without a round trip configured: %v", err)
	}
}

// TestRoundTripPutFailure: a region whose write fails fails the invocation (Lambda retries it,
// then keeps it with the reason), naming the region; the other regions are still written.
func TestRoundTripPutFailure(t *testing.T) {
	h, fake, logs, _ := roundTripHandler(t, "us-east-1", "eu-west-1")
	h.RoundTrip.API = &denyRegion{SSMAPI: h.RoundTrip.API, region: "us-east-1"}
	err := h.Handle(context.Background(), scheduled(ScheduledSource, "2026-11-27T10:10:00Z"))
	if err == nil || !strings.Contains(err.Error(), "us-east-1") || !strings.Contains(err.Error(), "AccessDeniedException") {
		t.Fatalf("error %v, want the failed region and its reason", err)
	}
	if puts := fake.SSMPuts(); len(puts) != 1 || puts[0].Region != "eu-west-1" {
		t.Errorf("puts %+v, want eu-west-1 still written", puts)
	}
	if !strings.Contains(logs.String(), "round-trip parameter not put") {
		t.Errorf("the failure is not logged:\n%s", logs.String())
	}
}

// denyRegion answers every PutParameter in one region AccessDeniedException (as a region-deny
// policy would) and passes the others to the real client.
type denyRegion struct {
	SSMAPI
	region string
}

func (d *denyRegion) PutParameter(ctx context.Context, in *ssm.PutParameterInput, opts ...func(*ssm.Options)) (*ssm.PutParameterOutput, error) {
	var o ssm.Options
	for _, f := range opts {
		f(&o)
	}
	if o.Region == d.region {
		return nil, &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not authorized (injected)"}
	}
	return d.SSMAPI.PutParameter(ctx, in, opts...)
}
