package config

import (
	"strings"

	"github.com/rootguard/rootguard/internal/function"
)

// Revert modes (ROOTGUARD_REVERT); the same values as functions/internal/handler's.
const (
	RevertOff    = function.RevertOff
	RevertDryRun = function.RevertDryRun
	RevertOn     = function.RevertOn
)

// readRevert reads ROOTGUARD_REVERT (scp-guard only; Load refuses it elsewhere rather than
// silently ignoring it).
func readRevert(c *Config, v string, bad func(string, ...any)) {
	c.Revert = strings.ToLower(v)
	switch c.Revert {
	case RevertOff, RevertDryRun, RevertOn:
	default:
		bad("%q is not off, dry-run or on", c.Revert)
	}
}

// readRevertRole reads ROOTGUARD_REVERT_ROLE (required when reverting: Config.check).
func readRevertRole(c *Config, v string, bad func(string, ...any)) {
	c.RevertRole = v
	if v != "" && !isRoleARN(v) {
		bad("%q is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)", v)
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
