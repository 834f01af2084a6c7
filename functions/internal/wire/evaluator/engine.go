package evaluator

import (
	"fmt"
	"strings"

	"github.com/rootguard/rootguard/internal/config"
	"github.com/rootguard/rootguard/internal/function"
	"github.com/rootguard/rootguard/internal/rule"
)

// Rules is the rule engine's configuration from the function's configuration.
func Rules(c config.Config) rule.Config {
	return rule.Config{
		StaxDomains:        c.StaxDomains,
		ProtectionSCPNames: c.ProtectionSCP,
		TrustedPrincipals:  c.TrustedPrincipals,
		ExceptionMaxAge:    c.ExceptionMaxAge,
		// Appended: rootguard's deployment roles (FORWARDER-TAMPERED).
		DeploymentPrincipals: c.DeploymentPrincipals,
		ExceptionApprovers:   c.ExceptionApprovers,
		TrustSuspension:      c.TrustSuspension,
	}
}

// ruleVariables are the variables the rule engine's configuration comes from; an error of the
// engine names them.
var ruleVariables = []string{
	function.EnvStaxDomains, function.EnvProtectionSCP, function.EnvTrustedPrincipals,
	function.EnvExceptionApprovers, function.EnvTrustSuspension,
}

// Engine builds the rule engine of a function from its configuration, at cold start. Package
// config checks each variable's form; the engine checks what the rules need of their values
// (domains, name patterns, exact ARNs). The error wraps config.ErrInvalid and names the
// variables, as config.Load's do.
func Engine(name string, c config.Config) (*rule.Engine, error) {
	eng, err := rule.NewEngine(Rules(c))
	if err != nil {
		names := strings.Join(ruleVariables[:len(ruleVariables)-1], ", ") + " or " + ruleVariables[len(ruleVariables)-1]
		return nil, fmt.Errorf("%w for %s: %s: %w", config.ErrInvalid, name, names, err)
	}
	return eng, nil
}
