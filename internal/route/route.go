// Package route is the vocabulary of the routing table: event patterns, routes, and the
// functions' own patterns that are no rule's events (the heartbeat's). It is pure data and a
// leaf: the table itself is derived from the rule catalogue by package routing, read by the
// functions (to refuse events not meant for them) and by the infrastructure (to build the
// EventBridge rule patterns), so the two cannot disagree.
package route

import (
	"slices"
	"strings"

	"github.com/rootguard/rootguard/internal/function"
)

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

// Detail types of CloudTrail events on EventBridge.
const (
	APICall       = "AWS API Call via CloudTrail"
	ServiceEvent  = "AWS Service Event via CloudTrail"
	ConsoleAction = "AWS Console Action via CloudTrail"
)

// Call is the pattern of API calls of an AWS service ("iam", "organizations", ...) by name,
// whoever makes them.
func Call(service string, names ...string) Pattern {
	return Pattern{
		Sources:      []string{AWSSource + service},
		DetailTypes:  []string{APICall},
		EventSources: []string{service + ".amazonaws.com"},
		EventNames:   names,
	}
}

// ServiceEventOf is the pattern of an AWS service's service events by name.
func ServiceEventOf(service string, names ...string) Pattern {
	p := Call(service, names...)
	p.DetailTypes = []string{ServiceEvent}
	return p
}

// Event is an event a rule needs (package rule's Rule.Events): the routing table sends it to the
// functions that evaluate the rule's group.
type Event struct {
	Pattern
	// Part names the function's further route the pattern joins ("" its first; Route.Part).
	Part string
	// Function, for a rule whose group more than one function evaluates, names the one that
	// takes the event ("" when only one function evaluates the group).
	Function string
}

// Own are the functions' own routes, those that are no rule's events: the heartbeat's canaries
// and its CloudTrail round trip. The routing table (package routing) adds them to the routes
// derived from the rule catalogue.
var Own = []Route{
	{Function: function.RootActivity, Patterns: []Pattern{{ // The heartbeat's root sign-in canary.
		Sources:      []string{CanarySource},
		DetailTypes:  SignInDetailTypes,
		EventSources: []string{"signin.amazonaws.com"},
		EventNames:   []string{"ConsoleLogin"},
		Canary:       true,
	}}},
	{Function: function.SCPGuard, Patterns: []Pattern{{ // The heartbeat's SCP detach canary.
		Sources:      []string{CanarySource},
		DetailTypes:  []string{APICall},
		EventSources: []string{"organizations.amazonaws.com"},
		EventNames:   []string{"DetachPolicy"},
		Canary:       true,
	}}},
	{Function: function.Onboarding, Patterns: []Pattern{{ // The heartbeat's account creation canary.
		Sources:      []string{CanarySource},
		DetailTypes:  []string{ServiceEvent},
		EventSources: []string{"organizations.amazonaws.com"},
		EventNames:   []string{"CreateAccountResult"},
		Canary:       true,
	}}},
	{
		// The end-to-end CloudTrail canary: the heartbeat's own ssm:PutParameter, recorded in
		// the management account and forwarded from there, comes back to the heartbeat. Not
		// Forwarded: only the management account's forwarders send it.
		Function: function.Heartbeat,
		Patterns: []Pattern{{
			Sources:        []string{"aws.ssm"},
			DetailTypes:    []string{APICall},
			EventSources:   []string{"ssm.amazonaws.com"},
			EventNames:     []string{"PutParameter"},
			RequestNames:   []string{HeartbeatParameter},
			FromManagement: true,
		}},
	},
}

// HeartbeatParameter is the SSM parameter the heartbeat writes in every forwarded region of the
// management account (the end-to-end CloudTrail canary, package canary).
const HeartbeatParameter = "/rootguard/heartbeat"

// OwnFor returns a function's own routes (Own) as one route, or false: the heartbeat's round trip.
func OwnFor(function string) (Route, bool) { return Merged(Own, function) }

// Merged returns the routes of a function in a table as one route (their patterns together),
// or false when it has none.
func Merged(table []Route, function string) (Route, bool) {
	var out Route
	found := false
	for _, r := range table {
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

// Matching returns the functions of a table whose routes match the fields, in table order.
func Matching(table []Route, f Fields) []string {
	var out []string
	for _, r := range table {
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
