// Package function is the table of rootguard's functions: what each one is and needs, written
// once. It is plain data and imports nothing of rootguard but the state table's key prefixes
// (package statekey, a leaf too), so every function can link it (the notifier and the heartbeat
// without the rule engine); the wiring, the configuration check (package config) and the
// infrastructure loop over it.
package function

import (
	"slices"
	"time"

	"github.com/rootguard/rootguard/internal/statekey"
)

// Function names (the folder under functions/).
const (
	RootActivity = "root-activity"
	SCPGuard     = "scp-guard"
	Onboarding   = "onboarding"
	Audit        = "audit"
	Notifier     = "notifier"
	Heartbeat    = "heartbeat"
)

// Rule group names (package rule's Group values).
const (
	GroupRoot       = "root"
	GroupProtection = "protection"
	GroupOnboarding = "onboarding"
	GroupPosture    = "posture"
	GroupCustody    = "custody"
)

// Access is how a function uses some items of the state table.
type Access int

// The kinds of access; each allows dynamodb:GetItem and at most one way of writing.
const (
	// Read: GetItem only.
	Read Access = iota + 1
	// Write: GetItem and PutItem.
	Write
	// Update: GetItem and UpdateItem (conditional updates: the notifier's delivery claims).
	Update
)

// State is one use of the state table: the items whose id starts with one of Keys (statekey
// prefixes, or one item's whole id), with one kind of access. The infrastructure grants exactly
// these (dynamodb:LeadingKeys), and the wiring opens the stores of these items only.
type State struct {
	Keys   []string
	Access Access
}

// Bus is the event bus a function puts its events on (ROOTGUARD_EVENT_BUS).
type Bus int

// The buses.
const (
	// NoBus: the function puts no event.
	NoBus Bus = iota
	// FindingsBus: the evaluators and the audit put their findings on the findings bus.
	FindingsBus
	// OrganizationBus: the heartbeat puts its canaries on the central organization bus, where
	// the forwarded events arrive.
	OrganizationBus
)

// Schedule is what invokes a function on a schedule.
type Schedule int

// The schedules.
const (
	// Unscheduled: only events invoke the function.
	Unscheduled Schedule = iota
	// AuditSchedule: the deployment's audit schedule (the infrastructure's auditSchedule context).
	AuditSchedule
	// CanarySchedule: every canary period (package canary's Schedule).
	CanarySchedule
)

// Env is one environment variable a function takes.
type Env struct {
	// Name is the variable (an Env* constant; its default is in Variables).
	Name string
	// Required: the function does not start without it.
	Required bool
}

// Function is one rootguard function.
type Function struct {
	// Name is the function's name and its folder under functions/.
	Name string
	// Description is the deployed function's description.
	Description string
	// Groups are the rule groups it evaluates (none for the notifier and the heartbeat).
	Groups []string
	// Forwarded: the events it takes also happen in member accounts and other regions, so they
	// are forwarded to the central bus.
	Forwarded bool
	// State is what it reads and writes in the state table for its facts and deliveries (the
	// organization facts' store, the notifier's delivery records), in the order of its IAM
	// statements.
	State []State
	// Response is what its response to findings keeps in the state table: open findings, resolved
	// when their condition is, and revert counts (a store of its own, after State in its IAM
	// statements).
	Response []State
	// RootCredentials: it reads the root credential state of accounts (through the audit role
	// of each account, or sts:AssumeRoot), so the audit role trusts its execution role.
	RootCredentials bool
	// Bus is the bus it puts its events on.
	Bus Bus
	// Env are the environment variables it takes; the infrastructure sets those that Variables
	// marks Deployed, and package config reads and checks them all.
	Env []Env
	// MemoryMB and Timeout size the function.
	MemoryMB int
	Timeout  time.Duration
	// Schedule is what invokes it on a schedule, if anything.
	Schedule Schedule
}

// Evaluates reports whether the function evaluates rules (it has rule groups).
func (f Function) Evaluates() bool { return len(f.Groups) > 0 }

// Takes reports whether the function takes the environment variable name.
func (f Function) Takes(name string) bool {
	return slices.ContainsFunc(f.Env, func(e Env) bool { return e.Name == name })
}

// Reads reports whether the function reads (or writes) the items of a state table key.
func (f Function) Reads(key string) bool { return f.access(key) != 0 }

// Writes reports whether the function writes the items of a state table key.
func (f Function) Writes(key string) bool { return f.access(key) > Read }

func (f Function) access(key string) Access {
	var a Access
	for _, s := range slices.Concat(f.State, f.Response) {
		if slices.Contains(s.Keys, key) {
			a = max(a, s.Access)
		}
	}
	return a
}

// UsesState reports whether the function uses the state table at all.
func (f Function) UsesState() bool { return len(f.State)+len(f.Response) > 0 }

// evaluatorEnv are the variables of every function that evaluates rules (root-activity,
// scp-guard, onboarding and audit).
var evaluatorEnv = []Env{
	{Name: EnvStaxDomains, Required: true},
	{Name: EnvProtectionSCP},
	{Name: EnvTrustedPrincipals},
	{Name: EnvExceptionMaxAge},
	{Name: EnvExceptionApprovers},
	{Name: EnvTrustSuspension},
	{Name: EnvDeploymentPrincipals},
	{Name: EnvRootCredentialsMode},
	{Name: EnvAuditRoleName},
	{Name: EnvEventBus, Required: true},
	{Name: EnvCentralAccount},
	{Name: EnvDedupTable},
	{Name: EnvFactsTTL},
	{Name: EnvLogLevel},
}

// env is base followed by more.
func env(base []Env, more ...Env) []Env { return append(slices.Clip(base), more...) }

// The state table's items, by key (statekey prefixes; the audit keeps its open findings in one
// item, open#audit).
var (
	// custody is the exception grants and trust suspensions, which scp-guard records.
	custody = []string{statekey.Grant, statekey.Trust}
	// protection is the protection SCPs' recorded state beside the custody state.
	protection = []string{statekey.Policy, statekey.Grant, statekey.Trust}
	// ownership is the accounts' recorded (sticky) ownership.
	ownership = []string{statekey.Owner}
)

// Table is every function, in a fixed order.
var Table = []Function{
	{
		Name:        RootActivity,
		Description: "rootguard: root sign-ins, root API activity and AssumeRoot from every account",
		Groups:      []string{GroupRoot, GroupCustody}, Forwarded: true,
		State:           []State{{custody, Read}, {ownership, Write}},
		RootCredentials: true, Bus: FindingsBus,
		Env:      evaluatorEnv,
		MemoryMB: 256, Timeout: 60 * time.Second,
	},
	{
		Name:        SCPGuard,
		Description: "rootguard: protection SCP and organization structure changes",
		Groups:      []string{GroupProtection, GroupCustody}, Forwarded: true,
		State: []State{{protection, Write}},
		// Open findings (resolved when the protection is restored, whatever the revert mode) and
		// revert counts (the loop guard).
		Response: []State{{[]string{statekey.Open, statekey.Revert}, Write}},
		Bus:      FindingsBus,
		Env:      env(evaluatorEnv, Env{Name: EnvRevert}, Env{Name: EnvRevertRole}),
		// EnvRevertRole is required when EnvRevert is dry-run or on (package config).
		MemoryMB: 256, Timeout: 60 * time.Second,
	},
	{
		Name:        Onboarding,
		Description: "rootguard: new and joining accounts, posture at onboarding",
		Groups:      []string{GroupOnboarding}, Forwarded: true,
		State:           []State{{custody, Read}, {ownership, Write}},
		RootCredentials: true, Bus: FindingsBus,
		Env:      env(evaluatorEnv, Env{Name: EnvOnboardingWait}),
		MemoryMB: 256, Timeout: 180 * time.Second,
	},
	{
		Name:        Audit,
		Description: "rootguard: scheduled posture and organization audit",
		Groups:      []string{GroupPosture},
		State:       []State{{protection, Write}, {ownership, Write}},
		// Its open findings are one item, resolved when their checks pass again.
		Response:        []State{{[]string{statekey.Open + Audit}, Write}},
		RootCredentials: true, Bus: FindingsBus,
		Env: env(evaluatorEnv,
			// The forwarder audit (FORWARDER-TAMPERED).
			Env{Name: EnvForwardRegions}, Env{Name: EnvCentralBusARN},
			// The daily report (functions/internal/daily).
			Env{Name: EnvReportBucket}, Env{Name: EnvReportPrefix}, Env{Name: EnvReportKMSKey},
			Env{Name: EnvReportPresign}, Env{Name: EnvAlertsTopicARN}, Env{Name: EnvReportInterval}),
		MemoryMB: 512, Timeout: 600 * time.Second,
		Schedule: AuditSchedule,
	},
	{
		Name:        Notifier,
		Description: "rootguard: delivers findings by email, chat and Security Hub",
		// Claims and delivery records are conditional updates of finding# items.
		State: []State{{[]string{statekey.Finding}, Update}},
		Env: []Env{
			{Name: EnvAlertsTopicARN}, {Name: EnvChatTopicARN}, {Name: EnvSecurityHub},
			{Name: EnvMinSeverityEmail}, {Name: EnvMinSeverityChat}, {Name: EnvMinSeveritySecHub},
			{Name: EnvDedupTable}, {Name: EnvLogLevel},
		},
		MemoryMB: 256, Timeout: 60 * time.Second,
	},
	{
		Name:        Heartbeat,
		Description: "rootguard: puts the heartbeat's canary events on the central bus and counts the CloudTrail round trip",
		Bus:         OrganizationBus,
		Env: []Env{
			{Name: EnvEventBus, Required: true}, {Name: EnvLogLevel},
			{Name: EnvHeartbeatRegions}, {Name: EnvHeartbeatRoleARN},
		},
		MemoryMB: 128, Timeout: 30 * time.Second,
		Schedule: CanarySchedule,
	},
}

// Lookup returns the function of a name, or false.
func Lookup(name string) (Function, bool) {
	for _, f := range Table {
		if f.Name == name {
			return f, true
		}
	}
	return Function{}, false
}

// Names lists every function's name, in table order.
func Names() []string {
	out := make([]string, len(Table))
	for i, f := range Table {
		out[i] = f.Name
	}
	return out
}
