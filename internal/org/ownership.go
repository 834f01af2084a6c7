package org

import (
	"fmt"
	"time"

	"github.com/rootguard/rootguard/internal/cloudtrail"
)

// The recorded ownership values (the finding package's ownership labels).
const (
	OwnershipStax     = "stax-owned"
	OwnershipCustomer = "customer-owned"
	OwnershipUnknown  = "unknown"
)

// checkRecordedOwnership validates an account's recordedOwnership and rootEmailChangedAt.
func checkRecordedOwnership(a Account) error {
	switch a.RecordedOwnership {
	case "", OwnershipStax, OwnershipCustomer, OwnershipUnknown:
	default:
		return fmt.Errorf("recordedOwnership %q: want %q, %q or null", a.RecordedOwnership, OwnershipStax, OwnershipCustomer)
	}
	if a.RootEmailChangedAt != "" {
		if _, err := time.Parse(time.RFC3339, a.RootEmailChangedAt); err != nil {
			return fmt.Errorf("rootEmailChangedAt %q is not an RFC 3339 time", a.RootEmailChangedAt)
		}
	}
	return nil
}

// EmailChange is a root email change read from an Account Management API event:
// StartPrimaryEmailUpdate (requested) or AcceptPrimaryEmailUpdate (done).
type EmailChange struct {
	// AccountID is the account whose root email changes: requestParameters accountId (or
	// AccountId), else the account that recorded the event.
	AccountID string
	// NewEmail is requestParameters primaryEmail (or PrimaryEmail); "" when absent.
	NewEmail string
	// Done: AcceptPrimaryEmailUpdate (the email changed); false for a request.
	Done bool
}

// EmailChangeOf reads a root email change from an event; ok is false for any other event.
func EmailChangeOf(ev *cloudtrail.Event) (EmailChange, bool) {
	if ev.EventSource != cloudtrail.SourceAccount {
		return EmailChange{}, false
	}
	var c EmailChange
	switch ev.EventName {
	case "StartPrimaryEmailUpdate":
	case "AcceptPrimaryEmailUpdate":
		c.Done = true
	default:
		return EmailChange{}, false
	}
	c.AccountID = firstParam(ev, "accountId", "AccountId")
	if c.AccountID == "" {
		c.AccountID = ev.AccountID()
	}
	c.NewEmail = firstParam(ev, "primaryEmail", "PrimaryEmail")
	return c, true
}

func firstParam(ev *cloudtrail.Event, names ...string) string {
	for _, n := range names {
		if v := ev.Param(n); v != "" {
			return v
		}
	}
	return ""
}

// ownerState is what the overlay learned of an account's root email and recorded ownership.
type ownerState struct {
	email    *string
	recorded *string
	changed  *string
}

// SetRootEmail records that an account's root email is now email (a replayed
// AcceptPrimaryEmailUpdate). The recorded ownership is not changed: see RecordOwnership.
func (o *Overlay) SetRootEmail(accountID, email string) {
	st := o.owner(accountID)
	st.email = &email
}

// RecordOwnership sets the ownership rootguard recorded for an account, and when its root email
// moved off the Stax-managed domains (changedAt "" for none). The rule engine calls it, because
// only it can classify an email: it keeps the recorded ownership stax-owned across an email
// change, and replaces it (forgets the stax-owned record) only when told that an approved
// exception covers the change.
func (o *Overlay) RecordOwnership(accountID, ownership, changedAt string) {
	st := o.owner(accountID)
	st.recorded, st.changed = &ownership, &changedAt
}

func (o *Overlay) owner(id string) *ownerState {
	if o.owners == nil {
		o.owners = map[string]*ownerState{}
	}
	st := o.owners[id]
	if st == nil {
		st = &ownerState{}
		o.owners[id] = st
	}
	return st
}

// withOwner applies what the overlay learned of the account's email and recorded ownership.
func (o *Overlay) withOwner(a Account) Account {
	st := o.owners[a.ID]
	if st == nil {
		return a
	}
	if st.email != nil {
		e := *st.email
		a.Email = &e
	}
	if st.recorded != nil {
		a.RecordedOwnership = *st.recorded
	}
	if st.changed != nil {
		a.RootEmailChangedAt = *st.changed
	}
	return a
}

// applyEmail records a root email change that was done (AcceptPrimaryEmailUpdate).
func (o *Overlay) applyEmail(c EmailChange) {
	if !c.Done || c.NewEmail == "" || c.AccountID == "" {
		return
	}
	o.SetRootEmail(c.AccountID, c.NewEmail)
}
