package rule

import (
	"fmt"

	"github.com/rootguard/rootguard/internal/cloudtrail"
	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/function"
	"github.com/rootguard/rootguard/internal/org"
)

// refAccountEmail documents the Account Management API's root email change.
const refAccountEmail = "https://docs.aws.amazon.com/accounts/latest/reference/manage-acct-update-root-user-email.html"

// stickyOwnership is the ownership for severity: the strictest of the current root email's
// (current) and the one rootguard recorded for the account. A Stax-owned record keeps a
// customer-owned email Stax-owned; an unknown email stays unknown (already the strictest case).
// note says why when the record won.
func stickyOwnership(current string, a org.Account) (ownership, note string) {
	if current != finding.CustomerOwned || a.RecordedOwnership != finding.StaxOwned {
		return current, ""
	}
	note = "root email changed from a Stax-managed domain"
	if d := a.RootEmailChangedAt; len(d) >= 10 {
		note += " on " + d[:10]
	}
	return finding.StaxOwned, note + "; rootguard recorded the account as Stax-owned, so it is still treated as Stax-owned"
}

// emailRules are the custody rules of this file.
var emailRules = []*Rule{rootEmailChanged}

var rootEmailChanged = &Rule{
	ID:        "ROOT-EMAIL-CHANGED",
	ASFFTypes: []string{"TTPs/Persistence/Root Email Changed", typeRootUsage}, Lower: exempt,
	// Recorded in the account that makes the call (the management account for a member's email).
	Events: inPart(function.RootActivity, "", apiCall("account", "StartPrimaryEmailUpdate", "AcceptPrimaryEmailUpdate")),
	Title:  "Root email changed",
	Group:  GroupCustody,
	When:   "the root email of an account changes: Account `StartPrimaryEmailUpdate` (requested) or `AcceptPrimaryEmailUpdate` (done), by whoever makes it",
	Severity: "a Stax-owned (or unknown) account whose new email is not on a Stax domain: requested HIGH, done CRITICAL (the account leaves Stax's custody of root); " +
		"any other change: MEDIUM; failed: LOW",
	Why: "The root email decides who can recover the root user and whose account it is: moving a Stax-owned account's root email off the Stax-managed domains hands its root to whoever holds the new mailbox. " +
		"rootguard keeps treating the account as Stax-owned (ownership is sticky), so the change cannot downgrade later findings.",
	Remediation: "Stax confirms the change was approved (a change ticket and an exception on the account covering it). If not: cancel a pending request, or recover the root user through the Stax mailbox (the previous email's owner can contact AWS Support), reset the root password and MFA, and review who called the Account API.",
	References:  []string{refAccountEmail, refAccountAPI},
	eval:        evalEmailChanged,
}

func evalEmailChanged(c *Ctx) []Hit {
	ev := c.Ev
	ch, ok := org.EmailChangeOf(ev)
	if !ok {
		return nil
	}
	s := c.Subject(ch.AccountID)
	newOwner := finding.Unknown
	newText := "an email the event does not show"
	if ch.NewEmail != "" {
		newOwner = c.Cfg.Ownership(ch.NewEmail)
		newText = fmt.Sprintf("%q", ch.NewEmail)
	}
	leaves := (s.Ownership == finding.StaxOwned || s.Ownership == finding.Unknown) && newOwner != finding.StaxOwned
	what, title := "requested a change of the root email", "Root email change requested on "
	if ch.Done {
		what, title = "changed the root email", "Root email changed on "
	}
	sev := finding.Medium
	why := "The root email decides who can recover the root user; its owner must confirm the change."
	switch {
	case leaves && ch.Done:
		sev = finding.Critical
		why = "The new email is not on a Stax-managed domain: whoever holds that mailbox can now recover the root user, and the account has left Stax's custody of root. rootguard keeps treating it as Stax-owned."
	case leaves:
		sev = finding.High
		why = "The new email is not on a Stax-managed domain: once the request is accepted, whoever holds that mailbox can recover the root user."
	}
	if ev.Failed() {
		sev = finding.Low
	}
	remedy := "" // the rule's: Stax confirms
	if s.Ownership == finding.CustomerOwned {
		remedy = "The customer (the account owner) confirms the change was expected and that the new mailbox is theirs; if not, recover the root user through the previous mailbox (or AWS Support), reset the root password and MFA, and review who called the Account API."
	}
	return []Hit{{
		Severity:    sev,
		AccountID:   s.ID,
		Title:       title + s.Label(),
		Description: fmt.Sprintf("%s %s of the %s to %s %s. %s%s", ev.Actor(), what, s.Describe(), newText, where(ev), why, failedNote(ev)),
		Resources:   []string{s.ID},
		Remediation: remedy,
	}}
}

// emailChangeApproved reports whether an approved exception on the account covers this
// AcceptPrimaryEmailUpdate (rules.md, "Ownership is sticky"), so that the recorded Stax-owned
// ownership may be forgotten. This is the hook for the exceptions engine: until it knows the
// witnessed grants, no exception covers an email change and the ownership stays Stax-owned.
func (e *Engine) emailChangeApproved(finding.Finding) bool { return false }

// recordOwnership keeps the replay state's recorded ownership across a root email change: the
// account's ownership before the change is recorded the first time rootguard sees it, and a
// Stax-owned record survives the email moving off the Stax-managed domains (with the date), unless
// an approved exception covers the change.
func (r *Replayer) recordOwnership(ev *cloudtrail.Event, findings []finding.Finding) {
	ch, ok := org.EmailChangeOf(ev)
	if !ok || ev.Failed() || ch.AccountID == "" {
		return
	}
	a, err := r.State.Account(ch.AccountID)
	if err != nil {
		return
	}
	cfg := &r.eng.cfg
	before, _ := stickyOwnership(cfg.Ownership(a.EmailAddress()), a)
	if before == finding.Unknown {
		return
	}
	if a.RecordedOwnership == "" || a.RecordedOwnership == finding.Unknown {
		r.State.RecordOwnership(ch.AccountID, before, a.RootEmailChangedAt)
	}
	if !ch.Done || before != finding.StaxOwned || cfg.Ownership(ch.NewEmail) == finding.StaxOwned {
		return
	}
	for _, f := range findings {
		if f.Rule == rootEmailChanged.ID && r.eng.emailChangeApproved(f) {
			r.State.RecordOwnership(ch.AccountID, cfg.Ownership(ch.NewEmail), "")
			return
		}
	}
	r.State.RecordOwnership(ch.AccountID, finding.StaxOwned, ev.Time())
}
