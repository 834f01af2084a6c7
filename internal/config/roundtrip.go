package config

import (
	"errors"
	"fmt"
	"strings"

	"github.com/rootguard/rootguard/internal/function"
)

// The heartbeat's end-to-end CloudTrail canary (package canary, "round trip"): the regions where
// the heartbeat writes the round-trip parameter in the management account
// (function.EnvHeartbeatRegions), and the role there it assumes to write it
// (function.EnvHeartbeatRoleARN, arn:aws:iam::<management account>:role/rootguard-heartbeat); the
// round-trip events are accepted from that account only.

// RoundTrip is the heartbeat's round-trip configuration.
type RoundTrip struct {
	// Regions are the regions to write the parameter in; none turns the round trip off.
	Regions []string
	// RoleARN is the management account's heartbeat role; ManagementAccount its account.
	RoleARN, ManagementAccount string
}

// LoadRoundTrip reads and validates the round-trip configuration; every problem names its
// variable, and the error wraps ErrInvalid.
func LoadRoundTrip(getenv func(string) string) (RoundTrip, error) {
	get := func(name string) string { return strings.TrimSpace(getenv(name)) }
	rt := RoundTrip{Regions: List(get(function.EnvHeartbeatRegions)), RoleARN: get(function.EnvHeartbeatRoleARN)}
	var errs []error
	for _, r := range rt.Regions {
		if !isRegion(r) {
			errs = append(errs, fmt.Errorf("%s: %q is not a region name (e.g. us-east-1)", function.EnvHeartbeatRegions, r))
		}
	}
	if len(rt.Regions) > 0 || rt.RoleARN != "" {
		region, account, res, ok := arnParts(rt.RoleARN, "iam")
		name, isRole := strings.CutPrefix(res, "role/")
		switch {
		case rt.RoleARN == "":
			errs = append(errs, fmt.Errorf("%s: not set: give the ARN of the management account's heartbeat role (with %s set)", function.EnvHeartbeatRoleARN, function.EnvHeartbeatRegions))
		case !ok || region != "" || !isAccount(account) || !isRole || !isName(name, 64, "+=,.@_-/"):
			errs = append(errs, fmt.Errorf("%s: %q is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)", function.EnvHeartbeatRoleARN, rt.RoleARN))
		case len(rt.Regions) == 0:
			errs = append(errs, fmt.Errorf("%s: not set: give the regions to write the round-trip parameter in (with %s set)", function.EnvHeartbeatRegions, function.EnvHeartbeatRoleARN))
		default:
			rt.ManagementAccount = account
		}
	}
	if len(errs) > 0 {
		return rt, fmt.Errorf("%w for the heartbeat round trip: %w", ErrInvalid, errors.Join(errs...))
	}
	return rt, nil
}

// isRegion: lower-case letters and digits in dash-separated parts, at least three (us-east-1,
// ap-southeast-4, us-gov-west-1).
func isRegion(s string) bool {
	parts := strings.Split(s, "-")
	if len(parts) < 3 || len(s) > 32 {
		return false
	}
	for _, p := range parts {
		if !isName(p, 16, "") || strings.ToLower(p) != p {
			return false
		}
	}
	return true
}
