//go:build linux

package functions

import (
	"slices"

	"github.com/rootguard/rootguard/internal/finding"
)

// deliveriesOf models what the notifier delivers when it takes the findings one after the other:
// a finding once per severity; a root session's finding (it lists calls) once per growth of its
// set of write calls, at the highest severity of the calls up to that growth and naming the new
// calls, plus its first call when that call writes nothing; read-only calls and repeated writes
// deliver nothing.
func deliveriesOf(findings []finding.Finding) []finding.Finding {
	type session struct {
		version   int
		addedBy   map[string]int // write call → version
		sev       []finding.Severity
		delivered map[int]bool
	}
	seen := map[string]bool{}
	sessions := map[string]*session{}
	var out []finding.Finding
	for _, f := range findings {
		if len(f.Calls) == 0 || f.Canary {
			if key := f.ID + " " + f.Severity.String() + " " + f.Status; !seen[key] {
				seen[key] = true
				out = append(out, f)
			}
			continue
		}
		s := sessions[f.ID]
		if s == nil {
			s = &session{addedBy: map[string]int{}, sev: []finding.Severity{0}, delivered: map[int]bool{}}
			sessions[f.ID] = s
		}
		var added []string
		for _, w := range f.WriteCalls {
			if _, ok := s.addedBy[w]; !ok && !slices.Contains(added, w) {
				added = append(added, w)
			}
		}
		version := s.version
		if len(added) > 0 {
			s.version++
			version = s.version
			s.sev = append(s.sev, f.Severity)
			for _, w := range added {
				s.addedBy[w] = version
			}
		} else if len(f.WriteCalls) > 0 {
			version = 0
			for _, w := range f.WriteCalls {
				version = max(version, s.addedBy[w])
			}
		}
		if s.delivered[version] {
			continue
		}
		s.delivered[version] = true
		d := f
		d.Severity = max(f.Severity, slices.Max(s.sev[:version+1]))
		d.NewCalls = added
		out = append(out, d)
	}
	return out
}
