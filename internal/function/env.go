package function

import "time"

// Environment variables of the functions. Table says which function takes which; Variables
// gives each its default and whether the infrastructure sets it.
const (
	// EnvStaxDomains: the Stax-managed root email domains, comma-separated; subdomains count.
	EnvStaxDomains = "ROOTGUARD_STAX_DOMAINS"
	// EnvProtectionSCP: the protection SCP names, comma-separated; a trailing * means "starts
	// with" (unset: the rule engine's default, Stax-Protection*).
	EnvProtectionSCP = "ROOTGUARD_PROTECTION_SCP"
	// EnvTrustedPrincipals: exact principal ARNs whose protection changes are sanctioned.
	EnvTrustedPrincipals = "ROOTGUARD_TRUSTED_PRINCIPALS"
	// EnvExceptionMaxAge: the longest an approved exception may run (Go duration).
	EnvExceptionMaxAge = "ROOTGUARD_EXCEPTION_MAX_AGE"
	// EnvExceptionApprovers: IAM role or user ARNs whose TagResource of rootguard:exception
	// grants an exception (a role matches every session of it).
	EnvExceptionApprovers = "ROOTGUARD_EXCEPTION_APPROVERS"
	// EnvTrustSuspension: how long a trusted principal or approver is neither after
	// TRUSTED-PRINCIPAL-CHANGED (Go duration).
	EnvTrustSuspension = "ROOTGUARD_TRUST_SUSPENSION"
	// EnvDeploymentPrincipals: who may change rootguard's own resources without
	// FORWARDER-TAMPERED (ARNs, * matches any characters; appended to the rule engine's default).
	EnvDeploymentPrincipals = "ROOTGUARD_DEPLOYMENT_PRINCIPALS"
	// EnvRootCredentialsMode: how root credential state is read in accounts (ModeAuditRole or
	// ModeAssumeRoot).
	EnvRootCredentialsMode = "ROOTGUARD_ROOT_CREDENTIALS_MODE"
	// EnvAuditRoleName: the read-only role assumed in every account in ModeAuditRole.
	EnvAuditRoleName = "ROOTGUARD_AUDIT_ROLE_NAME"
	// EnvEventBus: the name or ARN of the bus the function puts its events on (Function.Bus).
	EnvEventBus = "ROOTGUARD_EVENT_BUS"
	// EnvCentralAccount: the account that runs rootguard (12 digits); the evaluators accept the
	// heartbeat's canary events only from it. Unset: the account of the invoked function's ARN.
	EnvCentralAccount = "ROOTGUARD_CENTRAL_ACCOUNT"
	// EnvDedupTable: the DynamoDB state table, a name or ARN (Function.State says which items).
	EnvDedupTable = "ROOTGUARD_DEDUP_TABLE"
	// EnvFactsTTL: how long organization facts are cached across warm invocations (Go duration;
	// 0 disables the cache).
	EnvFactsTTL = "ROOTGUARD_FACTS_TTL"
	// EnvOnboardingWait: the longest onboarding waits for a new account to become readable.
	EnvOnboardingWait = "ROOTGUARD_ONBOARDING_WAIT"
	// EnvLogLevel: debug, info, warn or error; raw events are logged only at debug.
	EnvLogLevel = "ROOTGUARD_LOG_LEVEL"
	// EnvRevert: off, dry-run or on: scp-guard reverts protection changes.
	EnvRevert = "ROOTGUARD_REVERT"
	// EnvRevertRole: the role ARN scp-guard assumes to revert (required unless EnvRevert is off).
	EnvRevertRole = "ROOTGUARD_REVERT_ROLE"

	// EnvForwardRegions: the forwarded regions, comma-separated (the audit's forwarder audit;
	// empty disables it).
	EnvForwardRegions = "ROOTGUARD_FORWARD_REGIONS"
	// EnvCentralBusARN: the central bus every forwarding rule must target.
	EnvCentralBusARN = "ROOTGUARD_CENTRAL_BUS_ARN"

	// EnvAlertsTopicARN: the SNS topic of email alerts (the notifier's channel, the audit's
	// daily summary); empty disables the channel.
	EnvAlertsTopicARN = "ROOTGUARD_ALERTS_TOPIC_ARN"
	// EnvChatTopicARN: the SNS topic read by Amazon Q Developer in chat applications.
	EnvChatTopicARN = "ROOTGUARD_CHAT_TOPIC_ARN"
	// EnvSecurityHub: true or false: import findings into Security Hub.
	EnvSecurityHub = "ROOTGUARD_SECURITYHUB"
	// EnvMinSeverityEmail, EnvMinSeverityChat and EnvMinSeveritySecHub: the least severity
	// delivered on each channel.
	EnvMinSeverityEmail  = "ROOTGUARD_MIN_SEVERITY_EMAIL"
	EnvMinSeverityChat   = "ROOTGUARD_MIN_SEVERITY_CHAT"
	EnvMinSeveritySecHub = "ROOTGUARD_MIN_SEVERITY_SECURITYHUB"

	// EnvHeartbeatRegions: where the heartbeat writes the round-trip parameter in the
	// management account (the forwarded regions); empty: no round trip.
	EnvHeartbeatRegions = "ROOTGUARD_HEARTBEAT_REGIONS"
	// EnvHeartbeatRoleARN: the management account's role the heartbeat assumes to write it.
	EnvHeartbeatRoleARN = "ROOTGUARD_HEARTBEAT_ROLE_ARN"

	// The audit's daily report (functions/internal/daily): the reports bucket (empty: no
	// report), the key prefix, the KMS key the reports are encrypted with, how long the
	// emailed pre-signed link is valid (0: none), and the audit's schedule interval.
	EnvReportBucket   = "ROOTGUARD_REPORT_BUCKET"
	EnvReportPrefix   = "ROOTGUARD_REPORT_PREFIX"
	EnvReportKMSKey   = "ROOTGUARD_REPORT_KMS_KEY"
	EnvReportPresign  = "ROOTGUARD_REPORT_PRESIGN"
	EnvReportInterval = "ROOTGUARD_REPORT_INTERVAL"
)

// Values of EnvRootCredentialsMode.
const (
	// ModeAuditRole reads root credential state through a read-only role in every account.
	ModeAuditRole = "audit-role"
	// ModeAssumeRoot reads it through sts:AssumeRoot with the IAMAuditRootUserCredentials task
	// policy.
	ModeAssumeRoot = "assume-root"
)

// Values of EnvRevert.
const (
	RevertOff    = "off"
	RevertDryRun = "dry-run"
	RevertOn     = "on"
)

// Defaults.
const (
	DefaultAuditRoleName   = "rootguard-audit"
	DefaultFactsTTL        = 5 * time.Minute
	DefaultOnboardingWait  = 2 * time.Minute
	DefaultExceptionMaxAge = 24 * time.Hour
	DefaultTrustSuspension = 24 * time.Hour
	DefaultReportPrefix    = "reports/"
)

// Variable is one environment variable of the functions.
type Variable struct {
	Name string
	// Default is the value an unset variable has ("" when none), as it would be written.
	Default string
	// Deployed: the infrastructure sets it on every function that takes it (possibly empty).
	Deployed bool
}

// Variables is every environment variable of the functions.
var Variables = []Variable{
	{Name: EnvStaxDomains, Deployed: true},
	{Name: EnvProtectionSCP, Deployed: true},
	{Name: EnvTrustedPrincipals, Deployed: true},
	{Name: EnvExceptionMaxAge, Default: DefaultExceptionMaxAge.String(), Deployed: true},
	{Name: EnvExceptionApprovers, Deployed: true},
	{Name: EnvTrustSuspension, Default: DefaultTrustSuspension.String(), Deployed: true},
	{Name: EnvDeploymentPrincipals},
	{Name: EnvRootCredentialsMode, Default: ModeAuditRole, Deployed: true},
	{Name: EnvAuditRoleName, Default: DefaultAuditRoleName, Deployed: true},
	{Name: EnvEventBus, Deployed: true},
	{Name: EnvCentralAccount, Deployed: true},
	{Name: EnvDedupTable, Deployed: true},
	{Name: EnvFactsTTL, Default: DefaultFactsTTL.String()},
	{Name: EnvOnboardingWait, Default: DefaultOnboardingWait.String()},
	{Name: EnvLogLevel, Default: "info"},
	{Name: EnvRevert, Default: RevertOff, Deployed: true},
	{Name: EnvRevertRole, Deployed: true},
	{Name: EnvForwardRegions, Deployed: true},
	{Name: EnvCentralBusARN, Deployed: true},
	{Name: EnvAlertsTopicARN, Deployed: true},
	{Name: EnvChatTopicARN, Deployed: true},
	{Name: EnvSecurityHub, Default: "false", Deployed: true},
	{Name: EnvMinSeverityEmail, Default: "LOW", Deployed: true},
	{Name: EnvMinSeverityChat, Default: "MEDIUM", Deployed: true},
	{Name: EnvMinSeveritySecHub, Default: "INFORMATIONAL", Deployed: true},
	{Name: EnvHeartbeatRegions, Deployed: true},
	{Name: EnvHeartbeatRoleARN, Deployed: true},
	{Name: EnvReportBucket, Deployed: true},
	{Name: EnvReportPrefix, Default: DefaultReportPrefix, Deployed: true},
	{Name: EnvReportKMSKey, Deployed: true},
	{Name: EnvReportPresign, Deployed: true},
	{Name: EnvReportInterval, Deployed: true},
}

// VariableOf returns the variable of a name, or false.
func VariableOf(name string) (Variable, bool) {
	for _, v := range Variables {
		if v.Name == name {
			return v, true
		}
	}
	return Variable{}, false
}

// The command line's variables (cmd/rootguard): each flag also reads one. The flags that mean
// what a function's variable means read that variable (EnvStaxDomains, ...).
const (
	EnvOrg                = "ROOTGUARD_ORG"
	EnvFormat             = "ROOTGUARD_FORMAT"
	EnvFailOn             = "ROOTGUARD_FAIL_ON"
	EnvReplayAudit        = "ROOTGUARD_REPLAY_AUDIT"
	EnvQuiet              = "ROOTGUARD_QUIET"
	EnvAuditAt            = "ROOTGUARD_AUDIT_AT"
	EnvSince              = "ROOTGUARD_SINCE"
	EnvUntil              = "ROOTGUARD_UNTIL"
	EnvProgress           = "ROOTGUARD_PROGRESS"
	EnvSecurityHubAccount = "ROOTGUARD_SECURITYHUB_ACCOUNT"
)
