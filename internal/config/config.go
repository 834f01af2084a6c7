// Package config reads the rootguard Lambda functions' configuration from ROOTGUARD_* environment
// variables, once at start, and validates it with a message that names every bad variable.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/route"
	"github.com/rootguard/rootguard/internal/rule"
)

// Root credential modes (ROOTGUARD_ROOT_CREDENTIALS_MODE).
const (
	// ModeAuditRole reads root credential state through a read-only role in every account.
	ModeAuditRole = "audit-role"
	// ModeAssumeRoot reads it through sts:AssumeRoot with the IAMAuditRootUserCredentials task policy.
	ModeAssumeRoot = "assume-root"
)

// Defaults.
const (
	DefaultAuditRoleName  = "rootguard-audit"
	DefaultFactsTTL       = 5 * time.Minute
	DefaultOnboardingWait = 2 * time.Minute
)

// ErrInvalid wraps every configuration error.
var ErrInvalid = errors.New("invalid rootguard configuration")

// Config is the configuration of every rootguard function. Each field names its environment
// variable; the functions read only the ones they need, and Load validates those.
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

// Variable names.
const (
	EnvStaxDomains         = "ROOTGUARD_STAX_DOMAINS"
	EnvProtectionSCP       = "ROOTGUARD_PROTECTION_SCP"
	EnvTrustedPrincipals   = "ROOTGUARD_TRUSTED_PRINCIPALS"
	EnvExceptionMaxAge     = "ROOTGUARD_EXCEPTION_MAX_AGE"
	EnvRootCredentialsMode = "ROOTGUARD_ROOT_CREDENTIALS_MODE"
	EnvAuditRoleName       = "ROOTGUARD_AUDIT_ROLE_NAME"
	EnvEventBus            = "ROOTGUARD_EVENT_BUS"
	EnvAlertsTopicARN      = "ROOTGUARD_ALERTS_TOPIC_ARN"
	EnvChatTopicARN        = "ROOTGUARD_CHAT_TOPIC_ARN"
	EnvSecurityHub         = "ROOTGUARD_SECURITYHUB"
	EnvMinSeverityEmail    = "ROOTGUARD_MIN_SEVERITY_EMAIL"
	EnvMinSeverityChat     = "ROOTGUARD_MIN_SEVERITY_CHAT"
	EnvMinSeveritySecHub   = "ROOTGUARD_MIN_SEVERITY_SECURITYHUB"
	EnvDedupTable          = "ROOTGUARD_DEDUP_TABLE"
	EnvFactsTTL            = "ROOTGUARD_FACTS_TTL"
	EnvOnboardingWait      = "ROOTGUARD_ONBOARDING_WAIT"
	EnvLogLevel            = "ROOTGUARD_LOG_LEVEL"
	EnvRevert              = "ROOTGUARD_REVERT"
	EnvRevertRole          = "ROOTGUARD_REVERT_ROLE"
	EnvExceptionApprovers  = "ROOTGUARD_EXCEPTION_APPROVERS"
	EnvTrustSuspension     = "ROOTGUARD_TRUST_SUSPENSION"
)

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

// Load reads and validates the configuration of one function (a route.Functions name). Every
// problem is reported, each naming its variable; the error wraps ErrInvalid.
func Load(function string, getenv func(string) string) (Config, error) {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
	}
	get := func(name string) string { return strings.TrimSpace(getenv(name)) }
	duration := func(name string, def time.Duration) time.Duration {
		v := get(name)
		if v == "" {
			return def
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			bad(name, "%q is not a non-negative Go duration (e.g. 90s, 5m, 24h)", v)
			return def
		}
		return d
	}
	severity := func(name string, def finding.Severity) finding.Severity {
		v := get(name)
		if v == "" {
			return def
		}
		s, err := finding.ParseSeverity(v)
		if err != nil {
			bad(name, "%v", err)
			return def
		}
		return s
	}

	c := Config{
		StaxDomains:            List(get(EnvStaxDomains)),
		ProtectionSCP:          List(get(EnvProtectionSCP)),
		TrustedPrincipals:      List(get(EnvTrustedPrincipals)),
		ExceptionMaxAge:        duration(EnvExceptionMaxAge, rule.DefaultExceptionMaxAge),
		RootCredentialsMode:    strings.ToLower(get(EnvRootCredentialsMode)),
		AuditRoleName:          get(EnvAuditRoleName),
		EventBus:               get(EnvEventBus),
		AlertsTopicARN:         get(EnvAlertsTopicARN),
		ChatTopicARN:           get(EnvChatTopicARN),
		MinSeverityEmail:       severity(EnvMinSeverityEmail, finding.Low),
		MinSeverityChat:        severity(EnvMinSeverityChat, finding.Medium),
		MinSeveritySecurityHub: severity(EnvMinSeveritySecHub, finding.Informational),
		DedupTable:             get(EnvDedupTable),
		FactsTTL:               duration(EnvFactsTTL, DefaultFactsTTL),
		OnboardingWait:         duration(EnvOnboardingWait, DefaultOnboardingWait),
		DeploymentPrincipals:   List(get(EnvDeploymentPrincipals)),
		ExceptionApprovers:     List(get(EnvExceptionApprovers)),
		TrustSuspension:        duration(EnvTrustSuspension, rule.DefaultTrustSuspension),
	}
	if c.RootCredentialsMode == "" {
		c.RootCredentialsMode = ModeAuditRole
	}
	if c.AuditRoleName == "" {
		c.AuditRoleName = DefaultAuditRoleName
	}
	if v := get(EnvSecurityHub); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			bad(EnvSecurityHub, "%q is not true or false", v)
		}
		c.SecurityHub = b
	}
	switch v := strings.ToLower(get(EnvLogLevel)); v {
	case "", "info":
		c.LogLevel = slog.LevelInfo
	case "debug":
		c.LogLevel = slog.LevelDebug
	case "warn", "warning":
		c.LogLevel = slog.LevelWarn
	case "error":
		c.LogLevel = slog.LevelError
	default:
		bad(EnvLogLevel, "%q is not one of debug, info, warn, error", v)
	}
	if c.DedupTable != "" && !isTable(c.DedupTable) {
		bad(EnvDedupTable, "%q is not a DynamoDB table name or ARN", c.DedupTable)
	}

	switch function {
	case route.RootActivity, route.SCPGuard, route.Onboarding, route.Audit:
		if len(c.StaxDomains) == 0 {
			bad(EnvStaxDomains, "not set: give the Stax-managed root email domains, comma-separated (e.g. stax.example); without them no account is Stax-owned")
		}
		if _, err := rule.NewEngine(c.Rules()); err != nil {
			bad(EnvStaxDomains+", "+EnvProtectionSCP+", "+EnvTrustedPrincipals+", "+EnvExceptionApprovers+" or "+EnvTrustSuspension, "%v", err)
		}
		switch c.RootCredentialsMode {
		case ModeAuditRole:
			if !isName(c.AuditRoleName, 64, "+=,.@_-") {
				bad(EnvAuditRoleName, "%q is not an IAM role name", c.AuditRoleName)
			}
		case ModeAssumeRoot:
		default:
			bad(EnvRootCredentialsMode, "%q is not %s or %s", c.RootCredentialsMode, ModeAuditRole, ModeAssumeRoot)
		}
		switch {
		case c.EventBus == "":
			bad(EnvEventBus, "not set: give the name or ARN of the rootguard event bus the findings are put on")
		case !isBus(c.EventBus):
			bad(EnvEventBus, "%q is not an event bus name or ARN", c.EventBus)
		}
	case route.Notifier:
		for name, v := range map[string]string{EnvAlertsTopicARN: c.AlertsTopicARN, EnvChatTopicARN: c.ChatTopicARN} {
			if v != "" && !isTopicARN(v) {
				bad(name, "%q is not an SNS topic ARN", v)
			}
		}
		if c.AlertsTopicARN == "" && c.ChatTopicARN == "" && !c.SecurityHub {
			bad(EnvAlertsTopicARN+", "+EnvChatTopicARN+", "+EnvSecurityHub, "no delivery channel is enabled: set a topic ARN or %s=true", EnvSecurityHub)
		}
	case route.Heartbeat: // ROOTGUARD_EVENT_BUS is the central organization bus the canaries are put on.
		if !isBus(c.EventBus) {
			bad(EnvEventBus, "%q is not the name or ARN of the central rootguard bus the heartbeat puts its canaries on", c.EventBus)
		}
	default:
		errs = append(errs, fmt.Errorf("unknown function %q (want one of %s)", function, strings.Join(route.Functions, ", ")))
	}
	c.loadRevert(function, get, bad)
	if len(errs) > 0 {
		return c, fmt.Errorf("%w for %s: %w", ErrInvalid, function, errors.Join(errs...))
	}
	return c, nil
}

// Rules returns the rule engine's configuration.
func (c Config) Rules() rule.Config {
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
