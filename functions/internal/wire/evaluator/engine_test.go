package evaluator

import (
	"errors"
	"strings"
	"testing"

	"github.com/rootguard/rootguard/internal/config"
	"github.com/rootguard/rootguard/internal/function"
	"github.com/rootguard/rootguard/internal/rule"
)

// TestEngineErrors: what the rule engine refuses of the configuration is reported at cold start
// with the variables' names, wrapping config.ErrInvalid, as config.Load reports its own errors.
func TestEngineErrors(t *testing.T) {
	base := map[string]string{function.EnvStaxDomains: "stax.example", function.EnvEventBus: "rootguard"}
	tests := []struct {
		name, function, variable, value string
		want                            []string // substrings of the error
	}{
		{"bad domain", function.RootActivity, function.EnvStaxDomains, "ops@stax.example", []string{function.EnvStaxDomains, "not a domain name"}},
		{"bad protection name", function.RootActivity, function.EnvProtectionSCP, "a*b", []string{function.EnvProtectionSCP, "trailing *"}},
		{"bad trusted principal", function.RootActivity, function.EnvTrustedPrincipals, "arn:aws:iam::*:role/x", []string{function.EnvTrustedPrincipals, "exact ARN"}},
		{"bad exception approver", function.SCPGuard, function.EnvExceptionApprovers, "arn:aws:iam::111111111111:role/*", []string{function.EnvExceptionApprovers, "not an IAM role or user ARN"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{tt.variable: tt.value}
			for k, v := range base {
				if _, set := env[k]; !set {
					env[k] = v
				}
			}
			c, err := config.Load(tt.function, func(k string) string { return env[k] })
			if err != nil {
				t.Fatalf("config.Load: %v (the form is fine; the engine refuses the value)", err)
			}
			_, err = Engine(tt.function, c)
			if !errors.Is(err, config.ErrInvalid) {
				t.Fatalf("Engine: %v, want ErrInvalid", err)
			}
			for _, w := range append(tt.want, tt.function) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	c, err := config.Load(function.Audit, func(k string) string { return base[k] })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Engine(function.Audit, c); err != nil {
		t.Errorf("Engine with the defaults: %v", err)
	}
}

// TestDefaultsAgree: the defaults the function table gives the rule variables are the rule
// engine's own (the engine applies them to a zero value; package config, which does not link the
// engine, applies the table's).
func TestDefaultsAgree(t *testing.T) {
	if function.DefaultExceptionMaxAge != rule.DefaultExceptionMaxAge || function.DefaultTrustSuspension != rule.DefaultTrustSuspension {
		t.Errorf("function table: exception max age %v, trust suspension %v; rule engine: %v, %v",
			function.DefaultExceptionMaxAge, function.DefaultTrustSuspension, rule.DefaultExceptionMaxAge, rule.DefaultTrustSuspension)
	}
}

// TestGroups: every group of the catalogue is evaluated by a function of the table, and every
// group of the table has rules.
func TestGroups(t *testing.T) {
	evaluated, used := map[rule.Group]bool{}, map[rule.Group]bool{}
	for _, f := range function.Table {
		for _, g := range f.Groups {
			evaluated[rule.Group(g)] = true
		}
	}
	for _, r := range rule.Catalogue() {
		used[r.Group] = true
		if !evaluated[r.Group] {
			t.Errorf("rule %s: group %q is evaluated by no function", r.ID, r.Group)
		}
	}
	for g := range evaluated {
		if !used[g] {
			t.Errorf("group %q of the function table has no rule", g)
		}
	}
}

// TestAuditOpenItem: the audit's response item in the function table (its IAM grant) is the item
// the audit keeps its open findings in.
func TestAuditOpenItem(t *testing.T) {
	audit, _ := function.Lookup(function.Audit)
	if !audit.Writes(rule.OpenKeyPrefix + rule.AuditOpenKey) {
		t.Errorf("the audit's state %+v, response %+v: want %s%s written", audit.State, audit.Response, rule.OpenKeyPrefix, rule.AuditOpenKey)
	}
}
