package main

import (
	"strings"
	"testing"
)

// TestReplaySkipsForgedEvents: `rootguard replay` over the forged samples evaluates none of them,
// exits 0 (they are not input errors, and --fail-on finds nothing) and says how many it skipped;
// --quiet silences the line.
func TestReplaySkipsForgedEvents(t *testing.T) {
	args := []string{"replay", "--org", "../../events/org.json", "--stax-domains", "stax.example", "--fail-on", "LOW", "../../events/forged"}
	code, out, errOut := runCLI(t, nil, "", args...)
	if code != 0 {
		t.Fatalf("exit %d, stdout %s, stderr %s", code, out, errOut)
	}
	if !strings.Contains(out, "No findings.") {
		t.Errorf("stdout %q, want no finding", out)
	}
	if !strings.Contains(errOut, "rootguard replay: 4 events skipped: not from AWS") || !strings.Contains(errOut, "0 events evaluated") {
		t.Errorf("stderr %q, want the skip count and nothing evaluated", errOut)
	}
	_, _, errOut = runCLI(t, nil, "", append([]string{"replay", "--quiet"}, args[1:]...)...)
	if strings.Contains(errOut, "skipped") {
		t.Errorf("--quiet printed %q", errOut)
	}
	// The genuine sample the custom-source forgery copied raises its finding.
	code, out, _ = runCLI(t, nil, "", "replay", "--org", "../../events/org.json", "--stax-domains", "stax.example", "--format", "json",
		"../../events/ROOT-UNRESTRICTED-ACTION/HIGH.management-root-creates-iam-user.json")
	if code != 0 || !strings.Contains(out, `"rule":"ROOT-UNRESTRICTED-ACTION"`) {
		t.Errorf("the genuine event: exit %d, %s", code, out)
	}
}
