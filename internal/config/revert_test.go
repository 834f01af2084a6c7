package config

import (
	"strings"
	"testing"

	"github.com/rootguard/rootguard/internal/function"
)

func TestLoadRevert(t *testing.T) {
	base := map[string]string{function.EnvStaxDomains: "stax.example", function.EnvEventBus: "rootguard"}
	role := "arn:aws:iam::111111111111:role/rootguard-revert"
	tests := []struct {
		name, function, mode, role string
		wantErr                    string // "" for none
	}{
		{"unset is off", function.SCPGuard, "", "", ""},
		{"on with a role", function.SCPGuard, "on", role, ""},
		{"dry-run with a role path", function.SCPGuard, "dry-run", "arn:aws:iam::111111111111:role/rootguard/revert", ""},
		{"on without a role", function.SCPGuard, "on", "", function.EnvRevertRole + ": not set"},
		{"a session ARN is not a role ARN", function.SCPGuard, "on", "arn:aws:sts::111111111111:assumed-role/rootguard-revert/x", function.EnvRevertRole},
		{"a role name is not a role ARN", function.SCPGuard, "dry-run", "rootguard-revert", function.EnvRevertRole},
		{"unknown mode", function.SCPGuard, "yes", role, function.EnvRevert + `: "yes" is not off, dry-run or on`},
		{"only scp-guard reverts", function.RootActivity, "on", role, function.EnvRevert + ": only scp-guard"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{function.EnvRevert: tc.mode, function.EnvRevertRole: tc.role}
			for k, v := range base {
				env[k] = v
			}
			c, err := Load(tc.function, func(k string) string { return env[k] })
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("Load: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("Load: %v, want an error containing %q", err, tc.wantErr)
			case tc.wantErr == "" && c.Reverting() != (tc.mode == "on" || tc.mode == "dry-run"):
				t.Errorf("Reverting() = %v for mode %q", c.Reverting(), tc.mode)
			}
		})
	}
}
