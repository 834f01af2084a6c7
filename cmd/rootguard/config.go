package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/rootguard/rootguard/internal/finding"
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

// envNames maps each flag to its environment variable.
var envNames = map[string]string{
	"org":                "ROOTGUARD_ORG",
	"stax-domains":       "ROOTGUARD_STAX_DOMAINS",
	"protection-scp":     "ROOTGUARD_PROTECTION_SCP",
	"trusted-principals": "ROOTGUARD_TRUSTED_PRINCIPALS",
	"exception-max-age":  "ROOTGUARD_EXCEPTION_MAX_AGE",
	"format":             "ROOTGUARD_FORMAT",
	"fail-on":            "ROOTGUARD_FAIL_ON",
	"audit":              "ROOTGUARD_REPLAY_AUDIT",
	"quiet":              "ROOTGUARD_QUIET",
	"at":                 "ROOTGUARD_AUDIT_AT",

	// exceptions and trust
	"exception-approvers": "ROOTGUARD_EXCEPTION_APPROVERS",
	"trust-suspension":    "ROOTGUARD_TRUST_SUSPENSION",
	// snapshot
	"root-credentials-mode": "ROOTGUARD_ROOT_CREDENTIALS_MODE",
	"audit-role-name":       "ROOTGUARD_AUDIT_ROLE_NAME",
	// replay inputs (replay, report)
	"since":    "ROOTGUARD_SINCE",
	"until":    "ROOTGUARD_UNTIL",
	"progress": "ROOTGUARD_PROGRESS",
	// replay --format plan
	"revert-role": "ROOTGUARD_REVERT_ROLE",
	"state-table": "ROOTGUARD_DEDUP_TABLE",
}

func (o *options) register(fs *flag.FlagSet) {
	fs.StringVar(&o.org, "org", "", "organization snapshot `FILE` (format: README.md, \"Organization facts: the snapshot format\"); without it no account is known and rules fail closed [ROOTGUARD_ORG]")
	fs.StringVar(&o.staxDomains, "stax-domains", "", "comma-separated Stax-managed email `DOMAINS`; subdomains count [ROOTGUARD_STAX_DOMAINS]")
	fs.StringVar(&o.protectionSCP, "protection-scp", strings.Join(rule.DefaultProtectionSCPNames, ","), "comma-separated protection SCP `NAMES`; a trailing * means starts-with [ROOTGUARD_PROTECTION_SCP]")
	fs.StringVar(&o.trustedPrincipals, "trusted-principals", "", "comma-separated exact principal `ARNS` whose protection changes are sanctioned [ROOTGUARD_TRUSTED_PRINCIPALS]")
	fs.StringVar(&o.exceptionMaxAge, "exception-max-age", "24h", "longest approved exception `DURATION` [ROOTGUARD_EXCEPTION_MAX_AGE]")
	fs.StringVar(&o.approvers, "exception-approvers", "", "comma-separated IAM role or user `ARNS` whose TagResource of rootguard:exception grants an exception; without them no exception counts [ROOTGUARD_EXCEPTION_APPROVERS]")
	fs.StringVar(&o.trustSuspension, "trust-suspension", "24h", "how long a changed trusted principal or approver is not trusted (`DURATION`) [ROOTGUARD_TRUST_SUSPENSION]")
	fs.StringVar(&o.format, "format", "text", "output `FORMAT`: text, json (one finding per line), asff, chatbot, or plan (replay: the revert plan, one call per line) [ROOTGUARD_FORMAT]")
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
	switch o.format {
	case "text", "json", "asff", "chatbot":
	case "plan":
		if !o.planOK {
			return nil, nil, 0, fmt.Errorf("--format plan: only replay prints a revert plan")
		}
	default:
		return nil, nil, 0, fmt.Errorf("--format %q: want text, json, asff or chatbot", o.format)
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
