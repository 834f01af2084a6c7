package route

import (
	"slices"

	"github.com/rootguard/rootguard/internal/function"
)

// FactChangePatterns are the events that change the organization facts the evaluating functions
// cache across warm invocations (awsorg.Facts: accounts, parents, attachments, policies, the SCP
// policy type, tags, root emails): the events org.ChangeOf reads whose change awsorg.Facts.Invalidate
// drops (a test holds the two together). Every function that evaluates events caches those facts
// (functions/internal/wire/evaluator), so each takes these events: through its rule patterns, or
// else through these, appended to its first route (WithFacts) and marked FactsOnly. A failed call
// matches too; it drops nothing.
var FactChangePatterns = []Pattern{
	{
		Sources:      []string{"aws.organizations"},
		DetailTypes:  []string{APICall},
		EventSources: []string{"organizations.amazonaws.com"},
		EventNames: []string{"AttachPolicy", "DetachPolicy", "UpdatePolicy", "DeletePolicy", "EnablePolicyType", "DisablePolicyType",
			"MoveAccount", "AcceptHandshake", "RemoveAccountFromOrganization", "LeaveOrganization", "CloseAccount",
			"DeleteOrganizationalUnit", "TagResource", "UntagResource"},
	},
	{
		Sources:      []string{"aws.organizations"},
		DetailTypes:  []string{ServiceEvent},
		EventSources: []string{"organizations.amazonaws.com"},
		EventNames:   []string{"CreateAccountResult"},
	},
	{
		Sources:      []string{"aws.controltower"},
		DetailTypes:  []string{ServiceEvent},
		EventSources: []string{"controltower.amazonaws.com"},
		EventNames:   []string{"CreateManagedAccount"},
	},
	{
		Sources:      []string{"aws.account"},
		DetailTypes:  []string{APICall},
		EventSources: []string{"account.amazonaws.com"},
		EventNames:   []string{"StartPrimaryEmailUpdate", "AcceptPrimaryEmailUpdate"},
	},
}

// WithFacts returns the rule routes with, appended to each evaluating function's first route,
// the fact-change patterns (FactsOnly) for the events none of its routes takes already: one
// EventBridge rule per route, so an event two routes of a function took would be evaluated
// twice, while two patterns of one route make one invocation.
func WithFacts(routes []Route) []Route {
	out := slices.Clone(routes)
	for _, fn := range function.Table {
		first := slices.IndexFunc(out, func(r Route) bool { return r.Function == fn.Name })
		if len(fn.Groups) == 0 || first < 0 {
			continue
		}
		var own []Pattern
		for _, r := range out {
			if r.Function == fn.Name {
				own = append(own, r.Patterns...)
			}
		}
		r := &out[first]
		r.Patterns = slices.Clone(r.Patterns)
		for _, p := range untaken(FactChangePatterns, own) {
			p.FactsOnly = true
			r.Patterns = append(r.Patterns, p)
		}
	}
	return out
}

// Forwarding returns the patterns of a route's forwarding rule (none: the route has no
// forwarding rule): its patterns without the heartbeat's canaries, which are put on the central
// bus directly, and of its FactsOnly patterns only the events that no other forwarded route's rule
// patterns and no earlier route's fact-change patterns forward. Every rule on the central bus
// takes whichever copy of an event arrives, so a fact-change event is forwarded once.
func Forwarding(table []Route, r Route) []Pattern {
	i := slices.IndexFunc(table, func(t Route) bool { return t.Name() == r.Name() })
	if i < 0 {
		return nonCanary(r.Patterns)
	}
	return forwardingIn(table, i)
}

func forwardingIn(routes []Route, i int) []Pattern {
	var rules, facts, sent []Pattern
	for _, p := range nonCanary(routes[i].Patterns) {
		if p.FactsOnly {
			facts = append(facts, p)
		} else {
			rules = append(rules, p)
		}
	}
	if len(facts) == 0 {
		return rules
	}
	sent = append(sent, rules...)
	for j, o := range routes {
		if j == i || !o.Forwarded {
			continue
		}
		for _, p := range nonCanary(o.Patterns) {
			if !p.FactsOnly {
				sent = append(sent, p)
			}
		}
		if j < i {
			sent = append(sent, forwardingIn(routes, j)...)
		}
	}
	return append(rules, untaken(facts, sent)...)
}

func nonCanary(ps []Pattern) []Pattern {
	var out []Pattern
	for _, p := range ps {
		if !p.Canary {
			out = append(out, p)
		}
	}
	return out
}

// untaken returns the patterns with only the event names that none of by takes whoever calls
// (patterns left without a name are dropped). Canary patterns take nothing.
func untaken(patterns, by []Pattern) []Pattern {
	var out []Pattern
	for _, p := range patterns {
		var names []string
		for _, n := range p.EventNames {
			if !takenBy(p, n, by) {
				names = append(names, n)
			}
		}
		if len(names) > 0 {
			q := p
			q.EventNames = names
			out = append(out, q)
		}
	}
	return out
}

// takenBy reports whether, for every source, detail-type and event source p names, some pattern
// of by takes the event name whoever made the call.
func takenBy(p Pattern, name string, by []Pattern) bool {
	orAny := func(list []string) []string {
		if len(list) == 0 {
			return []string{""}
		}
		return list
	}
	for _, s := range orAny(p.Sources) {
		for _, d := range orAny(p.DetailTypes) {
			for _, e := range orAny(p.EventSources) {
				f := Fields{Source: s, DetailType: d, EventSource: e, EventName: name}
				if !slices.ContainsFunc(by, func(q Pattern) bool { return !q.Canary && q.Matches(f) }) {
					return false
				}
			}
		}
	}
	return true
}

// Evaluates reports whether a function evaluates its rules on an event: a pattern of its routes
// that is not FactsOnly takes it. An event only FactsOnly patterns take just drops cached facts.
func Evaluates(table []Route, function string, f Fields) bool {
	return slices.ContainsFunc(table, func(r Route) bool {
		return r.Function == function && slices.ContainsFunc(r.Patterns, func(p Pattern) bool { return !p.FactsOnly && p.Matches(f) })
	})
}
