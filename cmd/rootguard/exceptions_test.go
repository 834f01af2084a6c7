package main

import (
	"encoding/json"
	"strings"
	"testing"
)

const (
	sampleApprover   = "arn:aws:iam::111111111111:role/stax-exception-approver"
	sampleAutomation = "arn:aws:iam::111111111111:role/stax-guardrail-automation"
)

// replayRules replays paths and returns "RULE SEVERITY" per finding, in order.
func replayRules(t *testing.T, env map[string]string, paths ...string) []string {
	t.Helper()
	args := append([]string{"replay", "--org", "../../events/org.json", "--stax-domains", "stax.example", "--format", "json"}, paths...)
	code, out, errOut := runCLI(t, env, "", args...)
	if code != exitOK {
		t.Fatalf("exit %d, stderr: %s", code, errOut)
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var f struct{ Rule, Severity, Status string }
		if err := json.Unmarshal([]byte(l), &f); err != nil {
			t.Fatalf("not JSON: %q", l)
		}
		got = append(got, strings.TrimSpace(f.Rule+" "+f.Severity+" "+f.Status))
	}
	return got
}

// TestAttackTagThenSilence reproduces issue 9's attack through `rootguard replay`: an operator
// tags the organization root, the management account, a Stax member and the protection SCP with
// rootguard:exception, then detaches the protection, signs in as root to the member, removes the
// management account's root MFA and creates a root access key. Nothing is lowered, and every
// TagResource raises EXCEPTION-GRANTED HIGH, with or without approvers configured.
func TestAttackTagThenSilence(t *testing.T) {
	for name, env := range map[string]map[string]string{
		"approvers configured": {"ROOTGUARD_EXCEPTION_APPROVERS": sampleApprover, "ROOTGUARD_TRUSTED_PRINCIPALS": sampleAutomation},
		"no approvers":         {"ROOTGUARD_TRUSTED_PRINCIPALS": sampleAutomation},
	} {
		t.Run(name, func(t *testing.T) {
			got := replayRules(t, env, "../../events/EXCEPTION-GRANTED/HIGH.attacker-tags-then-silences-root-guard.json")
			want := []string{
				"EXCEPTION-GRANTED HIGH", "EXCEPTION-GRANTED HIGH", "EXCEPTION-GRANTED HIGH", "EXCEPTION-GRANTED HIGH",
				"SCP-DETACHED CRITICAL", "ROOT-SIGNIN-STAX-MEMBER CRITICAL", "ROOT-MFA-REMOVED CRITICAL", "ROOT-ACCESS-KEY-CREATED CRITICAL",
				// The attacker re-attaches the protection last: the detach is resolved, not lowered.
				"SCP-DETACHED CRITICAL resolved",
			}
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("got  %v\nwant %v", got, want)
			}
		})
	}
}

// TestApprovedExceptionThroughReplay: the approver's TagResource earlier in the input grants the
// exception the later detach is covered by; the flag and its variable both work, and without
// approvers the same input is CRITICAL.
func TestApprovedExceptionThroughReplay(t *testing.T) {
	const sample = "../../events/SCP-DETACHED/INFORMATIONAL.foundation-detach-under-approved-exception.json"
	for name, tc := range map[string]struct {
		env  map[string]string
		args []string
		want string
	}{
		"flag":         {args: []string{"--exception-approvers", sampleApprover}, want: "EXCEPTION-GRANTED LOW,SCP-DETACHED INFORMATIONAL"},
		"variable":     {env: map[string]string{"ROOTGUARD_EXCEPTION_APPROVERS": sampleApprover}, want: "EXCEPTION-GRANTED LOW,SCP-DETACHED INFORMATIONAL"},
		"no approvers": {want: "EXCEPTION-GRANTED HIGH,SCP-DETACHED CRITICAL"},
	} {
		t.Run(name, func(t *testing.T) {
			got := replayRules(t, tc.env, append(tc.args, sample)...)
			if strings.Join(got, ",") != tc.want {
				t.Errorf("got %v, want %s", got, tc.want)
			}
		})
	}
}

// TestTrustSuspensionFlag: the suspension after TRUSTED-PRINCIPAL-CHANGED lasts --trust-suspension.
func TestTrustSuspensionFlag(t *testing.T) {
	const sample = "../../events/SCP-DETACHED/CRITICAL.trusted-automation-after-trust-policy-changed.json" // change at 10:05, detach at 10:20
	env := map[string]string{"ROOTGUARD_TRUSTED_PRINCIPALS": sampleAutomation}
	if got := replayRules(t, env, sample); strings.Join(got, ",") != "TRUSTED-PRINCIPAL-CHANGED HIGH,SCP-DETACHED CRITICAL" {
		t.Errorf("default 24h: %v", got)
	}
	if got := replayRules(t, env, "--trust-suspension", "10m", sample); strings.Join(got, ",") != "TRUSTED-PRINCIPAL-CHANGED HIGH,SCP-DETACHED INFORMATIONAL" {
		t.Errorf("10m: %v", got)
	}
	for _, bad := range [][]string{{"--trust-suspension", "tomorrow"}, {"--exception-approvers", "arn:aws:iam::111111111111:role/*"}} {
		if code, _, errOut := runCLI(t, nil, "", append(append([]string{"replay"}, bad...), sample)...); code != exitUsage || !strings.Contains(errOut, bad[1]) {
			t.Errorf("%v: exit %d, stderr %q", bad, code, errOut)
		}
	}
}
