package rule

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rootguard/rootguard/internal/finding"
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

// applyException lowers f to INFORMATIONAL when a trusted principal made a change it may lower,
// or a valid exception granted by an approver covers it; otherwise it says in the description
// why an exception tag or a trusted principal did not count. at is the event's time (or the
// audit's).
func (e *Engine) applyException(c *Ctx, r *Rule, f *finding.Finding, at time.Time) {
	if r.Lower.Exempt || f.Severity == finding.Informational {
		return
	}
	never := r.Lower.Never || r.Lower.ByException == nil || !r.Lower.ByException(f)
	var notes []string
	if !never && r.Lower.ByTrusted != nil && r.Lower.ByTrusted(c.Ev) {
		if arn, ok := e.trustedActor(c); ok {
			if why, susp := c.suspension(arn, at); susp {
				notes = append(notes, "it would have been lowered to INFORMATIONAL as a change by the trusted principal "+arn+", but "+why)
			} else {
				e.lower(f, "trusted principal "+arn, fmt.Sprintf(" The change was made by the trusted principal %s, so it is recorded at INFORMATIONAL (was %s).", arn, f.Severity))
				return
			}
		}
	}
	if !at.IsZero() {
		for _, id := range coveredIDs(r, f) {
			ref, approver, note, ok := e.validException(c, id, at)
			switch {
			case !ok:
				if note != "" {
					notes = append(notes, note)
				}
			case never:
				notes = append(notes, fmt.Sprintf("the approved exception %s on %s (approved by %s) is valid, but %s is never lowered by an exception", ref, id, approver, f.Rule))
			default:
				e.lower(f, ref+" approved by "+approver, fmt.Sprintf(" Covered by the approved exception %s on %s, granted by %s, so it is recorded at INFORMATIONAL (was %s).%s", ref, id, approver, f.Severity, joinNotes(notes)))
				return
			}
		}
	}
	f.Description += joinNotes(notes)
}

func joinNotes(notes []string) string {
	if len(notes) == 0 {
		return ""
	}
	return " Note: " + strings.Join(notes, "; ") + "."
}

// validException checks the exception tag on one resource: present in the facts, exactly the
// value a configured approver was witnessed granting, well-formed, within the maximum age, not
// expired, and not granted by the principal that made the event (four eyes). It returns the
// reference and approver, or a note on why the tag does not count ("" without a tag).
func (e *Engine) validException(c *Ctx, id string, at time.Time) (ref, approver, note string, ok bool) {
	tags, err := c.Facts.Tags(id)
	if err != nil {
		return "", "", "", false
	}
	v, present := tags[ExceptionTag]
	if !present {
		return "", "", "", false
	}
	var g Grant
	found := false
	if c.custody != nil {
		g, found, err = c.custody.Grant(id)
		if err != nil {
			return "", "", fmt.Sprintf("the %s tag on %s was ignored: its grant could not be read (%v)", ExceptionTag, id, err), false
		}
	}
	if !found || g.Value != v {
		return "", "", fmt.Sprintf("exception tag present but not granted by an approver (%s on %s)", ExceptionTag, id), false
	}
	if !slices.Contains(e.cfg.ExceptionApprovers, g.Approver) {
		return "", "", fmt.Sprintf("the exception on %s was granted by %s, which is not a configured exception approver", id, g.Approver), false
	}
	ex, err := ParseException(v)
	switch {
	case err != nil:
		return "", "", fmt.Sprintf("the %s tag on %s was ignored: %v", ExceptionTag, id, err), false
	case ex.Expires.After(at.Add(e.cfg.ExceptionMaxAge)):
		return "", "", fmt.Sprintf("the exception %s on %s was ignored: it expires %s, more than %s after %s", ex.Reference, id, ex.Expires.Format(time.RFC3339), e.cfg.ExceptionMaxAge, at.Format(time.RFC3339)), false
	case !ex.Expires.After(at):
		return "", "", fmt.Sprintf("the exception %s on %s expired at %s", ex.Reference, id, ex.Expires.Format(time.RFC3339)), false
	case !g.At.IsZero() && at.Before(g.At):
		return "", "", fmt.Sprintf("the exception %s on %s was granted at %s, after %s", ex.Reference, id, g.At.UTC().Format(time.RFC3339), at.Format(time.RFC3339)), false
	case sameGranter(c.Ev, g):
		return "", "", fmt.Sprintf("the exception %s on %s does not cover this change: it was granted by %s, who made the change (four eyes)", ex.Reference, id, g.Actor), false
	}
	return ex.Reference, g.Approver, "", true
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

// coveredIDs are the resources whose exception covers a finding, exactly what it is about: the
// rule's (Lowering.CoveredBy), else its account. Nothing is inherited from OUs or the root.
func coveredIDs(r *Rule, f *finding.Finding) []string {
	if r.Lower.CoveredBy != nil {
		return r.Lower.CoveredBy(f)
	}
	if f.AccountID == "" {
		return nil
	}
	return []string{f.AccountID}
}

func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}
	}
	return t
}
