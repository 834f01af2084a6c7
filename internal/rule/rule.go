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

	// eval evaluates one event; nil for audit-only rules.
	eval func(c *Ctx) []Hit
}

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
