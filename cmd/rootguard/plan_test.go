package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rootguard/rootguard/events"
)

func TestReplayPlanFormat(t *testing.T) {
	code, out, errOut := runCLI(t, nil, "", "replay", "--org", "../../events/org.json", "--stax-domains", "stax.example",
		"--trusted-principals", "arn:aws:iam::111111111111:role/stax-guardrail-automation",
		"--format", "plan", "--revert-role", "arn:aws:iam::111111111111:role/rootguard-revert",
		"../../events/SCP-NOT-EFFECTIVE/HIGH.root-protection-detached-then-account-moved.json",
		"../../events/SCP-DETACHED/INFORMATIONAL.trusted-guardrail-automation.json",
		"../../events/SCP-DETACHED/MEDIUM.detach-protection-denied.json",
		"../../events/SCP-MODIFIED/LOW.deny-statement-added.json")
	if code != 0 {
		t.Fatalf("exit %d, stderr: %s", code, errOut)
	}
	type call struct {
		FindingID  string            `json:"findingId"`
		Rule       string            `json:"rule"`
		Action     string            `json:"action"`
		Parameters map[string]string `json:"parameters"`
	}
	var got []call
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var c call
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		if c.FindingID == "" {
			t.Errorf("line %q: no findingId", line)
		}
		c.FindingID = ""
		got = append(got, c)
	}
	// Trusted (INFORMATIONAL), failed (MEDIUM) and tightening (LOW) changes plan nothing.
	want := []call{
		{Rule: "SCP-DETACHED", Action: "organizations:AttachPolicy", Parameters: map[string]string{"PolicyId": "p-st4xprot01", "TargetId": "r-st4x"}},
		{Rule: "SCP-NOT-EFFECTIVE", Action: "organizations:MoveAccount", Parameters: map[string]string{"AccountId": "333333333333", "SourceParentId": "ou-st4x-quarantn", "DestinationParentId": "ou-st4x-prodapps"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
}

func TestReplayPlanFlags(t *testing.T) {
	sample := "../../events/SCP-DETACHED/CRITICAL.protection-detached-from-root.json"
	if code, _, errOut := runCLI(t, nil, "", "replay", "--format", "plan", "--revert-role", "rootguard-revert", sample); code != exitUsage || !strings.Contains(errOut, "--revert-role") {
		t.Errorf("a role name instead of an ARN: exit %d, stderr %q", code, errOut)
	}
	if code, _, errOut := runCLI(t, nil, "", "audit", "--org", "../../events/org.json", "--format", "plan"); code != exitUsage || !strings.Contains(errOut, "only replay") {
		t.Errorf("audit --format plan: exit %d, stderr %q", code, errOut)
	}
	// The environment variable names the role too: the revert role's own detach is not planned.
	env := map[string]string{"ROOTGUARD_REVERT_ROLE": "arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_AdministratorAccess_4f1c2b7a9d3e6f80"}
	code, out, errOut := runCLI(t, env, "", "replay", "--org", "../../events/org.json", "--format", "plan", sample)
	if code != 0 || out != "" {
		t.Errorf("detach by the revert role: exit %d, plan %q, stderr %q", code, out, errOut)
	}
}

func TestReplayPrintsResolution(t *testing.T) {
	dir := t.TempDir()
	seq := `[` + detachOrAttach(t, "DetachPolicy", "e1") + `,` + detachOrAttach(t, "AttachPolicy", "e2") + `]`
	if err := os.WriteFile(filepath.Join(dir, "seq.json"), []byte(seq), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, nil, "", "replay", "--org", "../../events/org.json", "--format", "json", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var fs []map[string]any
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		if m["rule"] == "SCP-DETACHED" {
			fs = append(fs, m)
		}
	}
	if len(fs) != 2 || fs[0]["id"] != fs[1]["id"] {
		t.Fatalf("want the SCP-DETACHED finding twice with one id, got %v", fs)
	}
	if _, ok := fs[0]["status"]; ok {
		t.Errorf("the open finding has a status: %v", fs[0]["status"])
	}
	if fs[1]["status"] != "resolved" || fs[1]["resolvedBy"] != "e2" || fs[1]["resolvedAt"] != "2026-11-25T10:05:00Z" {
		t.Errorf("resolution: status %v, resolvedBy %v, resolvedAt %v", fs[1]["status"], fs[1]["resolvedBy"], fs[1]["resolvedAt"])
	}
}

func detachOrAttach(t *testing.T, name, id string) string {
	t.Helper()
	at := "2026-11-25T10:00:00Z"
	if name == "AttachPolicy" {
		at = "2026-11-25T10:05:00Z"
	}
	ev, err := events.Wrap([]byte(`{"eventVersion":"1.09",
	"userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111111111111:user/ops","accountId":"111111111111"},
	"eventTime":"` + at + `","eventSource":"organizations.amazonaws.com","eventName":"` + name + `","awsRegion":"us-east-1",
	"sourceIPAddress":"203.0.113.9","userAgent":"cli","requestParameters":{"policyId":"p-st4xprot01","targetId":"r-st4x"},
	"responseElements":null,"eventID":"` + id + `","eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111111111111"}`))
	if err != nil {
		t.Fatal(err)
	}
	return string(ev)
}
