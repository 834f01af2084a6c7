package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rootguard/rootguard/events"
	"github.com/rootguard/rootguard/internal/org"
	"github.com/rootguard/rootguard/internal/testenv/awsfake"
)

func runCLI(t *testing.T, env map[string]string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errOut, func(k string) string { return env[k] })
	return code, out.String(), errOut.String()
}

var requiredFields = []string{"id", "rule", "severity", "accountId", "accountName", "ownership", "accountRole", "title",
	"description", "remediation", "eventId", "eventName", "eventTime", "region", "actor", "sourceIp"}

func TestReplayJSONOverTheSamples(t *testing.T) {
	code, out, errOut := runCLI(t, nil, "", "replay", "--org", "../../events/org.json", "--stax-domains", "stax.example", "--format", "json", "../../events")
	if code != 0 {
		t.Fatalf("exit %d, stderr: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 50 {
		t.Fatalf("only %d findings", len(lines))
	}
	ids := map[string]bool{}
	for i, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %d is not JSON: %v", i+1, err)
		}
		for _, f := range requiredFields {
			if _, ok := m[f]; !ok {
				t.Errorf("line %d has no %q", i+1, f)
			}
		}
		id := m["id"].(string)
		if st, ok := m["status"].(string); ok {
			id += "#" + st // a resolution prints the finding again, resolved (issue 11)
		}
		if ids[id] {
			t.Errorf("finding id %s printed twice", id)
		}
		ids[id] = true
	}
	if strings.Contains(errOut, "org.json") {
		t.Errorf("the snapshot beside the events was read as input: %s", errOut)
	}
}

func TestExitCodesAndEnvironment(t *testing.T) {
	sample := "../../events/ROOT-SIGNIN-STAX-MEMBER/CRITICAL.sandbox-root-login-without-mfa.json"
	code, _, _ := runCLI(t, nil, "", "replay", "--org", "../../events/org.json", "--stax-domains", "stax.example", "--fail-on", "CRITICAL", sample)
	if code != exitFindings {
		t.Errorf("--fail-on CRITICAL with a CRITICAL finding: exit %d, want 1", code)
	}
	// The same through environment variables.
	env := map[string]string{"ROOTGUARD_ORG": "../../events/org.json", "ROOTGUARD_STAX_DOMAINS": "stax.example", "ROOTGUARD_FAIL_ON": "critical", "ROOTGUARD_FORMAT": "json"}
	code, out, _ := runCLI(t, env, "", "replay", sample)
	if code != exitFindings || !strings.Contains(out, `"rule":"ROOT-SIGNIN-STAX-MEMBER"`) {
		t.Errorf("environment: exit %d, output %s", code, out)
	}
	// A flag wins over its variable.
	code, _, _ = runCLI(t, env, "", "replay", "--fail-on", "", sample)
	if code != exitOK {
		t.Errorf("--fail-on '' over ROOTGUARD_FAIL_ON: exit %d, want 0", code)
	}
	if code, _, _ := runCLI(t, nil, "", "replay", "--format", "yaml", sample); code != exitUsage {
		t.Errorf("bad --format: exit %d, want 2", code)
	}
	if code, _, _ := runCLI(t, nil, "", "bogus"); code != exitUsage {
		t.Errorf("unknown command: exit %d", code)
	}
	if code, _, errOut := runCLI(t, nil, "", "audit"); code != exitUsage || !strings.Contains(errOut, "--org") {
		t.Errorf("audit without --org: exit %d, %s", code, errOut)
	}
}

func TestBadInputIsReportedAndTheRestEvaluated(t *testing.T) {
	dir := t.TempDir()
	good, err := events.Read("ROOT-SIGNIN/MEDIUM.management-root-login-with-mfa.json")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"a-truncated.json":  `{"detail-type": "AWS API Call via CloudTrail", "detail": {"eventName": `,
		"b-not-event.json":  `{"hello": "world"}`,
		"c-wrong-type.json": `{"eventSource": "signin.amazonaws.com", "eventName": 5, "userIdentity": {"type": "Root"}}`,
		"d-good.json":       string(good),
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errOut := runCLI(t, nil, "", "replay", "--org", "../../events/org.json", "--stax-domains", "stax.example", "--format", "json", dir)
	if code != exitUsage {
		t.Errorf("exit %d, want 2 for input errors", code)
	}
	for _, name := range []string{"a-truncated.json", "b-not-event.json", "c-wrong-type.json"} {
		if !strings.Contains(errOut, name+": record 1:") {
			t.Errorf("stderr does not report %s with its record index:\n%s", name, errOut)
		}
	}
	if !strings.Contains(errOut, "eventName") {
		t.Errorf("the wrong-typed field is not named: %s", errOut)
	}
	if !strings.Contains(out, `"rule":"ROOT-SIGNIN"`) {
		t.Errorf("the good file was not evaluated: %s", out)
	}
}

func TestRulesAndAudit(t *testing.T) {
	code, out, _ := runCLI(t, nil, "", "rules", "--format", "json")
	var docs []map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &docs) != nil || len(docs) < 20 {
		t.Fatalf("rules --format json: exit %d, %d rules", code, len(docs))
	}
	code, out, errOut := runCLI(t, nil, "", "audit", "--org", "../../events/org.json", "--stax-domains", "stax.example", "--at", "2026-11-30T00:00:00Z", "--format", "json")
	if code != 0 {
		t.Fatalf("audit: exit %d: %s", code, errOut)
	}
	for _, want := range []string{"POSTURE-ROOT-CREDENTIALS", "POSTURE-ROOT-ACCESS-KEYS", "POSTURE-ROOT-MFA", "POSTURE-UNVERIFIED"} {
		if !strings.Contains(out, `"rule":"`+want+`"`) {
			t.Errorf("audit of events/org.json raised no %s", want)
		}
	}
	if strings.Contains(out, "SCP-MISSING") {
		t.Error("audit raised SCP-MISSING although the protection SCP is at the root")
	}
}

// TestSnapshotThenReplay: `rootguard snapshot` against the fake AWS endpoints (seeded from
// events/org.json) writes a snapshot that `rootguard replay` accepts and that gives the same
// findings as the bundled snapshot.
func TestSnapshotThenReplay(t *testing.T) {
	seed, err := org.LoadSnapshot(bytes.NewReader(events.Org()))
	if err != nil {
		t.Fatal(err)
	}
	fake, err := awsfake.New(seed.Doc(), awsfake.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	for k, v := range fake.Env() {
		t.Setenv(k, v)
	}
	out := filepath.Join(t.TempDir(), "org.json")
	code, _, errOut := runCLI(t, map[string]string{"ROOTGUARD_ROOT_CREDENTIALS_MODE": "audit-role"}, "", "snapshot", "--out", out)
	if code != 0 {
		t.Fatalf("snapshot: exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "10 accounts") {
		t.Errorf("summary line: %s", errOut)
	}
	replayWith := func(orgFile string) string {
		code, stdout, errOut := runCLI(t, nil, "", "replay", "--org", orgFile, "--stax-domains", "stax.example", "--format", "json", "../../events")
		if code != 0 {
			t.Fatalf("replay --org %s: exit %d: %s", orgFile, code, errOut)
		}
		return stdout
	}
	got, want := replayWith(out), replayWith("../../events/org.json")
	if got != want {
		t.Errorf("replay against the written snapshot differs from the bundled one")
	}
}

// TestEveryFlagHasAnEnvironmentVariable: each flag of replay and audit can be set from the
// environment.
func TestEveryFlagHasAnEnvironmentVariable(t *testing.T) {
	for _, name := range []string{"replay", "audit"} {
		fs := newFlagSet(name, env{stderr: io.Discard})
		var o options
		o.register(fs)
		fs.Bool("audit", false, "")
		fs.Bool("quiet", false, "")
		fs.String("at", "", "")
		fs.VisitAll(func(f *flag.Flag) {
			if _, ok := envNames[f.Name]; !ok {
				t.Errorf("%s --%s has no environment variable", name, f.Name)
			}
		})
	}
	code, _, _ := runCLI(t, map[string]string{"ROOTGUARD_ORG": "../../events/org.json", "ROOTGUARD_AUDIT_AT": "not-a-time"}, "", "audit")
	if code != exitUsage {
		t.Errorf("a bad ROOTGUARD_AUDIT_AT was accepted: exit %d", code)
	}
}
