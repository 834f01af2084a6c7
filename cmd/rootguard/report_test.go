package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReportCommand: the report needs --org; it writes one HTML file (or standard output), still
// writes it when an input is bad (exit 2, the bad input named), and honours --fail-on.
func TestReportCommand(t *testing.T) {
	code, _, errOut := runCLI(t, nil, "", "report", "--stax-domains", "stax.example", "../../events")
	if code != exitUsage || !strings.Contains(errOut, "--org FILE is required") {
		t.Errorf("without --org: exit %d, %q", code, errOut)
	}
	code, out, errOut := runCLI(t, nil, "", "report", "--org", "../../events/org.json", "--stax-domains", "stax.example",
		"--at", "2026-12-01T09:00:00Z", "--out", "-", "../../events/ROOT-SIGNIN-STAX-MEMBER")
	if code != exitOK || !strings.HasPrefix(out, "<!DOCTYPE html>") || !strings.Contains(out, "ROOT-SIGNIN-STAX-MEMBER") {
		t.Errorf("--out -: exit %d, stderr %q, %d bytes", code, errOut, len(out))
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"detail-type":`), 0o644); err != nil {
		t.Fatal(err)
	}
	out2 := filepath.Join(dir, "r.html")
	code, _, errOut = runCLI(t, nil, "", "report", "--org", "../../events/org.json", "--stax-domains", "stax.example",
		"--fail-on", "HIGH", "--out", out2, "../../events/ROOT-SIGNIN-STAX-MEMBER", bad)
	if code != exitUsage || !strings.Contains(errOut, "bad.json") {
		t.Errorf("a bad input: exit %d, stderr %q", code, errOut)
	}
	if b, err := os.ReadFile(out2); err != nil || !strings.Contains(string(b), "ROOT-SIGNIN-STAX-MEMBER") {
		t.Errorf("the report was not written despite the bad input: %v", err)
	}
	code, _, _ = runCLI(t, nil, "", "report", "--org", "../../events/org.json", "--stax-domains", "stax.example",
		"--fail-on", "HIGH", "--quiet", "--out", out2, "../../events/ROOT-SIGNIN-STAX-MEMBER")
	if code != exitFindings {
		t.Errorf("--fail-on HIGH with CRITICAL findings: exit %d, want 1", code)
	}
	if code, _, errOut := runCLI(t, nil, "", "report", "--org", "../../events/org.json", "--out", filepath.Join(dir, "missing", "r.html")); code != exitUsage || !strings.Contains(errOut, "--out") {
		t.Errorf("an unwritable --out: exit %d, %q", code, errOut)
	}
}

// TestReportWindow: report takes replay's inputs and their window; events outside it are not in
// the report (here every sample: the report is the audit's findings alone), and the events'
// exception grants count for the audit.
func TestReportWindow(t *testing.T) {
	count := func(args ...string) int {
		t.Helper()
		args = append([]string{"report", "--org", "../../events/org.json", "--stax-domains", "stax.example",
			"--at", "2026-12-01T09:00:00Z", "--out", filepath.Join(t.TempDir(), "r.html")}, args...)
		code, _, errOut := runCLI(t, nil, "", args...)
		if code != exitOK {
			t.Fatalf("%v: exit %d, %s", args, code, errOut)
		}
		var n int
		if _, err := fmt.Sscanf(errOut[strings.LastIndex(errOut, "rootguard report: "):], "rootguard report: %d findings written", &n); err != nil {
			t.Fatalf("summary line: %v in %q", err, errOut)
		}
		return n
	}
	all := count("../../events/ROOT-SIGNIN-STAX-MEMBER")
	none := count("--since", "2099-01-01", "../../events/ROOT-SIGNIN-STAX-MEMBER")
	code, auditOut, errOut := runCLI(t, nil, "", "audit", "--org", "../../events/org.json", "--stax-domains", "stax.example",
		"--at", "2026-12-01T09:00:00Z", "--format", "json")
	if code != exitOK && code != exitFindings {
		t.Fatalf("audit: exit %d, %s", code, errOut)
	}
	audit := strings.Count(strings.TrimSpace(auditOut), "\n") + 1
	if none != audit || all <= none {
		t.Errorf("findings: %d with the samples, %d with --since after them, want the audit's %d and more", all, none, audit)
	}
}
