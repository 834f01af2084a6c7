// Package routing is rootguard's routing table, derived from the rule catalogue: each evaluator
// function takes the events of the rules of its groups (package function's table), and its own
// patterns that are no rule's events (package route's Own: the heartbeat's). The functions read
// it to refuse events not meant for them, and the infrastructure builds the EventBridge rule
// patterns from it, so neither can disagree with the rules.
package routing

import (
	"fmt"
	"slices"

	"github.com/rootguard/rootguard/internal/function"
	"github.com/rootguard/rootguard/internal/route"
	"github.com/rootguard/rootguard/internal/rule"
)

// Table is the routing table: the routes of every function, in the function table's order, a
// function's first route ("" part) before its further ones.
// Each evaluating function's first route also takes the events that change the organization
// facts it caches (route.WithFacts).
var Table = route.WithFacts(Derive(rule.Catalogue(), function.Table, route.Own))

// Forwarding returns the patterns of a route's forwarding rule (route.Forwarding on Table).
func Forwarding(r route.Route) []route.Pattern { return route.Forwarding(Table, r) }

// Evaluates reports whether a function evaluates its rules on an event, rather than only dropping
// the cached facts it changes (route.Evaluates on Table).
func Evaluates(fn string, f route.Fields) bool { return route.Evaluates(Table, fn, f) }

// Patterns are the patterns of every route: the events some function takes, which the replay's
// prefilter keeps (the rules read no other).
func Patterns() []route.Pattern {
	var out []route.Pattern
	for _, r := range Table {
		out = append(out, r.Patterns...)
	}
	return out
}

// For returns a function's routes as one route (their patterns together), or false.
func For(fn string) (route.Route, bool) { return route.Merged(Table, fn) }

// FunctionsFor returns the functions whose routes match the fields.
func FunctionsFor(f route.Fields) []string { return route.Matching(Table, f) }

// Derive builds a routing table: for each function, the events of the rules of its groups
// (an event naming another function is left to that one) and its own routes, one route per
// part. Patterns of one part that differ only in their event names are merged into one.
func Derive(rules []*rule.Rule, functions []function.Function, own []route.Route) []route.Route {
	var out []route.Route
	for _, fn := range functions {
		var parts []route.Route
		add := func(part string, p route.Pattern) {
			i := slices.IndexFunc(parts, func(r route.Route) bool { return r.Part == part })
			if i < 0 {
				parts = append(parts, route.Route{Function: fn.Name, Part: part, Forwarded: fn.Forwarded})
				i = len(parts) - 1
			}
			parts[i].Patterns = merge(parts[i].Patterns, p)
		}
		for _, r := range rules {
			if !slices.Contains(fn.Groups, string(r.Group)) {
				continue
			}
			for _, ev := range r.Events {
				if ev.Function == "" || ev.Function == fn.Name {
					add(ev.Part, ev.Pattern)
				}
			}
		}
		for _, r := range own {
			if r.Function == fn.Name {
				for _, p := range r.Patterns {
					add(r.Part, p)
				}
			}
		}
		slices.SortStableFunc(parts, func(a, b route.Route) int {
			return btoi(a.Part != "") - btoi(b.Part != "")
		})
		out = append(out, parts...)
	}
	return out
}

// merge adds p to patterns: into a pattern that differs from it only in its event names (both
// naming events), or as a new one unless an equal pattern is there already.
func merge(patterns []route.Pattern, p route.Pattern) []route.Pattern {
	p.EventNames, p.EventNamePrefixes = slices.Clone(p.EventNames), slices.Clone(p.EventNamePrefixes)
	named := func(q route.Pattern) bool { return len(q.EventNames) > 0 || len(q.EventNamePrefixes) > 0 }
	for i, q := range patterns {
		if !sameButNames(q, p) || named(q) != named(p) {
			continue
		}
		for _, n := range p.EventNames {
			if !slices.Contains(q.EventNames, n) {
				q.EventNames = append(q.EventNames, n)
			}
		}
		for _, n := range p.EventNamePrefixes {
			if !slices.Contains(q.EventNamePrefixes, n) {
				q.EventNamePrefixes = append(q.EventNamePrefixes, n)
			}
		}
		patterns[i] = q
		return patterns
	}
	return append(patterns, p)
}

// sameButNames reports whether two patterns test the same fields alike, event names aside.
func sameButNames(a, b route.Pattern) bool {
	return slices.Equal(a.Sources, b.Sources) && slices.Equal(a.SourcePrefixes, b.SourcePrefixes) &&
		slices.Equal(a.DetailTypes, b.DetailTypes) && slices.Equal(a.EventSources, b.EventSources) &&
		slices.Equal(a.UserIdentityTypes, b.UserIdentityTypes) && slices.Equal(a.RequestNames, b.RequestNames) &&
		a.AllManagementEvents == b.AllManagementEvents && a.Canary == b.Canary && a.FromManagement == b.FromManagement
}

// Owners are the functions that raise a rule on an event: those that take its events, the
// functions that evaluate its group when it declares none (an audit-only rule: the events it
// looks back on), and for a rule with a posture check the functions that evaluate onboarding
// (the onboarding report runs every check).
func Owners(r *rule.Rule) []string {
	var out []string
	addFn := func(name string) {
		if _, routed := For(name); routed && !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	for _, fn := range function.Table {
		if !slices.Contains(fn.Groups, string(r.Group)) {
			continue
		}
		if len(r.Events) == 0 || slices.ContainsFunc(r.Events, func(ev route.Event) bool { return ev.Function == "" || ev.Function == fn.Name }) {
			addFn(fn.Name)
		}
		if r.Check != nil {
			for _, o := range function.Table {
				if slices.Contains(o.Groups, string(rule.GroupOnboarding)) {
					addFn(o.Name)
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// Check reports, by rule, every event of the rules that no route of a function evaluating the
// rule's group takes (the table is built from the same rules, so this fails only when the
// function table or an event's Function leaves it out). Every rule raised by events declares
// them (rule.Validate).
func Check(rules []*rule.Rule, table []route.Route) []error {
	var errs []error
	for _, r := range rules {
		for i, ev := range r.Events {
			taken := slices.ContainsFunc(table, func(rt route.Route) bool {
				fn, ok := function.Lookup(rt.Function)
				return ok && slices.Contains(fn.Groups, string(r.Group)) && rt.Part == ev.Part &&
					slices.ContainsFunc(rt.Patterns, func(p route.Pattern) bool { return covers(p, ev.Pattern) })
			})
			if !taken {
				errs = append(errs, fmt.Errorf("rule %s: event %d (%v %v) is routed to no function that evaluates group %s", r.ID, i, ev.Sources, ev.EventNames, r.Group))
			}
		}
	}
	return errs
}

// covers reports whether pattern p takes every event pattern q takes.
func covers(p, q route.Pattern) bool {
	if !sameButNames(p, q) {
		return false
	}
	if len(p.EventNames) == 0 && len(p.EventNamePrefixes) == 0 {
		return true
	}
	for _, n := range q.EventNames {
		if !slices.Contains(p.EventNames, n) {
			return false
		}
	}
	for _, n := range q.EventNamePrefixes {
		if !slices.Contains(p.EventNamePrefixes, n) {
			return false
		}
	}
	return len(q.EventNames)+len(q.EventNamePrefixes) > 0
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
