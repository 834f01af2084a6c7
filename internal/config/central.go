package config

import (
	"fmt"
	"strings"

	"github.com/rootguard/rootguard/internal/function"
)

// CentralAccount reads and checks ROOTGUARD_CENTRAL_ACCOUNT ("" when unset); the error wraps
// ErrInvalid and names the variable.
func CentralAccount(getenv func(string) string) (string, error) {
	v := strings.TrimSpace(getenv(function.EnvCentralAccount))
	if v == "" {
		return "", nil
	}
	if len(v) != 12 || strings.Trim(v, "0123456789") != "" {
		return "", fmt.Errorf("%w: %s: %q is not a 12-digit account id", ErrInvalid, function.EnvCentralAccount, v)
	}
	return v, nil
}

// ForwarderAudit reads the forwarder audit's regions and central bus ARN (none when the regions
// are unset). The error wraps ErrInvalid and names the variable.
func ForwarderAudit(getenv func(string) string) (regions []string, bus string, err error) {
	regions = List(getenv(function.EnvForwardRegions))
	bus = strings.TrimSpace(getenv(function.EnvCentralBusARN))
	if len(regions) == 0 {
		return nil, "", nil
	}
	for _, r := range regions {
		if strings.Count(r, "-") < 2 || strings.ContainsAny(r, " /:") {
			return nil, "", fmt.Errorf("%w: %s: %q is not a region", ErrInvalid, function.EnvForwardRegions, r)
		}
	}
	if !strings.HasPrefix(bus, "arn:") || !strings.Contains(bus, ":event-bus/") {
		return nil, "", fmt.Errorf("%w: %s: %q is not an event bus ARN (required with %s)", ErrInvalid, function.EnvCentralBusARN, bus, function.EnvForwardRegions)
	}
	return regions, bus, nil
}
