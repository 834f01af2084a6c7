// Package route is the routing table: which events each rootguard function takes. It is pure
// data, read by the functions (to refuse events not meant for them) and by the infrastructure
// (to build the EventBridge rule patterns), so the two cannot disagree.
package route

import (
	"slices"
	"strings"

	"github.com/rootguard/rootguard/internal/function"
)

// Function names (package function's table).
const (
	RootActivity = function.RootActivity
	SCPGuard     = function.SCPGuard
	Onboarding   = function.Onboarding
	Audit        = function.Audit
	Notifier     = function.Notifier
	// Heartbeat puts the canary events (package canary) on the central bus on a schedule; its
	// route takes back its own CloudTrail round-trip event.
	Heartbeat = function.Heartbeat
)

// Functions lists every function, in a fixed order.
var Functions = []string{RootActivity, SCPGuard, Onboarding, Audit, Notifier, Heartbeat}

// CanarySource is the EventBridge source of the heartbeat's synthetic events. The patterns that
// take it also require the event's account to be the central account (the infrastructure adds
// that), so no other account can fake a heartbeat.
const CanarySource = "rootguard.canary"

// Finding events on the rootguard bus.
const (
	FindingSource     = "rootguard"
	FindingDetailType = "RootGuard Finding"
)

// SignInDetailTypes are both spellings CloudTrail sign-in events arrive under.
var SignInDetailTypes = []string{"AWS Console Sign In via CloudTrail", "AWS Console Signin via CloudTrail"}

// Pattern is one EventBridge event pattern, in a small subset of the pattern language: every
// listed field must equal one of its values (an empty list means the field is not tested).
type Pattern struct {
	// Sources are EventBridge "source" values (aws.signin, aws.organizations, ...).
	Sources []string
	// DetailTypes are "detail-type" values.
	DetailTypes []string
	// EventSources are detail.eventSource values.
	EventSources []string
	// EventNames are detail.eventName values.
	EventNames []string
	// UserIdentityTypes are detail.userIdentity.type values.
	UserIdentityTypes []string
	// AllManagementEvents: the rule must be in state ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS
	// because read-only events matter (root reconnaissance).
	AllManagementEvents bool
	// Canary: the heartbeat's pattern; the infrastructure adds an "account" filter (the central
	// account) and does not forward it from other accounts.
	Canary bool
	// RequestNames are detail.requestParameters.name values.
	RequestNames []string
	// FromManagement: the infrastructure adds an "account" filter (the management account) to
	// the central rule; such a route is forwarded from the management account only.
	FromManagement bool
	// SourcePrefixes are "source" prefixes (EventBridge {"prefix": ...}); a source matches when
	// it equals one of Sources or starts with one of these. AWSSource ("aws.") admits only
	// events AWS wrote (rules.md, "Forged and misrouted events").
	SourcePrefixes []string
	// EventNamePrefixes are detail.eventName prefixes; an event name matches when it equals one
	// of EventNames or starts with one of these (Lambda's versioned names).
	EventNamePrefixes []string
	// FactsOnly: the function takes these events only to drop the organization facts they change
	// from its cache; it evaluates no rule on them (FactChangePatterns, Evaluates). They are
	// forwarded once, whichever function's route holds them (Forwarding).
	FactsOnly bool
}

// AWSSource is the source prefix of every event AWS writes; EventBridge refuses it in PutEvents.
const AWSSource = "aws."

// Route is a function and the patterns of the events it takes.
type Route struct {
	Function string
	// Part names a further route of the same function ("" for its first). The infrastructure
	// makes one EventBridge rule of each route, and a rule's pattern may not exceed 2,048
	// characters, so a function with many events has several routes.
	Part     string
	Patterns []Pattern
	// Forwarded: the events also happen in member accounts and must be forwarded to the central bus.
	Forwarded bool
}

// API call and service-event detail types used below.
const (
	apiCall      = "AWS API Call via CloudTrail"
	serviceEvent = "AWS Service Event via CloudTrail"
	consoleAct   = "AWS Console Action via CloudTrail"
)

// ProtectionEventNames are the Organizations calls scp-guard evaluates.
var ProtectionEventNames = []string{
	"DetachPolicy", "DeletePolicy", "UpdatePolicy", "DisablePolicyType", "MoveAccount",
	"RemoveAccountFromOrganization", "LeaveOrganization",
	// Restorations: they resolve open findings (and the revert role's own calls arrive so).
	"AttachPolicy", "EnablePolicyType",
	"CreatePolicy", // SCP-IMPERSONATED
}

// EmailChangeEventNames are the Account Management calls that change a root email, which
// root-activity evaluates whoever makes them (ROOT-EMAIL-CHANGED).
var EmailChangeEventNames = []string{"StartPrimaryEmailUpdate", "AcceptPrimaryEmailUpdate"}

// ExceptionEventNames are the Organizations tag calls scp-guard evaluates and records (exception
// grants).
var ExceptionEventNames = []string{"TagResource", "UntagResource"}

// TrustEventNames are the IAM calls that can change a trusted principal or exception approver
// (TRUSTED-PRINCIPAL-CHANGED, evaluated by scp-guard).
var TrustEventNames = []string{
	"UpdateAssumeRolePolicy", "AttachRolePolicy", "DetachRolePolicy", "PutRolePolicy", "DeleteRolePolicy",
	"PutRolePermissionsBoundary", "DeleteRolePermissionsBoundary", "UpdateRole", "DeleteRole", "CreateRole",
	"AttachUserPolicy", "PutUserPolicy", "CreateAccessKey", "CreateLoginProfile", "UpdateLoginProfile",
}

// OnboardingEventNames are the events onboarding evaluates.
var OnboardingEventNames = []string{"CreateAccountResult", "CreateManagedAccount", "AcceptHandshake"}

// Table is the routing table; each evaluating function's first route also takes the events that
// change the organization facts it caches (withFacts).
var Table = withFacts([]Route{
	{
		Function:  RootActivity,
		Forwarded: true,
		Patterns: []Pattern{
			{ // Root sign-in and password recovery.
				Sources:           []string{"aws.signin"},
				DetailTypes:       SignInDetailTypes,
				EventSources:      []string{"signin.amazonaws.com"},
				EventNames:        []string{"ConsoleLogin", "PasswordRecoveryRequested", "PasswordRecoveryCompleted", "PasswordUpdated"},
				UserIdentityTypes: []string{"Root"},
			},
			{ // Any root API call, read-only ones included (reconnaissance).
				SourcePrefixes:      []string{AWSSource},
				DetailTypes:         []string{apiCall, consoleAct},
				UserIdentityTypes:   []string{"Root"},
				AllManagementEvents: true,
			},
			{ // sts:AssumeRoot, made by an ordinary principal in the management account.
				Sources:      []string{"aws.sts"},
				DetailTypes:  []string{apiCall},
				EventSources: []string{"sts.amazonaws.com"},
				EventNames:   []string{"AssumeRoot"},
			},
			{ // The heartbeat's root sign-in canary.
				Sources:      []string{CanarySource},
				DetailTypes:  SignInDetailTypes,
				EventSources: []string{"signin.amazonaws.com"},
				EventNames:   []string{"ConsoleLogin"},
				Canary:       true,
			},
			{ // Root email changes (ROOT-EMAIL-CHANGED), by whoever makes them; recorded in the
				// account that makes the call (the management account for a member's email).
				Sources:      []string{"aws.account"},
				DetailTypes:  []string{apiCall},
				EventSources: []string{"account.amazonaws.com"},
				EventNames:   EmailChangeEventNames,
			},
		},
	},
	{
		Function:  SCPGuard,
		Forwarded: true, // LeaveOrganization is recorded in the member account.
		Patterns: []Pattern{
			{
				Sources:      []string{"aws.organizations"},
				DetailTypes:  []string{apiCall},
				EventSources: []string{"organizations.amazonaws.com"},
				EventNames:   ProtectionEventNames,
			},
			{ // The heartbeat's SCP detach canary.
				Sources:      []string{CanarySource},
				DetailTypes:  []string{apiCall},
				EventSources: []string{"organizations.amazonaws.com"},
				EventNames:   []string{"DetachPolicy"},
				Canary:       true,
			},
			{ // ROOT-CENTRAL-ACCESS-DISABLED: IAM turns centralised root access off.
				Sources:      []string{"aws.iam"},
				DetailTypes:  []string{apiCall},
				EventSources: []string{"iam.amazonaws.com"},
				EventNames:   CentralRootAccessEventNames,
			},
			{ // TRAIL-TAMPERED: the trail that feeds rootguard is stopped, deleted or narrowed.
				Sources:      []string{"aws.cloudtrail"},
				DetailTypes:  []string{apiCall},
				EventSources: []string{"cloudtrail.amazonaws.com"},
				EventNames:   TrailEventNames,
			},
		},
	},
	{
		Function:  SCPGuard,
		Part:      "custody",
		Forwarded: true, // a member's IAM changes and tags are recorded in it
		Patterns: []Pattern{
			{ // Exception grants (EXCEPTION-GRANTED; scp-guard records them in the state table).
				Sources:      []string{"aws.organizations"},
				DetailTypes:  []string{apiCall},
				EventSources: []string{"organizations.amazonaws.com"},
				EventNames:   ExceptionEventNames,
			},
			{ // Changes to trusted principals and approvers (TRUSTED-PRINCIPAL-CHANGED; suspensions).
				Sources:      []string{"aws.iam"},
				DetailTypes:  []string{apiCall},
				EventSources: []string{"iam.amazonaws.com"},
				EventNames:   TrustEventNames,
			},
		},
	},
	{
		Function:  SCPGuard,
		Part:      "tamper",
		Forwarded: true, // rootguard's forwarders live in every member account
		Patterns:  TamperPatterns,
	},
	{
		Function:  Onboarding,
		Forwarded: true, // AcceptHandshake is recorded in the joining account.
		Patterns: []Pattern{
			{
				Sources:      []string{"aws.organizations"},
				DetailTypes:  []string{serviceEvent},
				EventSources: []string{"organizations.amazonaws.com"},
				EventNames:   []string{"CreateAccountResult"},
			},
			{
				Sources:      []string{"aws.controltower"},
				DetailTypes:  []string{serviceEvent},
				EventSources: []string{"controltower.amazonaws.com"},
				EventNames:   []string{"CreateManagedAccount"},
			},
			{
				Sources:      []string{"aws.organizations"},
				DetailTypes:  []string{apiCall},
				EventSources: []string{"organizations.amazonaws.com"},
				EventNames:   []string{"AcceptHandshake"},
			},
			{ // The heartbeat's account creation canary.
				Sources:      []string{CanarySource},
				DetailTypes:  []string{serviceEvent},
				EventSources: []string{"organizations.amazonaws.com"},
				EventNames:   []string{"CreateAccountResult"},
				Canary:       true,
			},
		},
	},
	{
		// The end-to-end CloudTrail canary: the heartbeat's own ssm:PutParameter, recorded in
		// the management account and forwarded from there, comes back to the heartbeat. Not
		// Forwarded: only the management account's forwarders send it.
		Function: Heartbeat,
		Patterns: []Pattern{{
			Sources:        []string{"aws.ssm"},
			DetailTypes:    []string{apiCall},
			EventSources:   []string{"ssm.amazonaws.com"},
			EventNames:     []string{"PutParameter"},
			RequestNames:   []string{HeartbeatParameter},
			FromManagement: true,
		}},
	},
})

// HeartbeatParameter is the SSM parameter the heartbeat writes in every forwarded region of the
// management account (the end-to-end CloudTrail canary, package canary).
const HeartbeatParameter = "/rootguard/heartbeat"

// For returns the route of a function, or false: its routes' patterns together.
func For(function string) (Route, bool) {
	var out Route
	found := false
	for _, r := range Table {
		if r.Function != function {
			continue
		}
		found = true
		out.Function = function
		out.Patterns = append(slices.Clip(out.Patterns), r.Patterns...)
		out.Forwarded = out.Forwarded || r.Forwarded
	}
	return out, found
}

// Name is the route's name: the function's, with the part for a further route.
func (r Route) Name() string {
	if r.Part == "" {
		return r.Function
	}
	return r.Function + "-" + r.Part
}

// Fields are the values of an event a Pattern tests.
type Fields struct {
	Source, DetailType, EventSource, EventName, UserIdentityType string
	// RequestName is detail.requestParameters.name.
	RequestName string
}

// Matches reports whether the pattern matches the fields (as EventBridge would).
func (p Pattern) Matches(f Fields) bool {
	in := func(list []string, v string) bool { return len(list) == 0 || slices.Contains(list, v) }
	return p.sourceMatches(f.Source) && in(p.DetailTypes, f.DetailType) && in(p.EventSources, f.EventSource) &&
		p.nameMatches(f.EventName) && in(p.UserIdentityTypes, f.UserIdentityType) && in(p.RequestNames, f.RequestName)
}

// Matches reports whether any of the route's patterns matches.
func (r Route) Matches(f Fields) bool {
	return slices.ContainsFunc(r.Patterns, func(p Pattern) bool { return p.Matches(f) })
}

// Functions returns the functions whose routes match the fields.
func FunctionsFor(f Fields) []string {
	var out []string
	for _, r := range Table {
		if r.Matches(f) && !slices.Contains(out, r.Function) {
			out = append(out, r.Function)
		}
	}
	return out
}

// sourceMatches reports whether a source equals one of Sources or starts with one of
// SourcePrefixes (any source when both are empty).
func (p Pattern) sourceMatches(source string) bool {
	if len(p.Sources) == 0 && len(p.SourcePrefixes) == 0 {
		return true
	}
	return slices.Contains(p.Sources, source) ||
		slices.ContainsFunc(p.SourcePrefixes, func(pre string) bool { return strings.HasPrefix(source, pre) })
}

// nameMatches reports whether an event name equals one of EventNames or starts with one of
// EventNamePrefixes (any name when both are empty).
func (p Pattern) nameMatches(name string) bool {
	if len(p.EventNames) == 0 && len(p.EventNamePrefixes) == 0 {
		return true
	}
	return slices.Contains(p.EventNames, name) ||
		slices.ContainsFunc(p.EventNamePrefixes, func(pre string) bool { return strings.HasPrefix(name, pre) })
}
