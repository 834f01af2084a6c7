package rule

import (
	"fmt"
	"slices"

	"github.com/rootguard/rootguard/internal/function"
	"github.com/rootguard/rootguard/internal/render"
)

// validateCarried checks what a rule carries about itself besides its documentation: its ASFF
// types, what lowers it, its events and its posture check.
func validateCarried(r *Rule) []error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("rule %s: "+format, append([]any{r.ID}, args...)...))
	}
	if len(r.ASFFTypes) == 0 {
		bad("no ASFF types (ASFFTypes)")
	}
	for _, t := range r.ASFFTypes {
		if err := render.CheckASFFType(t); err != nil {
			bad("%v", err)
		}
	}
	l := r.Lower
	switch n := btoi(l.Exempt) + btoi(l.Never) + btoi(l.ByException != nil); {
	case n == 0:
		bad("says nothing of exceptions: set Lower (Exempt, Never or ByException)")
	case n > 1:
		bad("Lower says more than one of Exempt, Never and ByException")
	}
	if l.ByTrusted != nil && (l.Exempt || l.Never) {
		bad("Lower.ByTrusted with Exempt or Never")
	}
	groupFunctions := 0
	for _, f := range function.Table {
		if slices.Contains(f.Groups, string(r.Group)) {
			groupFunctions++
		}
	}
	event := r.eval != nil && !r.AuditOnly
	switch {
	case event && len(r.Events) == 0:
		bad("evaluates events but declares none (Events)")
	case !event && len(r.Events) > 0:
		bad("declares events but evaluates none")
	}
	for i, ev := range r.Events {
		switch {
		case ev.Function == "" && groupFunctions > 1:
			bad("event %d: group %s is evaluated by %d functions: name the one that takes it (route.Event.Function)", i, r.Group, groupFunctions)
		case ev.Function != "":
			f, ok := function.Lookup(ev.Function)
			if !ok || !slices.Contains(f.Groups, string(r.Group)) {
				bad("event %d: function %q does not evaluate group %s", i, ev.Function, r.Group)
			}
		}
	}
	if r.Group == GroupPosture && r.Check == nil {
		bad("a posture rule without a posture check (Check)")
	}
	if r.Session && r.Group != GroupRoot {
		bad("Session outside the root group")
	}
	return errs
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
