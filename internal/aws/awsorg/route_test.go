package awsorg

import (
	"slices"
	"strings"
	"testing"

	"github.com/rootguard/rootguard/internal/cloudtrail"
	"github.com/rootguard/rootguard/internal/function"
	"github.com/rootguard/rootguard/internal/org"
	"github.com/rootguard/rootguard/internal/route"
	"github.com/rootguard/rootguard/internal/routing"
)

// TestChangesThatDropFactsAreRouted: every event whose change (org.ChangeOf) Invalidate drops
// reaches every function that caches organization facts (each function that evaluates events:
// functions/internal/wire/evaluator builds awsorg.Facts for each), and is forwarded to the
// central bus; and route.FactChangePatterns names no other event.
func TestChangesThatDropFactsAreRouted(t *testing.T) {
	var caching []string
	for _, fn := range function.Table {
		if _, ok := routing.For(fn.Name); ok && len(fn.Groups) > 0 {
			caching = append(caching, fn.Name)
		}
	}
	if len(caching) == 0 {
		t.Fatal("no function caches facts: the test proves nothing")
	}
	// fields of an event as EventBridge delivers it (an API call or a service event).
	fields := func(ce org.ChangeEvent) []route.Fields {
		source := "aws." + strings.TrimSuffix(ce.EventSource, ".amazonaws.com")
		var out []route.Fields
		for _, dt := range []string{cloudtrail.DetailTypeAPICall, cloudtrail.DetailTypeServiceEvent} {
			out = append(out, route.Fields{Source: source, DetailType: dt, EventSource: ce.EventSource, EventName: ce.EventName, UserIdentityType: "AssumedRole"})
		}
		return out
	}
	dropping := 0
	for _, ce := range org.ChangeEvents() {
		if !Invalidates(ce.Kind) {
			continue
		}
		dropping++
		for _, fn := range caching {
			r, _ := routing.For(fn)
			if !slices.ContainsFunc(fields(ce), r.Matches) {
				t.Errorf("%s %s (%v) changes cached facts but does not reach %s", ce.EventSource, ce.EventName, ce.Kind, fn)
			}
		}
		forwarded := slices.ContainsFunc(routing.Table, func(r route.Route) bool {
			return r.Forwarded && slices.ContainsFunc(routing.Forwarding(r), func(p route.Pattern) bool {
				return slices.ContainsFunc(fields(ce), p.Matches)
			})
		})
		if !forwarded {
			t.Errorf("%s %s changes cached facts but no forwarding rule sends it to the central bus", ce.EventSource, ce.EventName)
		}
	}
	if dropping == 0 {
		t.Fatal("no change drops cached facts: the test proves nothing")
	}
	for _, p := range route.FactChangePatterns {
		for _, n := range p.EventNames {
			ok := slices.ContainsFunc(org.ChangeEvents(), func(ce org.ChangeEvent) bool {
				return slices.Contains(p.EventSources, ce.EventSource) && ce.EventName == n && Invalidates(ce.Kind)
			})
			if !ok {
				t.Errorf("route.FactChangePatterns routes %s %s, whose change drops no cached fact", p.EventSources, n)
			}
		}
	}
}
