// Package infra is rootguard's AWS CDK application: the central detection stack (event buses,
// functions, topics, key, alarms), the management-account forwarders, and the member-account
// forwarder that a service-managed StackSet rolls out to every account of the organization.
//
// Every EventBridge pattern is generated from the functions' routing table (internal/route), and the
// heartbeat's schedule and alarms from their definition (internal/canary): pure data, the only
// packages of the module this one imports, so that what is deployed and what the functions accept
// and write cannot disagree.
package infra

import (
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rootguard/rootguard/internal/function"
)

// Root credential modes: how the functions read the root user's credential state in an account.
const (
	// ModeAuditRole assumes a read-only role that the member StackSet deploys in every account.
	ModeAuditRole = function.ModeAuditRole
	// ModeAssumeRoot calls sts:AssumeRoot with the IAMAuditRootUserCredentials task policy
	// (centralised root access; the central account must be the IAM delegated administrator).
	ModeAssumeRoot = function.ModeAssumeRoot
)

// GlobalRegion is where IAM, Organizations and root sign-in events are recorded: always forwarded.
const GlobalRegion = "us-east-1"

// Severities are the Security Hub labels, lowest first.
var Severities = []string{"INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"}

// Context keys (cdk.json "context", or `cdk -c key=value`).
const (
	CtxCentralAccount          = "centralAccount"
	CtxHomeRegion              = "homeRegion"
	CtxManagementAccount       = "managementAccount"
	CtxOrganizationID          = "organizationId"
	CtxOrganizationRootID      = "organizationRootId"
	CtxStaxDomains             = "staxDomains"
	CtxProtectionSCPNames      = "protectionScpNames"
	CtxAlertEmails             = "alertEmails"
	CtxChat                    = "chat"
	CtxSecurityHub             = "securityHub"
	CtxMinSeverityEmail        = "minSeverityEmail"
	CtxMinSeverityChat         = "minSeverityChat"
	CtxMinSeveritySecurityHub  = "minSeveritySecurityHub"
	CtxAuditSchedule           = "auditSchedule"
	CtxAuditInterval           = "auditInterval"
	CtxRootCredentialsMode     = "rootCredentialsMode"
	CtxAuditRoleName           = "auditRoleName"
	CtxForwardRegions          = "forwardRegions"
	CtxTrustedPrincipals       = "trustedPrincipals"
	CtxExceptionMaxAge         = "exceptionMaxAge"
	CtxExceptionApprovers      = "exceptionApprovers"
	CtxTrustSuspension         = "trustSuspension"
	CtxLogRetentionDays        = "logRetentionDays"
	CtxOrganizationsDelegation = "organizationsDelegation"
	CtxAssetDir                = "assetDir"
)

// Config is the validated deployment configuration.
type Config struct {
	// CentralAccount is the account that runs the functions (a security/audit account, or the
	// management account itself).
	CentralAccount string
	// HomeRegion is the central stack's region.
	HomeRegion string
	// ManagementAccount is the organization's management account.
	ManagementAccount string
	// OrganizationID is the organization id (o-...); the central bus admits only its principals.
	OrganizationID string
	// OrganizationRootID is the root id (r-...): the StackSet's deployment target.
	OrganizationRootID string
	// StaxDomains are the Stax-managed root email domains.
	StaxDomains []string
	// ProtectionSCPNames name the protection SCP (a trailing * means "starts with").
	ProtectionSCPNames []string
	// AlertEmails receive the alerts topic by email.
	AlertEmails []string
	// Chat creates the chat topic (for Amazon Q Developer in chat applications).
	Chat bool
	// SecurityHub turns on BatchImportFindings.
	SecurityHub bool
	// MinSeverityEmail, MinSeverityChat and MinSeveritySecurityHub are per-channel thresholds.
	MinSeverityEmail, MinSeverityChat, MinSeveritySecurityHub string
	// AuditSchedule is an EventBridge schedule expression: rate(...) or cron(...).
	AuditSchedule string
	// AuditInterval is the expected time between two audit runs (derived from a rate, given for a
	// cron); the "audit not run" alarm fires after two intervals without an invocation.
	AuditInterval time.Duration
	// RootCredentialsMode is ModeAuditRole or ModeAssumeRoot.
	RootCredentialsMode string
	// AuditRoleName is the read-only role's name in every account (audit-role mode).
	AuditRoleName string
	// ForwardRegions are the regions forwarded from, us-east-1 first, sorted, without duplicates:
	// forwardRegions (default DefaultRegions, every region enabled by default) plus optInRegions.
	ForwardRegions []string
	// TrustedPrincipals are exact principal ARNs whose protection changes are sanctioned.
	TrustedPrincipals []string
	// ExceptionMaxAge bounds an approved exception's expiry.
	ExceptionMaxAge time.Duration
	// ExceptionApprovers are the IAM role or user ARNs whose TagResource of rootguard:exception
	// grants an exception (none: no exception counts).
	ExceptionApprovers []string
	// TrustSuspension is how long a changed trusted principal or approver is neither.
	TrustSuspension time.Duration
	// LogRetentionDays is the functions' log retention.
	LogRetentionDays int
	// OrganizationsDelegation deploys, from the management account, an Organizations resource
	// policy that lets the central account read the organization (only when it is not the
	// management account; an organization has a single such policy).
	OrganizationsDelegation bool
	// AssetDir holds build/arm64/<function>/bootstrap.
	AssetDir string
	// ReportRetentionDays is how long the daily reports are kept; ReportPresign, when positive,
	// puts a pre-signed link valid that long in the daily email (see report.go).
	ReportRetentionDays int
	ReportPresign       time.Duration
	// Revert is scp-guard's revert mode: RevertOff (default), RevertDryRun or RevertOn; with on
	// the management stack holds the revert role (revert.go).
	Revert string
	// OptInRegions are the opt-in regions added to ForwardRegions (context optInRegions).
	OptInRegions []string
}

// Defaults of optional context values.
const (
	DefaultAuditSchedule     = "rate(6 hours)"
	DefaultAuditRoleName     = function.DefaultAuditRoleName
	DefaultMinSeverityEmail  = "LOW"
	DefaultMinSeverityChat   = "MEDIUM"
	DefaultMinSeveritySecHub = "INFORMATIONAL"
	DefaultLogRetentionDays  = 90
	DefaultExceptionMaxAge   = function.DefaultExceptionMaxAge
	DefaultTrustSuspension   = function.DefaultTrustSuspension
	DefaultAssetDir          = "build/arm64"
)

// DefaultProtectionSCPNames is the protection SCP name list when none is configured.
var DefaultProtectionSCPNames = []string{"Stax-Protection*"}

// logRetentionDays are the values CloudWatch Logs accepts.
var logRetentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

var (
	accountRE    = regexp.MustCompile(`^\d{12}$`)
	regionRE     = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$`)
	orgIDRE      = regexp.MustCompile(`^o-[a-z0-9]{10,32}$`)
	rootIDRE     = regexp.MustCompile(`^r-[0-9a-z]{4,32}$`)
	domainRE     = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
	roleNameRE   = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	principalRE  = regexp.MustCompile(`^arn:aws[a-z-]*:(iam|sts)::\d{12}:[^*?\s]+$`)
	rateRE       = regexp.MustCompile(`^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$`)
	cronRE       = regexp.MustCompile(`^cron\(\S+( \S+){5}\)$`)
	scpNameRE    = regexp.MustCompile(`^[^*]{1,128}\*?$`)
	sesAddressRE = regexp.MustCompile(`^[^@\s,;"<>]+@[^@\s,;"<>]+\.[a-zA-Z]{2,}$`)
	approverRE   = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:(role|user)/[\w+=,.@/-]+$`)
)

// ConfigFromContext reads and validates the configuration. get returns a context value as CDK
// gives it: a JSON value from cdk.json (string, bool, number, list) or a string from
// `cdk -c key=value` (lists comma-separated there), nil when unset. Every problem is reported,
// each naming its context key.
func ConfigFromContext(get func(key string) any) (Config, error) {
	r := reader{get: get}
	c := Config{
		CentralAccount:          r.str(CtxCentralAccount, "", accountRE, "a 12-digit account id"),
		HomeRegion:              r.str(CtxHomeRegion, "", regionRE, "a region such as eu-west-1"),
		ManagementAccount:       r.str(CtxManagementAccount, "", accountRE, "a 12-digit account id"),
		OrganizationID:          r.str(CtxOrganizationID, "", orgIDRE, "an organization id such as o-aa111bb222"),
		OrganizationRootID:      r.str(CtxOrganizationRootID, "", rootIDRE, "the organization root id such as r-ab12 (aws organizations list-roots)"),
		StaxDomains:             r.list(CtxStaxDomains, nil, lower, domainRE, "domain names such as stax.example"),
		ProtectionSCPNames:      r.list(CtxProtectionSCPNames, DefaultProtectionSCPNames, strings.TrimSpace, scpNameRE, "policy names, optionally ending in * (starts with)"),
		AlertEmails:             r.list(CtxAlertEmails, nil, strings.TrimSpace, sesAddressRE, "email addresses"),
		Chat:                    r.boolean(CtxChat, false),
		SecurityHub:             r.boolean(CtxSecurityHub, false),
		MinSeverityEmail:        r.severity(CtxMinSeverityEmail, DefaultMinSeverityEmail),
		MinSeverityChat:         r.severity(CtxMinSeverityChat, DefaultMinSeverityChat),
		MinSeveritySecurityHub:  r.severity(CtxMinSeveritySecurityHub, DefaultMinSeveritySecHub),
		AuditSchedule:           r.str(CtxAuditSchedule, DefaultAuditSchedule, nil, ""),
		RootCredentialsMode:     r.str(CtxRootCredentialsMode, ModeAuditRole, regexp.MustCompile("^("+regexp.QuoteMeta(ModeAuditRole)+"|"+regexp.QuoteMeta(ModeAssumeRoot)+")$"), ModeAuditRole+" or "+ModeAssumeRoot),
		AuditRoleName:           r.str(CtxAuditRoleName, DefaultAuditRoleName, roleNameRE, "an IAM role name"),
		ForwardRegions:          r.list(CtxForwardRegions, DefaultRegions, lower, regionRE, "regions such as eu-west-1"),
		TrustedPrincipals:       r.list(CtxTrustedPrincipals, nil, strings.TrimSpace, principalRE, "exact IAM or STS principal ARNs (no wildcards)"),
		LogRetentionDays:        r.integer(CtxLogRetentionDays, DefaultLogRetentionDays),
		AssetDir:                r.str(CtxAssetDir, DefaultAssetDir, nil, ""),
		ExceptionMaxAge:         r.duration(CtxExceptionMaxAge, DefaultExceptionMaxAge),
		OrganizationsDelegation: true,
		ExceptionApprovers:      r.list(CtxExceptionApprovers, nil, strings.TrimSpace, approverRE, "IAM role or user ARNs (arn:aws:iam::123456789012:role/NAME)"),
		TrustSuspension:         r.duration(CtxTrustSuspension, DefaultTrustSuspension),
	}
	for _, a := range c.AlertEmails {
		if _, err := mail.ParseAddress(a); err != nil {
			r.fail(CtxAlertEmails, "%q is not an email address", a)
		}
	}
	if len(c.StaxDomains) == 0 {
		r.fail(CtxStaxDomains, "is required: the Stax-managed root email domains (without them no account is Stax-owned)")
	}
	if len(c.AlertEmails) == 0 {
		r.fail(CtxAlertEmails, "is required: at least one address must receive the alerts (and the alarms)")
	}
	if !slices.Contains(logRetentionDays, c.LogRetentionDays) {
		r.fail(CtxLogRetentionDays, "%d is not a CloudWatch Logs retention (one of %v)", c.LogRetentionDays, logRetentionDays)
	}
	if c.ExceptionMaxAge <= 0 {
		r.fail(CtxExceptionMaxAge, "must be positive, e.g. 24h")
	}
	if c.TrustSuspension <= 0 {
		r.fail(CtxTrustSuspension, "must be positive, e.g. 24h")
	}
	if strings.HasPrefix(c.AuditRoleName, "rootguard-") && strings.HasSuffix(c.AuditRoleName, "-function") {
		r.fail(CtxAuditRoleName, "%q would collide with the names of the functions' roles (rootguard-*-function)", c.AuditRoleName)
	}
	c.Revert = r.str(CtxRevert, RevertOff, regexp.MustCompile(`^(off|dry-run|on)$`), "off, dry-run or on")
	c.AuditInterval = r.auditInterval(c.AuditSchedule)
	r.readReport(&c)
	c.OrganizationsDelegation = r.boolean(CtxOrganizationsDelegation, c.CentralAccount != c.ManagementAccount)
	if c.OrganizationsDelegation && c.CentralAccount != "" && c.CentralAccount == c.ManagementAccount {
		r.fail(CtxOrganizationsDelegation, "must be false when the central account is the management account (nothing to delegate)")
	}
	r.resolveRegions(&c)
	if len(r.errs) > 0 {
		return Config{}, fmt.Errorf("rootguard context (cdk.json or -c key=value): %w", errors.Join(r.errs...))
	}
	return c, nil
}

// reader collects one error per bad context value.
type reader struct {
	get  func(string) any
	errs []error
}

func (r *reader) fail(key, format string, args ...any) {
	r.errs = append(r.errs, fmt.Errorf("%s: "+format, append([]any{key}, args...)...))
}

func lower(s string) string { return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), ".") }

// str reads a string; def "" makes it required.
func (r *reader) str(key, def string, re *regexp.Regexp, want string) string {
	v := r.get(key)
	if v == nil {
		if def == "" {
			r.fail(key, "is required (%s)", want)
		}
		return def
	}
	s, ok := v.(string)
	if !ok {
		r.fail(key, "must be a string (%s), got %T", want, v)
		return def
	}
	s = strings.TrimSpace(s)
	if re != nil && !re.MatchString(s) {
		r.fail(key, "%q is not %s", s, want)
	}
	return s
}

// list reads a JSON list of strings or a comma-separated string; def nil with an empty result is
// fine (callers check required lists themselves).
func (r *reader) list(key string, def []string, clean func(string) string, re *regexp.Regexp, want string) []string {
	v := r.get(key)
	if v == nil {
		return def
	}
	var raw []string
	switch t := v.(type) {
	case string:
		raw = strings.Split(t, ",")
	case []string:
		raw = t
	case []any:
		for i, e := range t {
			s, ok := e.(string)
			if !ok {
				r.fail(key, "item %d must be a string, got %T", i, e)
				continue
			}
			raw = append(raw, s)
		}
	default:
		r.fail(key, "must be a list of %s, got %T", want, v)
		return def
	}
	var out []string
	for _, s := range raw {
		s = clean(s)
		if s == "" {
			continue
		}
		if !re.MatchString(s) {
			r.fail(key, "%q is not valid (want %s)", s, want)
			continue
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return def
	}
	return out
}

func (r *reader) boolean(key string, def bool) bool {
	switch t := r.get(key).(type) {
	case nil:
		return def
	case bool:
		return t
	case string:
		b, err := strconv.ParseBool(strings.TrimSpace(t))
		if err != nil {
			r.fail(key, "%q is not true or false", t)
			return def
		}
		return b
	default:
		r.fail(key, "must be true or false, got %T", t)
		return def
	}
}

func (r *reader) integer(key string, def int) int {
	switch t := r.get(key).(type) {
	case nil:
		return def
	case float64:
		if t != float64(int(t)) {
			r.fail(key, "%v is not a whole number", t)
		}
		return int(t)
	case int:
		return t
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(t))
		if err != nil {
			r.fail(key, "%q is not a whole number", t)
			return def
		}
		return n
	default:
		r.fail(key, "must be a number, got %T", t)
		return def
	}
}

func (r *reader) duration(key string, def time.Duration) time.Duration {
	s := r.str(key, def.String(), nil, "")
	d, err := time.ParseDuration(s)
	if err != nil {
		r.fail(key, "%q is not a duration such as 24h or 90m", s)
		return def
	}
	return d
}

func (r *reader) severity(key, def string) string {
	s := strings.ToUpper(r.str(key, def, nil, ""))
	if !slices.Contains(Severities, s) {
		r.fail(key, "%q is not one of %s", s, strings.Join(Severities, ", "))
	}
	return s
}

// auditInterval derives the time between audit runs from a rate expression, or reads
// auditInterval for a cron expression, and checks that two intervals fit the one-day evaluation
// window of a CloudWatch alarm.
func (r *reader) auditInterval(schedule string) time.Duration {
	var d time.Duration
	switch m := rateRE.FindStringSubmatch(schedule); {
	case m != nil:
		n, _ := strconv.Atoi(m[1])
		unit := map[byte]time.Duration{'m': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour}[m[2][0]]
		if n == 0 || (n == 1) != !strings.HasSuffix(m[2], "s") {
			r.fail(CtxAuditSchedule, "%q: EventBridge wants rate(1 hour) / rate(2 hours) (singular unit only for 1)", schedule)
		}
		d = time.Duration(n) * unit
		if r.get(CtxAuditInterval) != nil {
			r.fail(CtxAuditInterval, "is derived from a rate() schedule; set it only with a cron() schedule")
		}
	case cronRE.MatchString(schedule):
		if r.get(CtxAuditInterval) == nil {
			r.fail(CtxAuditInterval, "is required with a cron() auditSchedule: the expected time between two runs, e.g. 6h")
			return 0
		}
		d = r.duration(CtxAuditInterval, 0)
	default:
		r.fail(CtxAuditSchedule, "%q is not rate(N unit) or cron(min hour day month weekday year)", schedule)
		return 0
	}
	if d < 5*time.Minute || d > 12*time.Hour || d%time.Minute != 0 {
		r.fail(CtxAuditSchedule, "runs every %s; it must run every 5 minutes to 12 hours (whole minutes) so that two missed runs fit the one-day window of a CloudWatch alarm", d)
	}
	return d
}
