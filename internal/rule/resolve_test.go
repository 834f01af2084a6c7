package rule_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rootguard/rootguard/internal/cloudtrail"
	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/org"
	"github.com/rootguard/rootguard/internal/replay"
	"github.com/rootguard/rootguard/internal/rule"
)

// resolutions replays paths in order and returns "RULE resolvedBy" for each resolution, after
// checking that the resolved finding is one raised earlier (same id and rule).
func resolutions(t *testing.T, paths ...string) []string {
	t.Helper()
	facts, err := org.LoadSnapshotFile(filepath.Join(eventsDir, "org.json"))
	if err != nil {
		t.Fatal(err)
	}
	eng, err := rule.NewEngine(sampleConfig)
	if err != nil {
		t.Fatal(err)
	}
	rep := eng.NewReplayer(facts)
	tr := eng.NewTracker()
	raised := map[string]finding.Finding{}
	var out []string
	_, err = replay.Run(context.Background(), paths, replay.Options{
		Evaluate: func(ev *cloudtrail.Event) []finding.Finding {
			fs, _, res := rep.EvaluateAll(ev, testRevertRole, tr)
			for _, r := range res {
				f, ok := raised[r.ID]
				if !ok || f.Rule != r.Rule || f.Severity != r.Severity {
					t.Errorf("resolved %s %s was not raised before", r.ID, r.Rule)
				}
				if r.Status != finding.StatusResolved || r.ResolvedAt != ev.Time() || r.ResolvedBy != ev.ID() {
					t.Errorf("resolution fields: %q %q %q", r.Status, r.ResolvedAt, r.ResolvedBy)
				}
				out = append(out, r.Rule+" "+r.ResolvedBy)
			}
			for _, f := range fs {
				raised[f.ID] = f
			}
			return fs
		},
		OnInputError: func(e replay.InputError) { t.Errorf("input error: %v", e) },
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestResolution(t *testing.T) {
	admin := assumedRole("arn:aws:iam::111111111111:role/admin", "mallory")
	revert := assumedRole(testRevertRole, "rootguard-revert")
	trusted := assumedRole("arn:aws:iam::111111111111:role/stax-guardrail-automation", "toggle")
	weak := `{"Version":"2012-10-17","Statement":[{"Sid":"Nothing","Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"}]}`
	prot := map[string]any{"policyId": "p-st4xprot01", "targetId": "r-st4x"}
	type ev struct {
		id, name, who string
		params        map[string]any
		errorCode     string
	}
	restored := func(t *testing.T, dir string) string {
		facts, err := org.LoadSnapshotFile(filepath.Join(eventsDir, "org.json"))
		if err != nil {
			t.Fatal(err)
		}
		p, err := facts.Policy("p-st4xprot01")
		if err != nil {
			t.Fatal(err)
		}
		return p.ContentText()
	}
	tests := []struct {
		name string
		evs  func(content string) []ev
		want []string
	}{
		{"re-attached to the target it was detached from", func(string) []ev {
			return []ev{{"e1", "DetachPolicy", admin, prot, ""}, {"e2", "AttachPolicy", revert, prot, ""}}
		}, []string{"SCP-DETACHED e2"}},
		{"attached elsewhere: still open", func(string) []ev {
			return []ev{{"e1", "DetachPolicy", admin, prot, ""}, {"e2", "AttachPolicy", admin, map[string]any{"policyId": "p-st4xprot01", "targetId": "ou-st4x-sandbox0"}, ""}}
		}, nil},
		{"a failed attach resolves nothing", func(string) []ev {
			return []ev{{"e1", "DetachPolicy", admin, prot, ""}, {"e2", "AttachPolicy", admin, prot, "AccessDenied"}}
		}, nil},
		{"an approved (trusted) detach is resolved when the protection comes back", func(string) []ev {
			return []ev{{"e1", "DetachPolicy", trusted, prot, ""}, {"e2", "AttachPolicy", trusted, prot, ""}}
		}, []string{"SCP-DETACHED e2"}},
		{"root-guarding content restored", func(c string) []ev {
			return []ev{
				{"e1", "UpdatePolicy", admin, map[string]any{"policyId": "p-st4xprot01", "content": weak}, ""},
				{"e2", "UpdatePolicy", revert, map[string]any{"policyId": "p-st4xprot01", "content": c}, ""},
			}
		}, []string{"SCP-MODIFIED e2"}},
		{"content changed again but still weakened: still open", func(string) []ev {
			return []ev{
				{"e1", "UpdatePolicy", admin, map[string]any{"policyId": "p-st4xprot01", "content": weak}, ""},
				{"e2", "UpdatePolicy", admin, map[string]any{"policyId": "p-st4xprot01", "content": weak + " "}, ""},
			}
		}, nil},
		{"renamed back into the protection names", func(string) []ev {
			return []ev{
				{"e1", "UpdatePolicy", admin, map[string]any{"policyId": "p-st4xprot01", "name": "free-for-all"}, ""},
				{"e2", "UpdatePolicy", admin, map[string]any{"policyId": "p-st4xprot01", "name": "Stax-Protection"}, ""},
			}
		}, []string{"SCP-MODIFIED e2"}},
		{"the policy type re-enabled", func(string) []ev {
			return []ev{
				{"e1", "DisablePolicyType", admin, map[string]any{"rootId": "r-st4x", "policyType": "SERVICE_CONTROL_POLICY"}, ""},
				{"e2", "EnablePolicyType", revert, map[string]any{"rootId": "r-st4x", "policyType": "SERVICE_CONTROL_POLICY"}, ""},
			}
		}, []string{"SCP-POLICY-TYPE-DISABLED e2"}},
		{"another policy type enabled: still open", func(string) []ev {
			return []ev{
				{"e1", "DisablePolicyType", admin, map[string]any{"rootId": "r-st4x", "policyType": "SERVICE_CONTROL_POLICY"}, ""},
				{"e2", "EnablePolicyType", admin, map[string]any{"rootId": "r-st4x", "policyType": "TAG_POLICY"}, ""},
			}
		}, nil},
		{"the account moved back under protection", func(string) []ev {
			return []ev{
				{"e1", "DetachPolicy", admin, prot, ""},
				{"e2", "MoveAccount", admin, map[string]any{"accountId": "444444444444", "sourceParentId": "ou-st4x-sandbox0", "destinationParentId": "ou-st4x-quarantn"}, ""},
				{"e3", "MoveAccount", admin, map[string]any{"accountId": "444444444444", "sourceParentId": "ou-st4x-quarantn", "destinationParentId": "ou-st4x-foundatn"}, ""},
			}
		}, []string{"SCP-NOT-EFFECTIVE e3"}},
		{"the account moved to another unprotected OU: still open", func(string) []ev {
			return []ev{
				{"e1", "DetachPolicy", admin, prot, ""},
				{"e2", "MoveAccount", admin, map[string]any{"accountId": "444444444444", "sourceParentId": "ou-st4x-sandbox0", "destinationParentId": "ou-st4x-quarantn"}, ""},
				{"e3", "MoveAccount", admin, map[string]any{"accountId": "444444444444", "sourceParentId": "ou-st4x-quarantn", "destinationParentId": "ou-st4x-sandbox0"}, ""},
			}
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			var paths []string
			for _, e := range tc.evs(restored(t, dir)) {
				paths = append(paths, orgsEvent(t, dir, e.id, e.name, e.who, e.params, e.errorCode))
			}
			got := resolutions(t, paths...)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("resolutions (-want +got):\n%s", diff)
			}
		})
	}
}
