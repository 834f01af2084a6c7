package cloudtrail

import (
	"strings"

	"github.com/rootguard/rootguard/internal/route"
)

// The routing table's patterns, what the replay's callers pass, and their prefilter. Package
// routing imports this package, so only the external test package can read its table: it sets
// them (routing_table_test.go) before any test runs.
var (
	routed        []route.Pattern
	testPrefilter *Prefilter
)

// UseRoutingTable sets the routing table's patterns for the tests.
func UseRoutingTable(patterns []route.Pattern) {
	routed, testPrefilter = patterns, NewPrefilter(patterns)
}

// routedPatterns are the routing table's patterns.
func routedPatterns() []route.Pattern {
	if len(routed) == 0 {
		panic("cloudtrail tests: the routing table was not set (routing_table_test.go)")
	}
	return routed
}

// matters reports whether a decoded record matches one of the routing table's patterns, the
// records the prefilter must keep. Detail types are not tested and an envelope's record is tried
// with both its own source and the one its event source stands for, so this is a superset of
// what EventBridge would route.
func matters(ev *Event) bool {
	f := route.Fields{EventSource: ev.EventSource, EventName: ev.EventName, RequestName: ev.Param("name"),
		Source: AWSSourcePrefix + strings.TrimSuffix(ev.EventSource, ".amazonaws.com")}
	if ev.UserIdentity != nil {
		f.UserIdentityType = ev.UserIdentity.Type
	}
	sources := []string{f.Source}
	if ev.Envelope != nil {
		sources = append(sources, ev.Envelope.Source)
	}
	for _, p := range routedPatterns() {
		p.DetailTypes = nil
		for _, f.Source = range sources {
			if p.Matches(f) {
				return true
			}
		}
	}
	return false
}
