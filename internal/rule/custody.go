package rule

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/rootguard/rootguard/internal/cloudtrail"
)

// Custody is what rootguard has witnessed about who may lower its findings: the exceptions
// granted by an approver (a successful Organizations TagResource of the exception tag) and the
// suspensions of trusted principals and approvers after TRUSTED-PRINCIPAL-CHANGED. The engine
// reads it; replay keeps it in memory (MemCustody), the Lambdas in the state table
// (internal/aws/dynamostore). A nil Custody knows no grant and no suspension.
type Custody interface {
	// Grant returns the last witnessed grant on a resource (root, OU, account or policy id);
	// found is false when none is kept or the last change of the tag was not a grant.
	Grant(resource string) (g Grant, found bool, err error)
	// Suspended returns the suspension of a configured principal ARN in force at a time.
	Suspended(principal string, at time.Time) (s Suspension, found bool, err error)
}

// Grant is an exception witnessed as granted: a successful TagResource setting the exception
// tag to Value on Resource, made by a configured approver that was not suspended.
type Grant struct {
	Resource string
	// Value is exactly the tag value set (`<reference>;expires=<RFC 3339 time>`).
	Value string
	// Approver is the configured approver ARN the caller matched.
	Approver string
	// Actor is the caller's ARN and Issuer its session issuer (the role, "" for a user): the
	// principal that granted, for the four-eyes check.
	Actor, Issuer string
	// EventID and At are the TagResource event's id and time.
	EventID string
	At      time.Time
	// Expires is the exception's expiry (the store keeps the record until then).
	Expires time.Time
}

// Suspension is a configured trusted principal or approver whose trust is suspended.
type Suspension struct {
	// Principal is the configured ARN.
	Principal string
	// From and Until bound the suspension.
	From, Until time.Time
	// EventID and By are the TRUSTED-PRINCIPAL-CHANGED event and who made the change.
	EventID, By string
}

// CustodyChanges are what one event changes in the custody state.
type CustodyChanges struct {
	// Grants are exceptions granted by an approver.
	Grants []Grant
	// Revoked are resources whose exception tag was set by someone else, set malformed or
	// removed: an earlier grant on them no longer counts.
	Revoked []string
	// Suspensions start with the event.
	Suspensions []Suspension
}

// Empty reports whether the changes change nothing.
func (c CustodyChanges) Empty() bool {
	return len(c.Grants) == 0 && len(c.Revoked) == 0 && len(c.Suspensions) == 0
}

// Witness returns what a successful event changes in the custody state (nothing for a failed
// call): the exception-tag changes of TagResource / UntagResource and the suspensions of
// TRUSTED-PRINCIPAL-CHANGED. cu is the state before the event (an approver's suspension decides
// whether its TagResource is a grant).
func (e *Engine) Witness(ev *cloudtrail.Event, cu Custody) CustodyChanges {
	var out CustodyChanges
	if ev == nil || ev.Failed() {
		return out
	}
	c := &Ctx{Ev: ev, Cfg: &e.cfg, custody: cu}
	if t, ok := exceptionTagChange(ev); ok {
		if t.removed {
			out.Revoked = append(out.Revoked, t.resource)
			return out
		}
		v := c.judgeGrant(t)
		if v.sev == grantApproved {
			out.Grants = append(out.Grants, Grant{
				Resource: t.resource, Value: t.value, Approver: v.approver,
				Actor: callerARN(ev), Issuer: issuerOf(ev),
				EventID: ev.ID(), At: parseTime(ev.Time()), Expires: v.ex.Expires,
			})
		} else {
			out.Revoked = append(out.Revoked, t.resource)
		}
		return out
	}
	if targets := trustTargets(c); len(targets) > 0 {
		at := parseTime(ev.Time())
		for _, p := range targets {
			out.Suspensions = append(out.Suspensions, Suspension{Principal: p, From: at, Until: at.Add(e.cfg.TrustSuspension), EventID: ev.ID(), By: ev.Actor()})
		}
	}
	return out
}

// MemCustody is the in-memory Custody of a replay: the grants and suspensions learnt from the
// events before the one evaluated. It is not safe for concurrent use.
type MemCustody struct {
	grants      map[string]Grant
	suspensions map[string][]Suspension
}

// NewMemCustody returns an empty custody state.
func NewMemCustody() *MemCustody {
	return &MemCustody{grants: map[string]Grant{}, suspensions: map[string][]Suspension{}}
}

// Grant implements Custody.
func (m *MemCustody) Grant(resource string) (Grant, bool, error) {
	g, ok := m.grants[resource]
	return g, ok, nil
}

// Suspended implements Custody.
func (m *MemCustody) Suspended(principal string, at time.Time) (Suspension, bool, error) {
	var best Suspension
	found := false
	for _, s := range m.suspensions[principal] {
		if !at.Before(s.From) && at.Before(s.Until) && (!found || s.Until.After(best.Until)) {
			best, found = s, true
		}
	}
	return best, found, nil
}

// Apply records the changes of one event.
func (m *MemCustody) Apply(ch CustodyChanges) {
	for _, r := range ch.Revoked {
		delete(m.grants, r)
	}
	for _, g := range ch.Grants {
		m.grants[g.Resource] = g
	}
	for _, s := range ch.Suspensions {
		m.suspensions[s.Principal] = append(m.suspensions[s.Principal], s)
	}
}

// iamPrincipalARN: an IAM role or user ARN (path allowed).
var iamPrincipalARN = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/[\w+=,.@/-]+$`)

// principalList validates a list of exception approver ARNs: IAM role or user ARNs.
func principalList(what string, in []string) ([]string, []error) {
	var out []string
	var errs []error
	for _, p := range in {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if !iamPrincipalARN.MatchString(p) {
			errs = append(errs, fmt.Errorf("%s %q is not an IAM role or user ARN (want arn:aws:iam::123456789012:role/NAME or :user/NAME)", what, p))
			continue
		}
		out = append(out, p)
	}
	return out, errs
}

// issuerOf is the ARN of the role an assumed-role session was issued by ("" otherwise).
func issuerOf(ev *cloudtrail.Event) string {
	u := ev.UserIdentity
	if u == nil || u.SessionContext == nil || u.SessionContext.SessionIssuer == nil {
		return ""
	}
	return u.SessionContext.SessionIssuer.ARN
}

// actsAs reports whether the event's caller is the configured principal p: exactly its ARN (a
// user, or any exact ARN), or a session of the role p.
func actsAs(ev *cloudtrail.Event, p string) bool {
	u := ev.UserIdentity
	if u == nil || p == "" {
		return false
	}
	return u.ARN == p || issuerOf(ev) == p
}

// sameGranter reports whether the event was made by the principal that granted g: the same
// caller, or a session of the same role (four eyes).
func sameGranter(ev *cloudtrail.Event, g Grant) bool {
	u := ev.UserIdentity
	if u == nil {
		return false
	}
	if u.ARN != "" && u.ARN == g.Actor {
		return true
	}
	is := issuerOf(ev)
	return is != "" && (is == g.Issuer || is == g.Approver)
}

// configuredPrincipal returns the first of list the event's caller acts as.
func configuredPrincipal(ev *cloudtrail.Event, list []string) (string, bool) {
	for _, p := range list {
		if actsAs(ev, p) {
			return p, true
		}
	}
	return "", false
}

// suspension reads the suspension of p at a time; a Custody that cannot be read counts as a
// suspension (fail closed), with the reason.
func (c *Ctx) suspension(p string, at time.Time) (string, bool) {
	if c.custody == nil {
		return "", false
	}
	s, found, err := c.custody.Suspended(p, at)
	switch {
	case err != nil:
		return fmt.Sprintf("the trust state of %s could not be read (%v), so it is not trusted (fail closed)", p, err), true
	case found:
		return fmt.Sprintf("%s was changed by %s (event %s, TRUSTED-PRINCIPAL-CHANGED), so it is neither trusted nor an exception approver until %s",
			p, s.By, s.EventID, s.Until.UTC().Format(time.RFC3339)), true
	}
	return "", false
}

// callerARN is the event's caller ARN ("" when none).
func callerARN(ev *cloudtrail.Event) string {
	if ev.UserIdentity == nil {
		return ""
	}
	return ev.UserIdentity.ARN
}
