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
