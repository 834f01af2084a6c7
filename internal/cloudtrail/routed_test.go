package cloudtrail

import (
	"strings"

	"github.com/rootguard/rootguard/internal/route"
)

// routedPatterns are the routing table's patterns, what the replay's callers pass.
func routedPatterns() []route.Pattern {
	var out []route.Pattern
	for _, r := range route.Table {
		out = append(out, r.Patterns...)
	}
	return out
}

// testPrefilter is the prefilter of the routing table.
var testPrefilter = NewPrefilter(routedPatterns())

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
