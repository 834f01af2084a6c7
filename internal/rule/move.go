package rule

import (
	"fmt"
	"strings"

	"github.com/rootguard/rootguard/internal/finding"
)

// evalMoveAccount is SCP-NOT-EFFECTIVE after MoveAccount: it compares the protection SCPs that
// applied to the account at its source with those that apply at its destination. HIGH when no
// root-guarding protection applies at the destination; MEDIUM when one does but a
// protection-named SCP that applied at the source is lost; LOW when the move failed; nothing when
// every protection SCP that applied still applies.
func evalMoveAccount(c *Ctx) []Hit {
	ev := c.Ev
	if !orgsEvent(ev, "MoveAccount") {
		return nil
	}
	account := ev.Param("accountId")
	source, dest := ev.Param("sourceParentId"), ev.Param("destinationParentId")
	s := c.Subject(account)
	if s.Role == finding.Management {
		return nil
	}
	after := scanProtection(c.Facts, c.Cfg, account, dest)
	if after.effect == NotApplicable {
		return nil
	}
	var lost []appliedSCP
	if source != "" {
		before := scanProtection(c.Facts, c.Cfg, account, source)
		for _, a := range before.applied {
			if !after.hasPolicy(a.policy.ID) {
				lost = append(lost, a)
			}
		}
	}
	var sev finding.Severity
	var what string
	switch {
	case after.effect != Effective:
		sev = finding.High
		what = "At its destination " + after.why + "."
	case len(lost) > 0:
		sev = finding.Medium
		what = "At its destination " + after.why + ", but the move lost protection SCPs that applied at its source."
	default:
		return nil
	}
	if len(lost) > 0 {
		var names []string
		for _, a := range lost {
			names = append(names, a.label())
		}
		what += " Lost by the move: " + strings.Join(names, ", ") + "."
	}
	if ev.Failed() {
		sev = finding.Low
	}
	title := fmt.Sprintf("Protection SCP not effective on %s after a move", s.Label())
	if after.effect == Effective {
		title = fmt.Sprintf("Protection SCP lost by the move of %s", s.Label())
	}
	return []Hit{{
		Severity:    sev,
		AccountID:   s.ID,
		Title:       title,
		Description: fmt.Sprintf("%s moved the %s from %s to %s %s. %s%s", ev.Actor(), s.Describe(), source, dest, where(ev), what, failedNote(ev)),
		Resources:   []string{dest},
	}}
}
