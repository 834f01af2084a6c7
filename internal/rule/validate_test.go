package rule

import (
	"slices"
	"strings"
	"testing"

	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/function"
	"github.com/rootguard/rootguard/internal/route"
)

// TestValidateCarried: a rule that forgets what it must carry fails by name.
func TestValidateCarried(t *testing.T) {
	eval := func(*Ctx) []Hit { return nil }
	for _, tc := range []struct {
		name string
		r    Rule
		want string
	}{
		{"no types", Rule{ID: "X-1", Group: GroupRoot, Lower: exceptionLowers, Events: []route.Event{anyRootCall}, eval: eval}, "rule X-1: no ASFF types"},
		{"bad type", Rule{ID: "X-2", Group: GroupRoot, ASFFTypes: []string{"Root/Usage"}, Lower: exceptionLowers, Events: []route.Event{anyRootCall}, eval: eval}, `rule X-2: ASFF type "Root/Usage"`},
		{"no lowering", Rule{ID: "X-3", Group: GroupRoot, ASFFTypes: []string{typeRootUsage}, Events: []route.Event{anyRootCall}, eval: eval}, "rule X-3: says nothing of exceptions"},
		{"two lowerings", Rule{ID: "X-4", Group: GroupRoot, ASFFTypes: []string{typeRootUsage}, Lower: Lowering{Never: true, Exempt: true}, Events: []route.Event{anyRootCall}, eval: eval}, "rule X-4: Lower says more than one"},
		{"no events", Rule{ID: "X-5", Group: GroupRoot, ASFFTypes: []string{typeRootUsage}, Lower: exceptionLowers, eval: eval}, "rule X-5: evaluates events but declares none"},
		{"custody without function", Rule{ID: "X-6", Group: GroupCustody, ASFFTypes: []string{typeRootUsage}, Lower: exempt, Events: []route.Event{apiCall("iam", "CreateRole")}, eval: eval}, "rule X-6: event 0: group custody is evaluated by 2 functions"},
		{"wrong function", Rule{ID: "X-7", Group: GroupRoot, ASFFTypes: []string{typeRootUsage}, Lower: exceptionLowers, Events: inPart(function.Onboarding, "", anyRootCall), eval: eval}, `rule X-7: event 0: function "onboarding" does not evaluate group root`},
		{"posture without check", Rule{ID: "X-8", Group: GroupPosture, ASFFTypes: []string{typeRootUsage}, Lower: neverLowered}, "rule X-8: a posture rule without a posture check"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var msgs []string
			for _, err := range validateCarried(&tc.r) {
				msgs = append(msgs, err.Error())
			}
			if !strings.Contains(strings.Join(msgs, "\n"), tc.want) {
				t.Errorf("errors %q, want one starting %q", msgs, tc.want)
			}
		})
	}
	for _, r := range catalogue {
		if errs := validateCarried(r); len(errs) > 0 {
			t.Errorf("%v", errs)
		}
	}
}

// TestResolvedCarriesTypes: a resolution of an open finding stored without its ASFF types
// carries its rule's, as the finding did when it was raised.
func TestResolvedCarriesTypes(t *testing.T) {
	got := Resolved(finding.Finding{Rule: scpMissing.ID}, "2026-11-30T00:00:00Z", finding.ResolvedByAudit)
	if !slices.Equal(got.Types, scpMissing.ASFFTypes) || len(got.Types) == 0 {
		t.Errorf("types %v, want %v", got.Types, scpMissing.ASFFTypes)
	}
}
