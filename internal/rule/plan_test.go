package rule_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rootguard/rootguard/events"
	"github.com/rootguard/rootguard/internal/cloudtrail"
	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/org"
	"github.com/rootguard/rootguard/internal/replay"
	"github.com/rootguard/rootguard/internal/rule"
)

const testRevertRole = "arn:aws:iam::111111111111:role/rootguard-revert"

// planCalls replays inputs (file paths) in order against events/org.json and returns the
// planned calls, each as "RULE Action Param=Value ..." (Content shortened to its policy Sid list).
func planCalls(t *testing.T, paths ...string) []string {
	t.Helper()
	facts, err := org.LoadSnapshot(bytes.NewReader(events.Org()))
	if err != nil {
		t.Fatal(err)
	}
	eng, err := rule.NewEngine(sampleConfig)
	if err != nil {
		t.Fatal(err)
	}
	rep := eng.NewReplayer(facts)
	var out []string
	_, err = replay.Run(context.Background(), paths, replay.Options{
		Evaluate: func(ev *cloudtrail.Event) []finding.Finding {
			fs, plan := rep.EvaluatePlan(ev, testRevertRole)
			for _, c := range plan {
				if !slices.ContainsFunc(fs, func(f finding.Finding) bool { return f.ID == c.FindingID && f.Rule == c.Rule }) {
					t.Errorf("planned call %+v names no finding of its event", c)
				}
				out = append(out, callString(c))
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

func callString(c finding.RevertCall) string {
	var keys []string
	for k := range c.Parameters {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	s := c.Rule + " " + strings.TrimPrefix(c.Action, "organizations:")
	for _, k := range keys {
		v := c.Parameters[k]
		if k == "Content" {
			v = sids(v)
		}
		s += " " + k + "=" + v
	}
	return s
}

// sids names a policy document by its statement ids, e.g. "[DenyRootUser,DenyLeave]".
func sids(content string) string {
	var doc struct {
		Statement []struct{ Sid string }
	}
	if err := json.Unmarshal([]byte(content), &doc); err != nil {
		return "unreadable"
	}
	var ids []string
	for _, s := range doc.Statement {
		ids = append(ids, s.Sid)
	}
	return "[" + strings.Join(ids, ",") + "]"
}

// TestPlanSamples: every sample's revert plan, and no plan for every sample not listed.
func TestPlanSamples(t *testing.T) {
	rootContent := "[DenyRootUser,DenyLeaveOrganization,ProtectStaxTrails]"
	want := map[string][]string{
		"ROOT-UNRESTRICTED-ACTION/HIGH.member-root-after-protection-detached-from-root.json": {"SCP-DETACHED AttachPolicy PolicyId=p-st4xprot01 TargetId=r-st4x"},
		"ROOT-UNRESTRICTED-ACTION/LOW.member-root-reads-after-scp-disabled.json": {
			"SCP-POLICY-TYPE-DISABLED EnablePolicyType PolicyType=SERVICE_CONTROL_POLICY RootId=r-st4x",
			"SCP-POLICY-TYPE-DISABLED AttachPolicy PolicyId=p-st4xfound1 TargetId=ou-st4x-foundatn",
			"SCP-POLICY-TYPE-DISABLED AttachPolicy PolicyId=p-st4xprot01 TargetId=r-st4x",
			"SCP-POLICY-TYPE-DISABLED AttachPolicy PolicyId=p-st4xregion1 TargetId=r-st4x",
		},
		"SCP-DELETED/CRITICAL.foundation-protection-detached-then-deleted.json":       {"SCP-DETACHED AttachPolicy PolicyId=p-st4xfound1 TargetId=ou-st4x-foundatn"},
		"SCP-DELETED/CRITICAL.protection-detached-then-deleted.json":                  {"SCP-DETACHED AttachPolicy PolicyId=p-st4xprot01 TargetId=r-st4x"},
		"SCP-DETACHED/CRITICAL.foundation-detach-after-exception-expired.json":        {"SCP-DETACHED AttachPolicy PolicyId=p-st4xfound1 TargetId=ou-st4x-foundatn"},
		"SCP-DETACHED/CRITICAL.foundation-protection-detached-from-ou.json":           {"SCP-DETACHED AttachPolicy PolicyId=p-st4xfound1 TargetId=ou-st4x-foundatn"},
		"SCP-DETACHED/CRITICAL.lookalike-of-trusted-automation.json":                  {"SCP-DETACHED AttachPolicy PolicyId=p-st4xprot01 TargetId=r-st4x"},
		"SCP-DETACHED/CRITICAL.management-root-detaches-protection-from-account.json": {"SCP-DETACHED AttachPolicy PolicyId=p-st4xprot01 TargetId=555555555555"},
		"SCP-DETACHED/CRITICAL.protection-detached-from-root.json":                    {"SCP-DETACHED AttachPolicy PolicyId=p-st4xprot01 TargetId=r-st4x"},
		"SCP-MISSING/CRITICAL.every-protection-detached.json": {
			"SCP-DETACHED AttachPolicy PolicyId=p-st4xprot01 TargetId=r-st4x",
			"SCP-DETACHED AttachPolicy PolicyId=p-st4xfound1 TargetId=ou-st4x-foundatn",
		},
		"SCP-MISSING/CRITICAL.scp-policy-type-disabled.json": {
			"SCP-POLICY-TYPE-DISABLED EnablePolicyType PolicyType=SERVICE_CONTROL_POLICY RootId=r-st4x",
			"SCP-POLICY-TYPE-DISABLED AttachPolicy PolicyId=p-st4xfound1 TargetId=ou-st4x-foundatn",
			"SCP-POLICY-TYPE-DISABLED AttachPolicy PolicyId=p-st4xprot01 TargetId=r-st4x",
			"SCP-POLICY-TYPE-DISABLED AttachPolicy PolicyId=p-st4xregion1 TargetId=r-st4x",
		},
		"SCP-MODIFIED/CRITICAL.foundation-root-deny-changed-to-notaction.json":       {"SCP-MODIFIED UpdatePolicy Content=[DenyRootUser,ProtectStaxLogArchive] PolicyId=p-st4xfound1"},
		"SCP-MODIFIED/CRITICAL.renamed-out-of-protection-names.json":                 {"SCP-MODIFIED UpdatePolicy Name=Stax-Protection PolicyId=p-st4xprot01"},
		"SCP-MODIFIED/CRITICAL.root-deny-action-narrowed.json":                       {"SCP-MODIFIED UpdatePolicy Content=" + rootContent + " PolicyId=p-st4xprot01"},
		"SCP-MODIFIED/CRITICAL.root-deny-replaced-by-negated-condition.json":         {"SCP-MODIFIED UpdatePolicy Content=" + rootContent + " PolicyId=p-st4xprot01"},
		"SCP-MODIFIED/CRITICAL.root-deny-source-ip-exemption-added.json":             {"SCP-MODIFIED UpdatePolicy Content=" + rootContent + " PolicyId=p-st4xprot01"},
		"SCP-MODIFIED/CRITICAL.root-deny-statement-removed.json":                     {"SCP-MODIFIED UpdatePolicy Content=" + rootContent + " PolicyId=p-st4xprot01"},
		"SCP-MODIFIED/HIGH.renamed-within-protection-names.json":                     {"SCP-MODIFIED UpdatePolicy Name=Stax-Protection PolicyId=p-st4xprot01"},
		"SCP-MODIFIED/HIGH.trail-protection-removed.json":                            {"SCP-MODIFIED UpdatePolicy Content=" + rootContent + " PolicyId=p-st4xprot01"},
		"SCP-NOT-EFFECTIVE/HIGH.account-created-while-root-protection-detached.json": {"SCP-DETACHED AttachPolicy PolicyId=p-st4xprot01 TargetId=r-st4x"},
		"SCP-NOT-EFFECTIVE/HIGH.root-protection-detached-then-account-moved.json": {
			"SCP-DETACHED AttachPolicy PolicyId=p-st4xprot01 TargetId=r-st4x",
			"SCP-NOT-EFFECTIVE MoveAccount AccountId=333333333333 DestinationParentId=ou-st4x-prodapps SourceParentId=ou-st4x-quarantn",
		},
		"SCP-NOT-EFFECTIVE/none.root-protection-detached-then-account-moved-to-foundation.json": {"SCP-DETACHED AttachPolicy PolicyId=p-st4xprot01 TargetId=r-st4x"},
		"SCP-POLICY-TYPE-DISABLED/CRITICAL.scp-policy-type-disabled.json": {
			"SCP-POLICY-TYPE-DISABLED EnablePolicyType PolicyType=SERVICE_CONTROL_POLICY RootId=r-st4x",
			"SCP-POLICY-TYPE-DISABLED AttachPolicy PolicyId=p-st4xfound1 TargetId=ou-st4x-foundatn",
			"SCP-POLICY-TYPE-DISABLED AttachPolicy PolicyId=p-st4xprot01 TargetId=r-st4x",
			"SCP-POLICY-TYPE-DISABLED AttachPolicy PolicyId=p-st4xregion1 TargetId=r-st4x",
		},
		// Custody samples (issue 9): a detach that no valid exception or trust lowers is planned.
		"EXCEPTION-GRANTED/HIGH.attacker-tags-then-silences-root-guard.json":                           {"SCP-DETACHED AttachPolicy PolicyId=p-st4xprot01 TargetId=r-st4x"},
		"ROOT-UNRESTRICTED-ACTION/HIGH.decoy-named-like-protection-then-root-protection-detached.json": {"SCP-DETACHED AttachPolicy PolicyId=p-st4xprot01 TargetId=r-st4x"},
		"SCP-DETACHED/CRITICAL.approver-detaches-under-own-exception.json":                             {"SCP-DETACHED AttachPolicy PolicyId=p-st4xfound1 TargetId=ou-st4x-foundatn"},
		"SCP-DETACHED/CRITICAL.foundation-detach-tag-not-granted.json":                                 {"SCP-DETACHED AttachPolicy PolicyId=p-st4xfound1 TargetId=ou-st4x-foundatn"},
		"SCP-DETACHED/CRITICAL.trusted-automation-after-trust-policy-changed.json":                     {"SCP-DETACHED AttachPolicy PolicyId=p-st4xprot01 TargetId=r-st4x"},
		"SCP-NOT-EFFECTIVE/HIGH.decoy-at-root-then-root-protection-detached-then-moved.json": {
			"SCP-DETACHED AttachPolicy PolicyId=p-st4xprot01 TargetId=r-st4x",
			"SCP-NOT-EFFECTIVE MoveAccount AccountId=444444444444 DestinationParentId=ou-st4x-sandbox0 SourceParentId=ou-st4x-quarantn",
		},
		// A move that loses a protection SCP (MEDIUM) is moved back too.
		"SCP-NOT-EFFECTIVE/MEDIUM.logging-account-moved-out-of-foundation.json": {
			"SCP-NOT-EFFECTIVE MoveAccount AccountId=222222222223 DestinationParentId=ou-st4x-foundatn SourceParentId=ou-st4x-prodapps",
		},
		"SCP-MISSING/CRITICAL.only-decoys-remain.json": {
			"SCP-DETACHED AttachPolicy PolicyId=p-st4xprot01 TargetId=r-st4x",
			"SCP-DETACHED AttachPolicy PolicyId=p-st4xfound1 TargetId=ou-st4x-foundatn",
		},
	}
	seen := map[string]bool{}
	for _, s := range samples(t) {
		name := s.name
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			got := planCalls(t, s.path)
			if diff := cmp.Diff(want[name], got); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
		})
	}
	for name := range want {
		if !seen[name] {
			t.Errorf("sample %s is gone", name)
		}
	}
}

// orgsEvent writes an Organizations management event to a temporary file.
func orgsEvent(t *testing.T, dir, id, name string, identity string, params map[string]any, errorCode string) string {
	t.Helper()
	detail := map[string]any{
		"eventVersion": "1.09", "userIdentity": json.RawMessage(identity),
		"eventTime": "2026-11-25T10:00:00Z", "eventSource": "organizations.amazonaws.com", "eventName": name,
		"awsRegion": "us-east-1", "sourceIPAddress": "203.0.113.9", "userAgent": "test",
		"requestParameters": params, "eventID": id, "eventType": "AwsApiCall",
		"managementEvent": true, "recipientAccountId": "111111111111", "readOnly": false,
	}
	if errorCode != "" {
		detail["errorCode"] = errorCode
		detail["errorMessage"] = "denied"
	}
	record, err := json.Marshal(detail)
	if err != nil {
		t.Fatal(err)
	}
	b, err := events.Wrap(record)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, id+".json")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func assumedRole(roleARN, session string) string {
	name := roleARN[strings.LastIndex(roleARN, "/")+1:]
	return fmt.Sprintf(`{"type":"AssumedRole","principalId":"AROAEXAMPLE:%s","arn":"arn:aws:sts::111111111111:assumed-role/%s/%s","accountId":"111111111111",
	  "sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROAEXAMPLE","arn":%q,"accountId":"111111111111","userName":%q}}}`, session, name, session, roleARN, name)
}

// TestPlanScenarios: plans over sequences of events (replay is stateful).
func TestPlanScenarios(t *testing.T) {
	admin := assumedRole("arn:aws:iam::111111111111:role/admin", "mallory")
	revert := assumedRole(testRevertRole, "rootguard-revert")
	// A role whose last ARN segment and session name imitate the revert role's.
	lookalike := assumedRole("arn:aws:iam::111111111111:role/evil/rootguard-revert", "rootguard-revert")
	weak := `{"Version":"2012-10-17","Statement":[{"Sid":"Nothing","Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"}]}`
	weaker := `{"Version":"2012-10-17","Statement":[{"Sid":"Even","Effect":"Allow","Action":"*","Resource":"*"}]}`
	detach := map[string]any{"policyId": "p-st4xprot01", "targetId": "r-st4x"}
	tests := []struct {
		name   string
		events func(dir string) []string
		want   []string
	}{
		{"detach by the revert role plans nothing", func(d string) []string {
			return []string{orgsEvent(t, d, "e1", "DetachPolicy", revert, detach, "")}
		}, nil},
		{"a lookalike of the revert role is not the revert role", func(d string) []string {
			return []string{orgsEvent(t, d, "e1", "DetachPolicy", lookalike, detach, "")}
		}, []string{"SCP-DETACHED AttachPolicy PolicyId=p-st4xprot01 TargetId=r-st4x"}},
		{"a failed detach plans nothing", func(d string) []string {
			return []string{orgsEvent(t, d, "e1", "DetachPolicy", admin, detach, "AccessDenied")}
		}, nil},
		{"two weakenings: each restores the content it replaced", func(d string) []string {
			return []string{
				orgsEvent(t, d, "e1", "UpdatePolicy", admin, map[string]any{"policyId": "p-st4xprot01", "content": weak}, ""),
				orgsEvent(t, d, "e2", "UpdatePolicy", admin, map[string]any{"policyId": "p-st4xprot01", "content": weaker}, ""),
			}
		}, []string{
			"SCP-MODIFIED UpdatePolicy Content=[DenyRootUser,DenyLeaveOrganization,ProtectStaxTrails] PolicyId=p-st4xprot01",
			"SCP-MODIFIED UpdatePolicy Content=[Nothing] PolicyId=p-st4xprot01",
		}},
		{"rename and rewrite at once restores both", func(d string) []string {
			return []string{orgsEvent(t, d, "e1", "UpdatePolicy", admin, map[string]any{"policyId": "p-st4xprot01", "name": "whatever", "content": weak}, "")}
		}, []string{"SCP-MODIFIED UpdatePolicy Content=[DenyRootUser,DenyLeaveOrganization,ProtectStaxTrails] Name=Stax-Protection PolicyId=p-st4xprot01"}},
		{"a protection SCP detached before SCPs are disabled is not re-attached by the enable plan", func(d string) []string {
			return []string{
				orgsEvent(t, d, "e1", "DetachPolicy", admin, map[string]any{"policyId": "p-st4xfound1", "targetId": "ou-st4x-foundatn"}, ""),
				orgsEvent(t, d, "e2", "DisablePolicyType", admin, map[string]any{"rootId": "r-st4x", "policyType": "SERVICE_CONTROL_POLICY"}, ""),
			}
		}, []string{
			"SCP-DETACHED AttachPolicy PolicyId=p-st4xfound1 TargetId=ou-st4x-foundatn",
			"SCP-POLICY-TYPE-DISABLED EnablePolicyType PolicyType=SERVICE_CONTROL_POLICY RootId=r-st4x",
			"SCP-POLICY-TYPE-DISABLED AttachPolicy PolicyId=p-st4xprot01 TargetId=r-st4x",
			"SCP-POLICY-TYPE-DISABLED AttachPolicy PolicyId=p-st4xregion1 TargetId=r-st4x",
		}},
		{"the revert's own re-attach, then a new detach: planned again", func(d string) []string {
			return []string{
				orgsEvent(t, d, "e1", "DetachPolicy", admin, detach, ""),
				orgsEvent(t, d, "e2", "AttachPolicy", revert, detach, ""),
				orgsEvent(t, d, "e3", "DetachPolicy", admin, detach, ""),
			}
		}, []string{
			"SCP-DETACHED AttachPolicy PolicyId=p-st4xprot01 TargetId=r-st4x",
			"SCP-DETACHED AttachPolicy PolicyId=p-st4xprot01 TargetId=r-st4x",
		}},
		{"the revert's own move back plans nothing", func(d string) []string {
			return []string{
				orgsEvent(t, d, "e1", "MoveAccount", revert, map[string]any{"accountId": "333333333333", "sourceParentId": "ou-st4x-prodapps", "destinationParentId": "ou-st4x-quarantn"}, ""),
			}
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := planCalls(t, tc.events(t.TempDir())...)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
		})
	}
}
