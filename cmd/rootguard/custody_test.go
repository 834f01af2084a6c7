package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rootguard/rootguard/events"
	"github.com/rootguard/rootguard/internal/org"
	"github.com/rootguard/rootguard/internal/testenv/awsfake"
)

// findingsOf parses `--format json` output into rule/severity/account triples and the findings.
func findingsOf(t *testing.T, out string) ([]string, []map[string]any) {
	t.Helper()
	var keys []string
	var all []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not JSON: %s", l)
		}
		keys = append(keys, m["rule"].(string)+"/"+m["severity"].(string)+"/"+m["accountId"].(string))
		all = append(all, m)
	}
	return keys, all
}

func replayJSON(t *testing.T, extra ...string) string {
	t.Helper()
	args := append([]string{"replay", "--org", "../../events/org.json", "--stax-domains", "stax.example", "--format", "json"}, extra...)
	code, out, errOut := runCLI(t, nil, "", args...)
	if code != exitOK {
		t.Fatalf("replay %v: exit %d: %s", extra, code, errOut)
	}
	return out
}

// TestDecoyAttackThroughReplay reproduces issue 9's attack end to end: a policy named like the
// protection SCP that allows everything is created and attached at the root, the root-guarding
// Stax-Protection SCP is detached (the organization also carries the region-only
// stax-protection-unsupported-region), and root then creates an IAM user in a customer member.
// The decoy is raised when created and attached, and the root call is unrestricted.
func TestDecoyAttackThroughReplay(t *testing.T) {
	out := replayJSON(t, "../../events/ROOT-UNRESTRICTED-ACTION/HIGH.decoy-named-like-protection-then-root-protection-detached.json")
	got, all := findingsOf(t, out)
	want := []string{
		"SCP-IMPERSONATED/HIGH/111111111111", // CreatePolicy Stax-Protection-2
		"SCP-IMPERSONATED/HIGH/111111111111", // AttachPolicy of the decoy at the root
		"SCP-DETACHED/CRITICAL/111111111111",
		"ROOT-UNRESTRICTED-ACTION/HIGH/333333333333",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("findings %v, want %v", got, want)
	}
	desc := all[3]["description"].(string)
	for _, s := range []string{"Stax-Protection-2", "stax-protection-unsupported-region", "not root-guarding"} {
		if !strings.Contains(desc, s) {
			t.Errorf("the root finding does not say why the decoys were ignored (%q): %s", s, desc)
		}
	}
}

// TestDecoysFoolNeitherAuditNorMoves: with only decoys left the audit raises SCP-MISSING and names
// them, and a move under a decoy raises SCP-NOT-EFFECTIVE HIGH; a move out of Foundation that
// keeps the root protection but loses the foundation one is MEDIUM.
func TestDecoysFoolNeitherAuditNorMoves(t *testing.T) {
	got, all := findingsOf(t, replayJSON(t, "--audit", "../../events/SCP-MISSING/CRITICAL.only-decoys-remain.json"))
	i := slices.IndexFunc(got, func(k string) bool { return strings.HasPrefix(k, "SCP-MISSING/CRITICAL/") })
	if i < 0 {
		t.Fatalf("no SCP-MISSING CRITICAL: %v", got)
	}
	if d := all[i]["description"].(string); !strings.Contains(d, "Stax-Protection-2 (p-d3c0y00005)") || !strings.Contains(d, "stax-protection-unsupported-region") {
		t.Errorf("SCP-MISSING does not name the ignored decoys: %s", d)
	}
	got, _ = findingsOf(t, replayJSON(t, "../../events/SCP-NOT-EFFECTIVE/HIGH.decoy-at-root-then-root-protection-detached-then-moved.json"))
	if !slices.Contains(got, "SCP-NOT-EFFECTIVE/HIGH/444444444444") {
		t.Errorf("move under a decoy: %v", got)
	}
	got, _ = findingsOf(t, replayJSON(t, "../../events/SCP-NOT-EFFECTIVE/MEDIUM.logging-account-moved-out-of-foundation.json"))
	if !slices.Equal(got, []string{"SCP-NOT-EFFECTIVE/MEDIUM/222222222223"}) {
		t.Errorf("move out of Foundation: %v", got)
	}
}

// TestAuditFeaturesAndTrails: the bundled organization has centralised root access and a logging
// organization trail; org.blind.json lacks RootCredentialsManagement and its organization trail
// is stopped.
func TestAuditFeaturesAndTrails(t *testing.T) {
	audit := func(orgFile string) []string {
		code, out, errOut := runCLI(t, nil, "", "audit", "--org", orgFile, "--stax-domains", "stax.example", "--at", "2026-11-30T00:00:00Z", "--format", "json")
		if code != exitOK {
			t.Fatalf("audit %s: exit %d: %s", orgFile, code, errOut)
		}
		got, _ := findingsOf(t, out)
		return slices.DeleteFunc(got, func(k string) bool {
			return !strings.HasPrefix(k, "ROOT-CENTRAL-ACCESS-DISABLED/") && !strings.HasPrefix(k, "TRAIL-TAMPERED/")
		})
	}
	if got := audit("../../events/org.json"); len(got) != 0 {
		t.Errorf("the bundled organization: %v", got)
	}
	want := []string{"ROOT-CENTRAL-ACCESS-DISABLED/HIGH/111111111111", "TRAIL-TAMPERED/CRITICAL/111111111111"}
	if got := audit("../../events/org.blind.json"); !slices.Equal(got, want) {
		t.Errorf("org.blind.json: %v, want %v", got, want)
	}
}

// TestSnapshotFillsFeaturesAndTrails: `rootguard snapshot` against the fake AWS endpoints reads
// the IAM features and the management account's trails (iam:ListOrganizationsFeatures,
// cloudtrail:DescribeTrails, GetTrailStatus, GetEventSelectors), and the audit of what it wrote
// judges them; a refused call is written as null and the audit says it is unknown.
func TestSnapshotFillsFeaturesAndTrails(t *testing.T) {
	for _, tc := range []struct {
		name, seed string
		refuse     string // an IAM operation the fake refuses
		want       []string
	}{
		{"bundled organization", events.OrgFile, "", nil},
		{"blind organization", events.BlindOrgFile, "", []string{"ROOT-CENTRAL-ACCESS-DISABLED/HIGH/111111111111", "TRAIL-TAMPERED/CRITICAL/111111111111"}},
		{"features refused", events.OrgFile, "ListOrganizationsFeatures", []string{"ROOT-CENTRAL-ACCESS-DISABLED/LOW/111111111111"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, err := events.Read(tc.seed)
			if err != nil {
				t.Fatal(err)
			}
			seed, err := org.LoadSnapshot(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			fake, err := awsfake.New(seed.Doc(), awsfake.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer fake.Close()
			if tc.refuse != "" {
				fake.Fail(awsfake.IAM, tc.refuse, awsfake.APIError{Status: 400, Code: "ServiceAccessNotEnabled", Message: "trusted access for IAM is not enabled"}, -1)
			}
			for k, v := range fake.Env() {
				t.Setenv(k, v)
			}
			out := filepath.Join(t.TempDir(), "org.json")
			if code, _, errOut := runCLI(t, nil, "", "snapshot", "--out", out); code != exitOK {
				t.Fatalf("snapshot: exit %d: %s", code, errOut)
			}
			written, err := org.LoadSnapshotFile(out)
			if err != nil {
				t.Fatal(err)
			}
			o := written.Doc().Organization
			if tc.refuse == "" && !slices.Equal(o.Features, seed.Doc().Organization.Features) {
				t.Errorf("features %v, want %v", o.Features, seed.Doc().Organization.Features)
			}
			if tc.refuse != "" && o.Features != nil {
				t.Errorf("refused features written as %v, want null", o.Features)
			}
			if len(o.Trails) != len(seed.Doc().Organization.Trails) {
				t.Errorf("trails %+v", o.Trails)
			}
			code, stdout, errOut := runCLI(t, nil, "", "audit", "--org", out, "--stax-domains", "stax.example", "--at", "2026-11-30T00:00:00Z", "--format", "json")
			if code != exitOK {
				t.Fatalf("audit: exit %d: %s", code, errOut)
			}
			got, all := findingsOf(t, stdout)
			var custody []string
			for i, k := range got {
				if strings.HasPrefix(k, "ROOT-CENTRAL-ACCESS-DISABLED/") || strings.HasPrefix(k, "TRAIL-TAMPERED/") {
					custody = append(custody, k)
					if tc.refuse != "" && !strings.Contains(all[i]["description"].(string), "features unknown") {
						t.Errorf("the unknown is not said: %s", all[i]["description"])
					}
				}
			}
			if !slices.Equal(custody, tc.want) {
				t.Errorf("audit: %v, want %v", custody, tc.want)
			}
		})
	}
}
