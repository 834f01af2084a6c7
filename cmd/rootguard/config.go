package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/function"
	"github.com/rootguard/rootguard/internal/org"
	"github.com/rootguard/rootguard/internal/rule"
)

// options are the flags shared by replay and audit. Each has a ROOTGUARD_* environment variable;
// a flag given on the command line wins over the variable.
type options struct {
	org               string
	staxDomains       string
	protectionSCP     string
	trustedPrincipals string
	exceptionMaxAge   string
	approvers         string
	trustSuspension   string
	format            string
	failOn            string
	planOK            bool // the command prints revert plans (replay)
}

// envNames maps each flag to its environment variable (package function names them all; a flag
// that means what a function's variable means reads that variable).
var envNames = map[string]string{
	"org":                function.EnvOrg,
	"stax-domains":       function.EnvStaxDomains,
	"protection-scp":     function.EnvProtectionSCP,
	"trusted-principals": function.EnvTrustedPrincipals,
	"exception-max-age":  function.EnvExceptionMaxAge,
	"format":             function.EnvFormat,
	"fail-on":            function.EnvFailOn,
	"audit":              function.EnvReplayAudit,
	"quiet":              function.EnvQuiet,
	"at":                 function.EnvAuditAt,

	// exceptions and trust
	"exception-approvers": function.EnvExceptionApprovers,
	"trust-suspension":    function.EnvTrustSuspension,
	// snapshot
	"root-credentials-mode": function.EnvRootCredentialsMode,
	"audit-role-name":       function.EnvAuditRoleName,
	// replay inputs (replay, report)
	"since":    function.EnvSince,
	"until":    function.EnvUntil,
	"progress": function.EnvProgress,
	// replay --format plan
	"revert-role": function.EnvRevertRole,
	"state-table": function.EnvDedupTable,
}

func (o *options) register(fs *flag.FlagSet) {
	fs.StringVar(&o.org, "org", "", "organization snapshot `FILE` (format: README.md, \"Organization facts: the snapshot format\"); without it no account is known and rules fail closed [ROOTGUARD_ORG]")
	fs.StringVar(&o.staxDomains, "stax-domains", "", "comma-separated Stax-managed email `DOMAINS`; subdomains count [ROOTGUARD_STAX_DOMAINS]")
	fs.StringVar(&o.protectionSCP, "protection-scp", strings.Join(rule.DefaultProtectionSCPNames, ","), "comma-separated protection SCP `NAMES`; a trailing * means starts-with [ROOTGUARD_PROTECTION_SCP]")
	fs.StringVar(&o.trustedPrincipals, "trusted-principals", "", "comma-separated exact principal `ARNS` whose protection changes are sanctioned [ROOTGUARD_TRUSTED_PRINCIPALS]")
	fs.StringVar(&o.exceptionMaxAge, "exception-max-age", "24h", "longest approved exception `DURATION` [ROOTGUARD_EXCEPTION_MAX_AGE]")
	fs.StringVar(&o.approvers, "exception-approvers", "", "comma-separated IAM role or user `ARNS` whose TagResource of rootguard:exception grants an exception; without them no exception counts [ROOTGUARD_EXCEPTION_APPROVERS]")
	fs.StringVar(&o.trustSuspension, "trust-suspension", "24h", "how long a changed trusted principal or approver is not trusted (`DURATION`) [ROOTGUARD_TRUST_SUSPENSION]")
	fs.StringVar(&o.format, "format", "text", "output `FORMAT`: "+formatHelp()+", or plan (replay: the revert plan, one call per line) [ROOTGUARD_FORMAT]")
	fs.StringVar(&o.failOn, "fail-on", "", "exit 1 when a finding is at or above `SEVERITY` [ROOTGUARD_FAIL_ON]")
}

// applyEnv fills every flag not set on the command line from its environment variable.
func applyEnv(fs *flag.FlagSet, getenv func(string) string) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		env, ok := envNames[f.Name]
		if !ok || set[f.Name] || err != nil {
			return
		}
		if v := getenv(env); v != "" {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s=%q: %w", env, v, e)
			}
		}
	})
	return err
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// setup builds the engine and loads the facts.
func (o *options) setup() (*rule.Engine, org.Facts, finding.Severity, error) {
	maxAge, err := time.ParseDuration(o.exceptionMaxAge)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("--exception-max-age %q: %w", o.exceptionMaxAge, err)
	}
	suspension, err := time.ParseDuration(o.trustSuspension)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("--trust-suspension %q: %w", o.trustSuspension, err)
	}
	eng, err := rule.NewEngine(rule.Config{
		StaxDomains:        splitList(o.staxDomains),
		ProtectionSCPNames: splitList(o.protectionSCP),
		TrustedPrincipals:  splitList(o.trustedPrincipals),
		ExceptionMaxAge:    maxAge,
		ExceptionApprovers: splitList(o.approvers),
		TrustSuspension:    suspension,
	})
	if err != nil {
		return nil, nil, 0, err
	}
	if _, ok := lookupFormat(o.format); !ok {
		if o.format != "plan" {
			return nil, nil, 0, fmt.Errorf("--format %q: want %s", o.format, formatList())
		}
		if !o.planOK {
			return nil, nil, 0, fmt.Errorf("--format plan: only replay prints a revert plan")
		}
	}
	var failOn finding.Severity
	if o.failOn != "" {
		if failOn, err = finding.ParseSeverity(o.failOn); err != nil {
			return nil, nil, 0, fmt.Errorf("--fail-on: %w", err)
		}
	}
	var facts org.Facts = org.Empty{}
	if o.org != "" {
		s, err := org.LoadSnapshotFile(o.org)
		if err != nil {
			return nil, nil, 0, err
		}
		facts = s
	}
	return eng, facts, failOn, nil
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
