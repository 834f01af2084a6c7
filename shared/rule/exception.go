package rule

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rootguard/rootguard/shared/finding"
	"github.com/rootguard/rootguard/shared/org"
)

// ExceptionTag is the tag that records an approved exception on the root, an OU, an account or a
// policy: value `<reference>;expires=<RFC 3339 time>`.
const ExceptionTag = "rootguard:exception"

// maxReferenceLen bounds an exception's reference; a longer one is malformed.
const maxReferenceLen = 128

// Exception is a parsed exception tag.
type Exception struct {
	Reference string
	Expires   time.Time
}

// ParseException parses an exception tag value.
func ParseException(v string) (Exception, error) {
	ref, rest, ok := strings.Cut(v, ";")
	ref = strings.TrimSpace(ref)
	if !ok {
		return Exception{}, fmt.Errorf("want <reference>;expires=<RFC 3339 time>")
	}
	key, val, ok := strings.Cut(strings.TrimSpace(rest), "=")
	if !ok || strings.TrimSpace(key) != "expires" {
		return Exception{}, fmt.Errorf("want expires=<RFC 3339 time> after the reference")
	}
	if ref == "" || len(ref) > maxReferenceLen {
		return Exception{}, fmt.Errorf("the reference must be 1 to %d characters", maxReferenceLen)
	}
	for _, r := range ref {
		if r < 0x20 || r == 0x7f {
			return Exception{}, fmt.Errorf("the reference has a control character")
		}
	}
	t, err := time.Parse(time.RFC3339, strings.TrimSpace(val))
	if err != nil {
		return Exception{}, fmt.Errorf("expires %q is not an RFC 3339 time", strings.TrimSpace(val))
	}
	return Exception{Reference: ref, Expires: t}, nil
}

// exemptable: rules an exception or a trusted principal can lower. The onboarding report is
// informational already; failed onboarding is not a protection change.
func exemptable(ruleID string) bool {
	if r, ok := rulesByID[ruleID]; ok && r.Group == GroupCustody {
		return false // custody rules are never lowered (rules.md)
	}
	return ruleID != "ONBOARD-REPORT" && ruleID != "ONBOARD-FAILED"
}

// applyException lowers f to INFORMATIONAL when a valid exception tag covers it or a trusted
// principal made the change; malformed, over-long or expired exceptions are reported in the
// description and change nothing. at is the event's time (or the audit's).
func (e *Engine) applyException(c *Ctx, f *finding.Finding, at time.Time, trustedApplies bool) {
	if !exemptable(f.Rule) || f.Severity == finding.Informational {
		return
	}
	if trustedApplies {
		if arn, ok := e.trustedActor(c); ok {
			e.lower(f, "trusted principal "+arn, fmt.Sprintf(" The change was made by the trusted principal %s, so it is recorded at INFORMATIONAL (was %s).", arn, f.Severity))
			return
		}
	}
	if at.IsZero() {
		return
	}
	var notes []string
	for _, id := range coveredIDs(c, f) {
		tags, err := c.Facts.Tags(id)
		if err != nil {
			continue
		}
		v, ok := tags[ExceptionTag]
		if !ok {
			continue
		}
		ex, err := ParseException(v)
		switch {
		case err != nil:
			notes = append(notes, fmt.Sprintf("the %s tag on %s was ignored: %v", ExceptionTag, id, err))
		case ex.Expires.After(at.Add(e.cfg.ExceptionMaxAge)):
			notes = append(notes, fmt.Sprintf("the exception %s on %s was ignored: it expires %s, more than %s after %s", ex.Reference, id, ex.Expires.Format(time.RFC3339), e.cfg.ExceptionMaxAge, at.Format(time.RFC3339)))
		case !ex.Expires.After(at):
			notes = append(notes, fmt.Sprintf("the exception %s on %s expired at %s", ex.Reference, id, ex.Expires.Format(time.RFC3339)))
		default:
			e.lower(f, ex.Reference, fmt.Sprintf(" Covered by the approved exception %s on %s until %s, so it is recorded at INFORMATIONAL (was %s).", ex.Reference, id, ex.Expires.Format(time.RFC3339), f.Severity))
			return
		}
	}
	if len(notes) > 0 {
		f.Description += " Note: " + strings.Join(notes, "; ") + "."
	}
}

func (e *Engine) lower(f *finding.Finding, ref, note string) {
	f.Exception = ref
	f.Description += note
	f.Severity = finding.Informational
}

// trustedActor reports whether the event's principal (its ARN, or for an assumed role its role's
// ARN) is exactly a configured trusted principal.
func (e *Engine) trustedActor(c *Ctx) (string, bool) {
	u := c.Ev.UserIdentity
	if u == nil || len(e.cfg.TrustedPrincipals) == 0 {
		return "", false
	}
	candidates := []string{u.ARN}
	if u.SessionContext != nil && u.SessionContext.SessionIssuer != nil {
		candidates = append(candidates, u.SessionContext.SessionIssuer.ARN)
	}
	for _, a := range candidates {
		if a != "" && slices.Contains(e.cfg.TrustedPrincipals, a) {
			return a, true
		}
	}
	return "", false
}

// coveredIDs are the ids whose exception tags cover a finding: its resources (policy, target),
// its account, and every OU above the account up to the root.
func coveredIDs(c *Ctx, f *finding.Finding) []string {
	var ids []string
	add := func(id string) {
		if id != "" && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	for _, r := range f.Resources {
		add(r)
		if org.TargetKind(r) == "ou" || org.TargetKind(r) == "account" {
			if ps, err := c.Facts.Parents(r); err == nil {
				for _, p := range ps {
					add(p)
				}
			}
		}
	}
	if f.AccountID != "" {
		add(f.AccountID)
		if ps, err := c.Facts.Parents(f.AccountID); err == nil {
			for _, p := range ps {
				add(p)
			}
		}
	}
	if o, err := c.organization(); err == nil {
		add(o.RootID)
	}
	return ids
}

func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}
	}
	return t
}
