package config

import (
	"strings"
	"testing"

	"github.com/rootguard/rootguard/internal/route"
)

func TestLoadRevert(t *testing.T) {
	base := map[string]string{EnvStaxDomains: "stax.example", EnvEventBus: "rootguard"}
	role := "arn:aws:iam::111111111111:role/rootguard-revert"
	tests := []struct {
		name, function, mode, role string
		wantErr                    string // "" for none
	}{
		{"unset is off", route.SCPGuard, "", "", ""},
		{"on with a role", route.SCPGuard, "on", role, ""},
		{"dry-run with a role path", route.SCPGuard, "dry-run", "arn:aws:iam::111111111111:role/rootguard/revert", ""},
		{"on without a role", route.SCPGuard, "on", "", EnvRevertRole + ": not set"},
		{"a session ARN is not a role ARN", route.SCPGuard, "on", "arn:aws:sts::111111111111:assumed-role/rootguard-revert/x", EnvRevertRole},
		{"a role name is not a role ARN", route.SCPGuard, "dry-run", "rootguard-revert", EnvRevertRole},
		{"unknown mode", route.SCPGuard, "yes", role, EnvRevert + `: "yes" is not off, dry-run or on`},
		{"only scp-guard reverts", route.RootActivity, "on", role, EnvRevert + ": only scp-guard"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{EnvRevert: tc.mode, EnvRevertRole: tc.role}
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
