package config

import (
	"fmt"
	"strings"
)

// EnvCentralAccount names the account that runs rootguard (optional, 12 digits): the evaluators
// accept the heartbeat's canary events only from it. When unset they take the account of the
// invoked function's ARN, which is the same account in a deployment.
const EnvCentralAccount = "ROOTGUARD_CENTRAL_ACCOUNT"

// EnvDeploymentPrincipals names the principals that deploy rootguard (Config.DeploymentPrincipals).
const EnvDeploymentPrincipals = "ROOTGUARD_DEPLOYMENT_PRINCIPALS"

// CentralAccount reads and checks ROOTGUARD_CENTRAL_ACCOUNT ("" when unset); the error wraps
// ErrInvalid and names the variable.
func CentralAccount(getenv func(string) string) (string, error) {
	v := strings.TrimSpace(getenv(EnvCentralAccount))
	if v == "" {
		return "", nil
	}
	if len(v) != 12 || strings.Trim(v, "0123456789") != "" {
		return "", fmt.Errorf("%w: %s: %q is not a 12-digit account id", ErrInvalid, EnvCentralAccount, v)
	}
	return v, nil
}

// Forwarder audit variables (the audit function; both set by the infrastructure).
const (
	// EnvForwardRegions lists the forwarded regions (comma-separated); empty disables the
	// forwarder audit.
	EnvForwardRegions = "ROOTGUARD_FORWARD_REGIONS"
	// EnvCentralBusARN is the ARN of the central bus every forwarding rule must target.
	EnvCentralBusARN = "ROOTGUARD_CENTRAL_BUS_ARN"
)

// ForwarderAudit reads the forwarder audit's regions and central bus ARN (none when the regions
// are unset). The error wraps ErrInvalid and names the variable.
func ForwarderAudit(getenv func(string) string) (regions []string, bus string, err error) {
	regions = List(getenv(EnvForwardRegions))
	bus = strings.TrimSpace(getenv(EnvCentralBusARN))
	if len(regions) == 0 {
		return nil, "", nil
	}
	for _, r := range regions {
		if strings.Count(r, "-") < 2 || strings.ContainsAny(r, " /:") {
			return nil, "", fmt.Errorf("%w: %s: %q is not a region", ErrInvalid, EnvForwardRegions, r)
		}
	}
	if !strings.HasPrefix(bus, "arn:") || !strings.Contains(bus, ":event-bus/") {
		return nil, "", fmt.Errorf("%w: %s: %q is not an event bus ARN (required with %s)", ErrInvalid, EnvCentralBusARN, bus, EnvForwardRegions)
	}
	return regions, bus, nil
}
