package forwarder

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/google/go-cmp/cmp"

	"github.com/rootguard/rootguard/internal/rule"
	"github.com/rootguard/rootguard/internal/testenv/awsfake"
)

const centralBus = "arn:aws:events:eu-west-1:999988887777:event-bus/rootguard"

// TestCheckAgainstTheFake reads the forwarding rules of two accounts in two regions through the
// audit role with the real SDK clients: an intact account, and one whose administrator deleted
// one rule, disabled another and retargeted the third in one region.
func TestCheckAgainstTheFake(t *testing.T) {
	doc := awsfake.Sample()
	fake, err := awsfake.New(doc, awsfake.Options{RoleName: "rootguard-audit"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	good, bad := doc.Accounts[1].ID, doc.Accounts[2].ID
	regions := []string{"us-east-1", "eu-west-1"}
	for _, a := range []string{good, bad} {
		for _, r := range regions {
			for _, n := range RuleNames() {
				fake.PutRule(awsfake.ForwardingRule{Account: a, Region: r, Name: n, State: "ENABLED", Targets: []string{centralBus}})
			}
		}
	}
	names := RuleNames()
	fake.DeleteRule(bad, "eu-west-1", names[0])
	fake.PutRule(awsfake.ForwardingRule{Account: bad, Region: "eu-west-1", Name: names[1], State: "DISABLED", Targets: []string{centralBus}})
	fake.PutRule(awsfake.ForwardingRule{Account: bad, Region: "eu-west-1", Name: names[2], State: "ENABLED", Targets: []string{"arn:aws:events:eu-west-1:" + bad + ":event-bus/default"}})

	cfg := aws.Config{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider(awsfake.CentralAccessKeyID, "secret", "")}
	c := &Checker{
		STS: sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(fake.URL(awsfake.STS)) }),
		Events: func(region string, creds aws.CredentialsProvider) EventsAPI {
			return eventbridge.NewFromConfig(cfg, func(o *eventbridge.Options) {
				o.BaseEndpoint, o.Region, o.Credentials = aws.String(fake.URL(awsfake.EventBridge)), region, creds
			})
		},
		RoleName: "rootguard-audit", Regions: regions, CentralBus: centralBus, Workers: 3,
	}
	got := c.Check(context.Background(), []string{good, bad, "000000000099"})
	if len(got) != 3*len(regions)*len(names) {
		t.Fatalf("%d states, want %d", len(got), 3*len(regions)*len(names))
	}
	var broken []rule.ForwarderState
	unknown := 0
	for _, s := range got {
		switch {
		case s.Unknown != "":
			unknown++
			if s.Account != "000000000099" {
				t.Errorf("unexpected unknown state %+v", s)
			}
		case !s.Found || !s.Enabled || !s.TargetsCentral:
			broken = append(broken, s)
		}
	}
	want := []rule.ForwarderState{
		{Account: bad, Region: "eu-west-1", Rule: names[0]},
		{Account: bad, Region: "eu-west-1", Rule: names[1], Found: true, TargetsCentral: true},
		{Account: bad, Region: "eu-west-1", Rule: names[2], Found: true, Enabled: true},
	}
	if diff := cmp.Diff(want, broken); diff != "" {
		t.Errorf("broken forwarders (-want +got):\n%s", diff)
	}
	if unknown != len(regions)*len(names) {
		t.Errorf("%d unknown states, want every rule of the account without an audit role", unknown)
	}
	if n := fake.Calls(awsfake.EventBridge, "DescribeRule"); n != 2*len(regions)*len(names) {
		t.Errorf("%d DescribeRule calls, want one per rule of the two readable accounts", n)
	}
	eng, err := rule.NewEngine(rule.Config{StaxDomains: []string{"stax.example"}})
	if err != nil {
		t.Fatal(err)
	}
	fs := eng.ForwarderAudit(nil, got, mustTime(t))
	if len(fs) != 3 {
		t.Fatalf("%d findings, want 3", len(fs))
	}
	for _, f := range fs {
		if f.Rule != rule.ForwarderTampered || f.Severity.String() != "HIGH" || f.AccountID != bad || f.Region != "eu-west-1" {
			t.Errorf("finding %s %s %s %s", f.Rule, f.Severity, f.AccountID, f.Region)
		}
	}
}

func mustTime(t *testing.T) (at time.Time) {
	t.Helper()
	at, err := time.Parse(time.RFC3339, "2026-11-30T06:00:00Z")
	if err != nil {
		t.Fatal(err)
	}
	return at
}
