package functions

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rootguard/rootguard/events"
	"github.com/rootguard/rootguard/internal/aws/forwarder"
	"github.com/rootguard/rootguard/internal/function"
	"github.com/rootguard/rootguard/internal/rule"
	"github.com/rootguard/rootguard/internal/testenv/awsfake"
)

// centralAccount is the account the harness's canaries come from (the management account of the
// sample organization doubles as the central account here): ROOTGUARD_CENTRAL_ACCOUNT.
const centralAccount = "111111111111"

// forged: every forged sample, handed straight to the evaluators (as if a rule had matched it),
// is refused by each with the reason "not from AWS", and nothing reaches the findings bus.
func (h *e2e) forged(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	h.stopEvaluators()
	// The sample events AWS did not write (events/README.md): the evaluators refuse them, so
	// they are not replayed as samples.
	files, err := events.Folder(events.Forged)
	if err != nil {
		t.Fatalf("no forged sample: %v", err)
	}
	busStart := len(h.fake.Events())
	for _, f := range files {
		for i, raw := range readEvents(t, f.Path) {
			for _, fn := range []string{function.RootActivity, function.SCPGuard} {
				err := h.evaluator(t, fn).invoke(ctx, raw)
				if err == nil || !strings.Contains(err.Error(), "event not from AWS") {
					t.Errorf("%s event %d through %s: %v, want a refusal: event not from AWS", f.Name(), i+1, fn, err)
				}
			}
		}
	}
	if got := h.fake.Events()[busStart:]; len(got) > 0 {
		t.Errorf("forged events put %d findings on the bus", len(got))
	}
	for _, fn := range []string{function.RootActivity, function.SCPGuard} {
		if log := h.evaluator(t, fn).proc.out.String(); !strings.Contains(log, `"reason":"not from AWS"`) {
			t.Errorf("%s logged no refusal reason:\n%s", fn, log)
		}
	}
}

// forwarderRegion is the region the harness's forwarder audit reads (ROOTGUARD_FORWARD_REGIONS).
const forwarderRegion = "us-east-1"

// centralBusARN is the central bus every forwarding rule targets (ROOTGUARD_CENTRAL_BUS_ARN).
var centralBusARN = "arn:aws:events:eu-west-1:" + centralAccount + ":event-bus/rootguard"

// seedForwarders gives every account of the fake organization its intact forwarding rules.
func (h *e2e) seedForwarders() {
	for _, a := range h.fake.Doc().Accounts {
		for _, name := range forwarder.RuleNames() {
			h.fake.PutRule(awsfake.ForwardingRule{Account: a.ID, Region: forwarderRegion, Name: name,
				State: "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS", Targets: []string{centralBusARN}})
		}
	}
}

// forwarderDeleted: a member account's administrator deletes one forwarding rule (whose own
// DeleteRule event is never forwarded); the next audit raises FORWARDER-TAMPERED for that account
// and region, through the audit role and the real EventBridge client, and nothing for the rest.
func (h *e2e) forwarderDeleted(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	h.stopEvaluators()
	const member = "333333333333"
	name := forwarder.RuleName(function.RootActivity)
	h.fake.DeleteRule(member, forwarderRegion, name)
	defer h.seedForwarders()
	before := h.fake.Calls(awsfake.EventBridge, "DescribeRule")
	busStart := len(h.fake.Events())
	h.runAudit(ctx, t)
	var got []string
	for _, f := range h.checkBus(t, h.fake.Events()[busStart:]) {
		if f.Rule == rule.ForwarderTampered {
			got = append(got, f.AccountID+" "+f.Region+" "+f.Severity.String()+" "+f.Title)
		}
	}
	want := []string{member + " " + forwarderRegion + " HIGH rootguard forwarder " + name + " is missing in " + forwarderRegion}
	if !slices.Equal(got, want) {
		t.Errorf("FORWARDER-TAMPERED findings %q, want %q\n%s", got, want, h.logs())
	}
	if h.fake.Calls(awsfake.EventBridge, "DescribeRule") == before {
		t.Error("the audit described no forwarding rule")
	}
}
