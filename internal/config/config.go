// Package config reads the rootguard Lambda functions' configuration from their ROOTGUARD_*
// environment variables, once at start, and validates it with a message that names every bad
// variable. Which function takes which variable, and each variable's default, is package
// function's table; this package only parses and checks. It does not link the rule engine: the
// rule configuration is checked where the engine is built (functions/internal/wire/evaluator).
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/function"
)

// ErrInvalid wraps every configuration error.
var ErrInvalid = errors.New("invalid rootguard configuration")

// Config is the configuration of every rootguard function. Each field names its environment
// variable; Load fills the fields of the variables the function takes (function.Table), with
// their defaults (function.Variables), and leaves the others zero.
type Config struct {
	// StaxDomains (ROOTGUARD_STAX_DOMAINS, comma-separated, required by the evaluators): the
	// Stax-managed root email domains; subdomains count.
	StaxDomains []string
	// ProtectionSCP (ROOTGUARD_PROTECTION_SCP, comma-separated, default Stax-Protection*): the
	// protection SCP names; a trailing * means "starts with".
	ProtectionSCP []string
	// TrustedPrincipals (ROOTGUARD_TRUSTED_PRINCIPALS, comma-separated exact ARNs): principals whose
	// protection changes are sanctioned.
	TrustedPrincipals []string
	// ExceptionMaxAge (ROOTGUARD_EXCEPTION_MAX_AGE, Go duration, default 24h): the longest an approved
	// exception may run.
	ExceptionMaxAge time.Duration
	// RootCredentialsMode (ROOTGUARD_ROOT_CREDENTIALS_MODE, audit-role or assume-root, default
	// audit-role): how root credential state is read inside member accounts.
	RootCredentialsMode string
	// AuditRoleName (ROOTGUARD_AUDIT_ROLE_NAME, default rootguard-audit): the read-only role assumed
	// in every account in audit-role mode.
	AuditRoleName string
	// EventBus (ROOTGUARD_EVENT_BUS, required by the evaluators): the name or ARN of the rootguard
	// event bus the findings are put on.
	EventBus string
	// AlertsTopicARN (ROOTGUARD_ALERTS_TOPIC_ARN): the SNS topic for email alerts; empty disables
	// the channel.
	AlertsTopicARN string
	// ChatTopicARN (ROOTGUARD_CHAT_TOPIC_ARN): the SNS topic read by Amazon Q Developer in chat
	// applications; empty disables the channel.
	ChatTopicARN string
	// SecurityHub (ROOTGUARD_SECURITYHUB, true or false, default false): import findings into
	// Security Hub.
	SecurityHub bool
	// MinSeverityEmail (ROOTGUARD_MIN_SEVERITY_EMAIL, default LOW): the least severity emailed.
	MinSeverityEmail finding.Severity
	// MinSeverityChat (ROOTGUARD_MIN_SEVERITY_CHAT, default MEDIUM): the least severity sent to chat.
	MinSeverityChat finding.Severity
	// MinSeveritySecurityHub (ROOTGUARD_MIN_SEVERITY_SECURITYHUB, default INFORMATIONAL): the least
	// severity imported into Security Hub.
	MinSeveritySecurityHub finding.Severity
	// DedupTable (ROOTGUARD_DEDUP_TABLE, optional): the DynamoDB state table, a name or ARN: the
	// notifier's delivery records (finding#... items: exactly once per channel) and the protection
	// SCPs' last recorded state (policy#... items: scp-guard and audit). Without it delivery is
	// at least once and a fresh scp-guard knows no content from before an UpdatePolicy.
	DedupTable string
	// FactsTTL (ROOTGUARD_FACTS_TTL, Go duration, default 5m; 0 disables the cache): how long
	// organization facts are cached across warm invocations.
	FactsTTL time.Duration
	// OnboardingWait (ROOTGUARD_ONBOARDING_WAIT, Go duration, default 2m): the longest onboarding
	// waits for a new account to become readable, within the invocation deadline.
	OnboardingWait time.Duration
	// LogLevel (ROOTGUARD_LOG_LEVEL, debug, info, warn or error, default info). Raw events are
	// logged only at debug.
	LogLevel slog.Level
	// Revert (ROOTGUARD_REVERT, off, dry-run or on, default off; scp-guard): revert protection
	// changes (see revert.go).
	Revert string
	// RevertRole (ROOTGUARD_REVERT_ROLE, a role ARN; required when Revert is not off): the role
	// scp-guard assumes to revert, and by whose ARN it knows its own changes.
	RevertRole string
	// DeploymentPrincipals (ROOTGUARD_DEPLOYMENT_PRINCIPALS, comma-separated ARNs, * matches any
	// characters; default rule.DefaultDeploymentPrincipals): who may change rootguard's own
	// resources without FORWARDER-TAMPERED.
	DeploymentPrincipals []string
	// ExceptionApprovers (ROOTGUARD_EXCEPTION_APPROVERS, comma-separated IAM role or user ARNs):
	// the principals whose TagResource of rootguard:exception grants an exception (a role matches
	// every session of it). Without them no exception counts.
	ExceptionApprovers []string
	// TrustSuspension (ROOTGUARD_TRUST_SUSPENSION, Go duration, default 24h): how long a trusted
	// principal or approver is neither after TRUSTED-PRINCIPAL-CHANGED.
	TrustSuspension time.Duration
}

// Name checks, written out rather than as regular expressions: compiling those (with their
// counted repetitions) would cost milliseconds of every cold start.

// isName reports whether s has 1 to max characters, each a letter, a digit or one of extra.
func isName(s string, maxLen int, extra string) bool {
	if s == "" || len(s) > maxLen {
		return false
	}
	for _, r := range s {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune(extra, r)) {
			return false
		}
	}
	return true
}

// arnParts splits an ARN of the given service into its region, account and resource.
func arnParts(s, service string) (region, account, resource string, ok bool) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || !strings.HasPrefix(parts[1], "aws") || parts[2] != service {
		return "", "", "", false
	}
	return parts[3], parts[4], parts[5], true
}

func isAccount(s string) bool {
	return len(s) == 12 && isName(s, 12, "") && strings.Trim(s, "0123456789") == ""
}

// isTopicARN: arn:aws:sns:REGION:ACCOUNT:NAME.
func isTopicARN(s string) bool {
	_, account, name, ok := arnParts(s, "sns")
	return ok && (account == "" || isAccount(account)) && isName(name, 256, "_-")
}

// isBus: an event bus name, or arn:aws:events:REGION:ACCOUNT:event-bus/NAME.
func isBus(s string) bool {
	if region, account, res, ok := arnParts(s, "events"); ok {
		name, found := strings.CutPrefix(res, "event-bus/")
		return found && region != "" && isAccount(account) && isName(name, 256, "._/-")
	}
	return isName(s, 256, "._/-")
}

// isTable: a DynamoDB table name or ARN.
func isTable(s string) bool {
	if _, _, _, ok := arnParts(s, "dynamodb"); ok {
		return true
	}
	return len(s) >= 3 && isName(s, 255, "_.-")
}

// ModeAuditRole and ModeAssumeRoot are the values of RootCredentialsMode (package function's).
const (
	ModeAuditRole  = function.ModeAuditRole
	ModeAssumeRoot = function.ModeAssumeRoot
)

// Load reads and validates the configuration of one function (a function.Table name): each of
// the variables the function takes, with its default when unset. Every problem is reported, each
// naming its variable; the error wraps ErrInvalid. Variables the function does not take are not
// read (ROOTGUARD_REVERT, set to revert, is refused where it would be ignored).
func Load(name string, getenv func(string) string) (Config, error) {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
	}
	fn, ok := function.Lookup(name)
	if !ok {
		err := fmt.Errorf("unknown function %q (want one of %s)", name, strings.Join(function.Names(), ", "))
		return Config{}, fmt.Errorf("%w for %s: %w", ErrInvalid, name, err)
	}
	var c Config
	for _, e := range fn.Env {
		v := strings.TrimSpace(getenv(e.Name))
		if v == "" {
			if e.Required {
				bad(e.Name, "not set: %s", notSet(fn, e.Name))
				continue
			}
			if def, _ := function.VariableOf(e.Name); def.Default != "" {
				v = def.Default
			}
		}
		if read, ok := readers[e.Name]; ok {
			read(&c, v, func(format string, args ...any) { bad(e.Name, format, args...) })
		}
	}
	c.check(fn, bad)
	if !fn.Takes(function.EnvRevert) {
		if v := strings.ToLower(strings.TrimSpace(getenv(function.EnvRevert))); v != "" && v != RevertOff {
			bad(function.EnvRevert, "only scp-guard reverts; leave it unset for %s", name)
		}
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("%w for %s: %w", ErrInvalid, name, errors.Join(errs...))
	}
	return c, nil
}

// notSet says what a required variable of a function must give.
func notSet(fn function.Function, name string) string {
	switch {
	case name == function.EnvStaxDomains:
		return "give the Stax-managed root email domains, comma-separated (e.g. stax.example); without them no account is Stax-owned"
	case name == function.EnvEventBus && fn.Bus == function.OrganizationBus:
		return "give the name or ARN of the central rootguard bus the " + fn.Name + " puts its canaries on"
	case name == function.EnvEventBus:
		return "give the name or ARN of the rootguard event bus the findings are put on"
	}
	return "required by " + fn.Name
}

// check runs the checks that involve several variables of a function.
func (c *Config) check(fn function.Function, bad func(name, format string, args ...any)) {
	if fn.Takes(function.EnvRootCredentialsMode) && c.RootCredentialsMode == ModeAuditRole && !isName(c.AuditRoleName, 64, "+=,.@_-") {
		bad(function.EnvAuditRoleName, "%q is not an IAM role name", c.AuditRoleName)
	}
	if fn.Takes(function.EnvSecurityHub) && c.AlertsTopicARN == "" && c.ChatTopicARN == "" && !c.SecurityHub {
		bad(function.EnvAlertsTopicARN+", "+function.EnvChatTopicARN+", "+function.EnvSecurityHub,
			"no delivery channel is enabled: set a topic ARN or %s=true", function.EnvSecurityHub)
	}
	if fn.Takes(function.EnvRevertRole) && c.Reverting() && c.RevertRole == "" {
		bad(function.EnvRevertRole, "not set: %s=%s needs the revert role's ARN (events it makes are never reverted)", function.EnvRevert, c.Revert)
	}
}

// readers parse each variable (its value, or its default when unset) into the Config. The
// variables not here are read by their own loaders: LoadRoundTrip, ForwarderAudit,
// CentralAccount and the daily report's (functions/internal/daily).
var readers = map[string]func(c *Config, v string, bad func(format string, args ...any)){
	function.EnvStaxDomains:          func(c *Config, v string, _ func(string, ...any)) { c.StaxDomains = List(v) },
	function.EnvProtectionSCP:        func(c *Config, v string, _ func(string, ...any)) { c.ProtectionSCP = List(v) },
	function.EnvTrustedPrincipals:    func(c *Config, v string, _ func(string, ...any)) { c.TrustedPrincipals = List(v) },
	function.EnvExceptionApprovers:   func(c *Config, v string, _ func(string, ...any)) { c.ExceptionApprovers = List(v) },
	function.EnvDeploymentPrincipals: func(c *Config, v string, _ func(string, ...any)) { c.DeploymentPrincipals = List(v) },
	function.EnvExceptionMaxAge:      func(c *Config, v string, bad func(string, ...any)) { c.ExceptionMaxAge = duration(v, bad) },
	function.EnvTrustSuspension:      func(c *Config, v string, bad func(string, ...any)) { c.TrustSuspension = duration(v, bad) },
	function.EnvFactsTTL:             func(c *Config, v string, bad func(string, ...any)) { c.FactsTTL = duration(v, bad) },
	function.EnvOnboardingWait:       func(c *Config, v string, bad func(string, ...any)) { c.OnboardingWait = duration(v, bad) },
	function.EnvRootCredentialsMode: func(c *Config, v string, bad func(string, ...any)) {
		c.RootCredentialsMode = strings.ToLower(v)
		if c.RootCredentialsMode != ModeAuditRole && c.RootCredentialsMode != ModeAssumeRoot {
			bad("%q is not %s or %s", c.RootCredentialsMode, ModeAuditRole, ModeAssumeRoot)
		}
	},
	function.EnvAuditRoleName: func(c *Config, v string, _ func(string, ...any)) { c.AuditRoleName = v },
	function.EnvEventBus: func(c *Config, v string, bad func(string, ...any)) {
		c.EventBus = v
		if !isBus(v) {
			bad("%q is not an event bus name or ARN", v)
		}
	},
	function.EnvDedupTable: func(c *Config, v string, bad func(string, ...any)) {
		c.DedupTable = v
		if v != "" && !isTable(v) {
			bad("%q is not a DynamoDB table name or ARN", v)
		}
	},
	function.EnvLogLevel: func(c *Config, v string, bad func(string, ...any)) {
		switch v = strings.ToLower(v); v {
		case "info":
			c.LogLevel = slog.LevelInfo
		case "debug":
			c.LogLevel = slog.LevelDebug
		case "warn", "warning":
			c.LogLevel = slog.LevelWarn
		case "error":
			c.LogLevel = slog.LevelError
		default:
			bad("%q is not one of debug, info, warn, error", v)
		}
	},
	function.EnvAlertsTopicARN: func(c *Config, v string, bad func(string, ...any)) { c.AlertsTopicARN = topic(v, bad) },
	function.EnvChatTopicARN:   func(c *Config, v string, bad func(string, ...any)) { c.ChatTopicARN = topic(v, bad) },
	function.EnvSecurityHub: func(c *Config, v string, bad func(string, ...any)) {
		b, err := strconv.ParseBool(v)
		if err != nil {
			bad("%q is not true or false", v)
		}
		c.SecurityHub = b
	},
	function.EnvMinSeverityEmail:  func(c *Config, v string, bad func(string, ...any)) { c.MinSeverityEmail = severity(v, bad) },
	function.EnvMinSeverityChat:   func(c *Config, v string, bad func(string, ...any)) { c.MinSeverityChat = severity(v, bad) },
	function.EnvMinSeveritySecHub: func(c *Config, v string, bad func(string, ...any)) { c.MinSeveritySecurityHub = severity(v, bad) },
	function.EnvRevert:            readRevert,
	function.EnvRevertRole:        readRevertRole,
}

// duration parses a non-negative Go duration ("" is 0).
func duration(v string, bad func(string, ...any)) time.Duration {
	if v == "" {
		return 0
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		bad("%q is not a non-negative Go duration (e.g. 90s, 5m, 24h)", v)
		return 0
	}
	return d
}

// severity parses a finding severity.
func severity(v string, bad func(string, ...any)) finding.Severity {
	s, err := finding.ParseSeverity(v)
	if err != nil {
		bad("%v", err)
	}
	return s
}

// topic checks an SNS topic ARN ("" disables the channel).
func topic(v string, bad func(string, ...any)) string {
	if v != "" && !isTopicARN(v) {
		bad("%q is not an SNS topic ARN", v)
	}
	return v
}

// List splits a comma-separated value, trimming blanks and dropping empty items.
func List(s string) []string {
	var out []string
	for p := range strings.SplitSeq(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
