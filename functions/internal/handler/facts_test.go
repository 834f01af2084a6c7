package handler

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rootguard/rootguard/internal/cloudtrail"
	"github.com/rootguard/rootguard/internal/function"
	"github.com/rootguard/rootguard/internal/routing"
	"github.com/rootguard/rootguard/internal/rule"
)

// TestFactsOnlyEventsDropFactsAndRaiseNothing: an event a function takes only for the
// organization facts it changes (route.FactChangePatterns) is invalidated and evaluated by none of
// the function's rules, even a rule of a group it runs that would raise on it (an operator's
// exception tag is scp-guard's to raise, not root-activity's).
func TestFactsOnlyEventsDropFactsAndRaiseNothing(t *testing.T) {
	for _, tc := range []struct {
		fn     string
		groups []rule.Group
		file   string
	}{
		{function.RootActivity, []rule.Group{rule.GroupRoot, rule.GroupCustody}, "EXCEPTION-GRANTED/HIGH.operator-tags-organization-root.json"},
		{function.Onboarding, []rule.Group{rule.GroupOnboarding}, "SCP-DETACHED/CRITICAL.protection-detached-from-root.json"},
		{function.SCPGuard, []rule.Group{rule.GroupProtection, rule.GroupCustody}, "ONBOARD-REPORT/INFORMATIONAL.invited-account-accepted-handshake.json"},
		{function.RootActivity, []rule.Group{rule.GroupRoot, rule.GroupCustody}, "ACCOUNT-LEFT-ORG/none.close-account.json"},
	} {
		t.Run(tc.fn+"/"+tc.file, func(t *testing.T) {
			facts, out, log := sampleOrg(t), &publisher{}, &bytes.Buffer{}
			h := evaluator(t, tc.fn, facts, out, log)
			h.Groups = tc.groups
			raw := readSample(t, tc.file)
			ev, err := cloudtrail.Decode(raw)
			if err != nil {
				t.Fatal(err)
			}
			if routing.Evaluates(tc.fn, Fields(ev)) {
				t.Fatalf("%s evaluates %s: the case tests nothing", tc.fn, ev.EventName)
			}
			if err := h.Handle(context.Background(), raw); err != nil {
				t.Fatalf("Handle: %v", err)
			}
			if len(out.got) != 0 {
				t.Errorf("published %d findings, want none: %+v", len(out.got), out.got)
			}
			if diff := cmp.Diff([]string{ev.ID()}, facts.invalidated); diff != "" {
				t.Errorf("invalidated (-want +got):\n%s", diff)
			}
			if !strings.Contains(log.String(), `"msg":"cached facts dropped"`) {
				t.Errorf("no log line says the facts were dropped:\n%s", log)
			}
		})
	}
	// The first case would raise a finding had root-activity evaluated it.
	raw := readSample(t, "EXCEPTION-GRANTED/HIGH.operator-tags-organization-root.json")
	ev, _ := cloudtrail.Decode(raw)
	if fs := engine(t).EvaluateWith(ev, sampleOrg(t), nil, rule.GroupRoot, rule.GroupCustody); len(fs) == 0 {
		t.Error("root-activity's groups raise nothing on the operator's tag: the first case tests nothing")
	}
}
