// Package rule is rootguard's rule catalogue and the engine that evaluates CloudTrail events and
// organization posture against it. A rule is a value: metadata plus a pure function of the event,
// the organization facts and the configuration. The package does no I/O, no logging and reads no
// clock: time comes from the event or a parameter.
package rule

import (
	"github.com/rootguard/rootguard/internal/cloudtrail"
	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/function"
	"github.com/rootguard/rootguard/internal/org"
	"github.com/rootguard/rootguard/internal/route"
)

// Group says which events a rule looks at.
type Group string

// The rule groups. Root rules are evaluated in catalogue order and at most one applies per event.
const (
	GroupRoot       Group = function.GroupRoot
	GroupProtection Group = function.GroupProtection
	GroupOnboarding Group = function.GroupOnboarding
	GroupPosture    Group = function.GroupPosture
)

// Rule is one catalogue entry.
type Rule struct {
	// ID is the stable public identifier; never renamed or reused.
	ID string
	// Title is a short name for the rule.
	Title string
	// Group is the kind of input the rule reads.
	Group Group
	// When says in one sentence what raises the rule (documentation).
	When string
	// Severity says how severity is chosen (documentation).
	Severity string
	// Why says why it matters under the root-credential policy (documentation).
	Why string
	// Remediation is the generic runbook: who must act and how.
	Remediation string
	// References are documentation links.
	References []string
	// AuditOnly: raised only by the audit, never by an event.
	AuditOnly bool
	// ASFFTypes are the Security Hub finding types of its findings (namespace/category/
	// classifier); the finding carries them to the ASFF renderer.
	ASFFTypes []string
	// Lower says whether an approved exception or a trusted principal lowers its findings.
	Lower Lowering
	// Session: its findings on calls made in a root session are one per session. Their id
	// derives from the account and the session (the access key, else the source IP and hour),
	// each call is listed, and a later call of the session is merged into the finding (Merge).
	Session bool
	// Events are the events it needs: the routing table (package routing) sends them to the
	// functions that evaluate its group. None for audit-only and posture-only rules.
	Events []route.Event
	// Check is its posture check on one account, run by the audit on every account and at
	// onboarding on the new one; nil for a rule without one.
	Check Check

	// eval evaluates one event; nil for audit-only rules.
	eval func(c *Ctx) []Hit
}

// Lowering says what may lower a rule's findings to INFORMATIONAL. A rule says exactly one of
// Exempt, Never and ByException (Validate).
type Lowering struct {
	// Exempt: nothing lowers its findings and nothing is said about exceptions (informational
	// findings, and the custody rules, which watch the levers themselves).
	Exempt bool
	// Never: no exception and no trusted principal lowers its findings; a valid exception is
	// noted as not counting.
	Never bool
	// ByException reports whether a valid approved exception lowers a finding (false: the
	// exception is noted as not counting).
	ByException func(f *finding.Finding) bool
	// ByTrusted reports whether a change made by a trusted principal lowers the finding of an
	// event (nil: never).
	ByTrusted func(ev *cloudtrail.Event) bool
	// CoveredBy returns the resources whose exception covers a finding (nil: its account).
	CoveredBy func(f *finding.Finding) []string
}

// always is ByException and ByTrusted of rules that they always lower.
func always[T any](T) bool { return true }

// exceptionLowers: an approved exception lowers the findings; a trusted principal does not.
var exceptionLowers = Lowering{ByException: always[*finding.Finding]}

// neverLowered: nothing lowers the findings (an exception is noted as not counting).
var neverLowered = Lowering{Never: true}

// exempt: nothing lowers the findings, and exceptions are not mentioned.
var exempt = Lowering{Exempt: true}

// Hit is what a rule's evaluation found, before it becomes a finding.
type Hit struct {
	Severity    finding.Severity
	AccountID   string
	Title       string
	Description string
	// Remediation replaces the rule's remediation when set.
	Remediation string
	// RemediationPrefix is put before the rule's remediation.
	RemediationPrefix string
	Resources         []string
	// IDParts derive the finding id (with the rule id); default: the event id and account.
	IDParts []string
	// Calls are the API calls of a root session.
	Calls []string
}

// Ctx is the input of a rule evaluation. Its lookups are cached for the one event.
type Ctx struct {
	Ev    *cloudtrail.Event
	Facts org.Facts
	Cfg   *Config

	subjects map[string]Subject
	orgInfo  *orgInfo
	// extra are findings of other rules a rule's evaluation raised (onboarding's posture checks).
	extra []ruleHit
	// custody is the witnessed grants and trust suspensions (nil: none known).
	custody Custody
}

type orgInfo struct {
	org org.Organization
	err error
}
