package awsorg

import (
	"encoding/json"
	"testing"

	"github.com/rootguard/rootguard/internal/cloudtrail"
	"github.com/rootguard/rootguard/internal/rule"
	"github.com/rootguard/rootguard/internal/testenv/awsfake"
)

// TestBudgetThroughTheEngine measures the Organizations calls the real rule engine makes through
// the live facts for an SCP event on a cold cache, and for a root event on a warm one. The
// issue-3 budget (depth + 3) holds for the facts the protection rules read; looking up approved
// exception tags (rootguard:exception, a later requirement) adds one ListTagsForResource per
// resource the finding is about (the policy, the target, the management account and the root),
// each cached like every other fact. Both counts are asserted separately.
func TestBudgetThroughTheEngine(t *testing.T) {
	eng, err := rule.NewEngine(rule.Config{StaxDomains: []string{"stax.example"}})
	if err != nil {
		t.Fatal(err)
	}
	params := func(kv ...string) map[string]json.RawMessage {
		m := map[string]json.RawMessage{}
		for i := 0; i < len(kv); i += 2 {
			b, _ := json.Marshal(kv[i+1])
			m[kv[i]] = b
		}
		return m
	}
	orgsEvent := func(name string, p map[string]json.RawMessage) *cloudtrail.Event {
		return &cloudtrail.Event{Record: cloudtrail.Record{EventSource: cloudtrail.SourceOrganizations, EventName: name,
			EventID: "budget-" + name, EventTime: "2026-11-20T10:00:00Z", RecipientAccountID: "111111111111",
			UserIdentity: &cloudtrail.UserIdentity{Type: "AssumedRole", ARN: "arn:aws:sts::111111111111:assumed-role/admin/a"}, RequestParameters: p}}
	}
	for _, tc := range []struct {
		name     string
		ev       *cloudtrail.Event
		depth    int // parents of the account concerned (the management account: 1)
		maxTags  int // ListTagsForResource pages: one per resource, more where a resource has more tags than the fake's page of 2
		wantRule string
		// extra are calls beyond depth+3 that effectiveness by content needs: a move compares
		// the protection SCPs at its source with those at its destination, so it also lists the
		// SCPs of the source's OUs (web, production), and reads the content of the protection
		// SCP it finds (DescribePolicy: a listing gives only names).
		extra int
	}{
		{"detach from the root", orgsEvent("DetachPolicy", params("policyId", "p-staxprot1", "targetId", "r-ab12")), 1, 4, "SCP-DETACHED", 0}, // policy (2 pages), root, management account
		{"move to a nested OU", orgsEvent("MoveAccount", params("accountId", "222222222222", "sourceParentId", "ou-ab12-web00001", "destinationParentId", "ou-ab12-sand0001")), 3, 0, "", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := setup(t, awsfake.Sample(), Config{})
			e.fake.ResetCalls()
			v := e.view(t)
			e.facts.Invalidate(tc.ev)
			fs := eng.Evaluate(tc.ev, v, rule.GroupProtection)
			if tc.wantRule != "" && (len(fs) == 0 || fs[0].Rule != tc.wantRule) {
				t.Fatalf("findings: %+v", fs)
			}
			tags := e.fake.Calls(awsfake.Organizations, "ListTagsForResource")
			other := e.orgCalls() - tags
			t.Logf("%s: %d Organizations calls for the facts, %d for exception tags: %v", tc.name, other, tags, e.fake.CallCounts())
			if other > tc.depth+3+tc.extra {
				t.Errorf("%d Organizations calls for the facts, budget %d (depth %d + 3 + %d): %v", other, tc.depth+3+tc.extra, tc.depth, tc.extra, e.fake.CallCounts())
			}
			if tags > tc.maxTags {
				t.Errorf("%d exception-tag lookups, want at most %d", tags, tc.maxTags)
			}
		})
	}
}
