package config

import (
	"strings"

	"github.com/rootguard/rootguard/internal/route"
)

// Revert modes (ROOTGUARD_REVERT); the same values as functions/internal/handler's.
const (
	RevertOff    = "off"
	RevertDryRun = "dry-run"
	RevertOn     = "on"
)

// loadRevert reads ROOTGUARD_REVERT and ROOTGUARD_REVERT_ROLE. Only scp-guard reverts; the
// variables are refused elsewhere rather than silently ignored.
func (c *Config) loadRevert(function string, get func(string) string, bad func(name, format string, args ...any)) {
	c.Revert = strings.ToLower(get(EnvRevert))
	c.RevertRole = get(EnvRevertRole)
	switch c.Revert {
	case "", RevertOff, RevertDryRun, RevertOn: // unset is off
	default:
		bad(EnvRevert, "%q is not off, dry-run or on", c.Revert)
		return
	}
	if function != route.SCPGuard {
		if c.Revert != "" && c.Revert != RevertOff {
			bad(EnvRevert, "only scp-guard reverts; leave it unset for %s", function)
		}
		return
	}
	if c.RevertRole != "" && !isRoleARN(c.RevertRole) {
		bad(EnvRevertRole, "%q is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)", c.RevertRole)
	}
	if c.Reverting() && c.RevertRole == "" {
		bad(EnvRevertRole, "not set: %s=%s needs the revert role's ARN (events it makes are never reverted)", EnvRevert, c.Revert)
	}
}

// isRoleARN: arn:aws:iam::ACCOUNT:role/[PATH/]NAME.
func isRoleARN(s string) bool {
	region, account, res, ok := arnParts(s, "iam")
	name, found := strings.CutPrefix(res, "role/")
	return ok && region == "" && isAccount(account) && found && isName(name, 512, "+=,.@_-/")
}

// Reverting reports whether scp-guard reverts or plans reverts (dry-run or on).
func (c Config) Reverting() bool { return c.Revert == RevertDryRun || c.Revert == RevertOn }
