package awsorg

import (
	"context"
	"time"

	"github.com/rootguard/rootguard/internal/cloudtrail"
	"github.com/rootguard/rootguard/internal/org"
	"github.com/rootguard/rootguard/internal/statekey"
)

// OwnerKeyPrefix starts the id of every recorded-ownership item in the state table
// (owner#<account id>, see internal/aws/dynamostore); the IAM policies of the functions that
// read or write them are limited to these items (dynamodb:LeadingKeys).
const OwnerKeyPrefix = statekey.Owner

// OwnerRecord is the ownership rootguard recorded for an account: ownership is sticky (rules.md,
// "Ownership is sticky"), so a root email moved off the Stax-managed domains does not make a
// Stax-owned account customer-owned for the rules.
type OwnerRecord struct {
	AccountID string
	// Ownership is org.OwnershipStax or org.OwnershipCustomer.
	Ownership string
	// Email is the root email the ownership was read from.
	Email string
	// RecordedAt is when the record was written.
	RecordedAt time.Time
	// RootEmailChangedAt is the time of the AcceptPrimaryEmailUpdate that moved the root email
	// of a Stax-owned account off the Stax-managed domains (RFC 3339; "" when none was seen), and
	// EventID that event's id.
	RootEmailChangedAt string
	EventID            string
}

// OwnerStore keeps the recorded ownership beyond the process (the state table). Reads are
// strongly consistent.
type OwnerStore interface {
	// GetOwner returns an account's record; found is false when none is kept.
	GetOwner(ctx context.Context, accountID string) (rec OwnerRecord, found bool, err error)
	// PutOwner writes rec. With ifAbsent it writes only when the account has no record yet, and
	// written is false when one was there (another function recorded it first).
	PutOwner(ctx context.Context, rec OwnerRecord, ifAbsent bool) (written bool, err error)
}

// emailChange is the root email change of the event being evaluated (see Invalidate).
type emailChange struct {
	org.EmailChange
	eventID, time string
}

func keyOwner(id string) string { return "owner/" + id }

// noteEmailChange remembers a root email change, for the evaluation of the event that makes it,
// and drops the account's cached email and record. Called with f.mu held.
func (f *Facts) noteEmailChange(ch org.EmailChange, ev *cloudtrail.Event) {
	if ch.AccountID == "" {
		return
	}
	f.email = &emailChange{EmailChange: ch, eventID: ev.ID(), time: ev.Time()}
	delete(f.cache, keyAccount(ch.AccountID))
	delete(f.cache, keyOwner(ch.AccountID))
}

// withOwner adds the recorded ownership to an account read from AWS (Config.Owners). The first
// time rootguard sees an account's ownership it records it; a root email change away from the
// Stax-managed domains keeps a Stax-owned record and notes when it happened. A record that
// cannot be read or written is logged and leaves the account as AWS describes it.
func (v *View) withOwner(a org.Account) org.Account {
	f := v.f
	st, classify := f.cfg.Owners, f.cfg.Ownership
	if st == nil || classify == nil {
		return a
	}
	f.mu.Lock()
	var pending *emailChange
	if f.email != nil && f.email.AccountID == a.ID {
		c := *f.email
		pending = &c
	}
	f.mu.Unlock()
	rec, found := OwnerRecord{}, false
	if x, ok := f.get(keyOwner(a.ID)); ok {
		rec, found = x.(OwnerRecord), true
	} else {
		var err error
		if rec, found, err = st.GetOwner(v.ctx, a.ID); err != nil {
			v.warnOwner("recorded ownership not read from the state table", a.ID, err)
			return a
		}
	}
	now := f.cfg.Now().UTC()
	switch {
	case found && pending != nil && pending.Done && rec.Ownership == org.OwnershipStax &&
		classify(pending.NewEmail) != org.OwnershipStax && rec.EventID != pending.eventID:
		// The email moved off the Stax-managed domains: the record stays Stax-owned, with the date.
		rec.RootEmailChangedAt, rec.EventID, rec.RecordedAt = pending.time, pending.eventID, now
		if _, err := st.PutOwner(v.ctx, rec, false); err != nil {
			v.warnOwner("root email change not recorded in the state table", a.ID, err)
		}
	case !found && (pending == nil || !pending.Done):
		// First sight. After an accepted change the email read is already the new one, and the
		// ownership before it is unknown: nothing is recorded then.
		own := classify(a.EmailAddress())
		if own != org.OwnershipStax && own != org.OwnershipCustomer {
			break
		}
		rec = OwnerRecord{AccountID: a.ID, Ownership: own, Email: a.EmailAddress(), RecordedAt: now}
		written, err := st.PutOwner(v.ctx, rec, true)
		switch {
		case err != nil:
			v.warnOwner("ownership not recorded in the state table", a.ID, err)
		case written:
			found = true
		default: // recorded meanwhile by another function: follow it
			if r, ok, err := st.GetOwner(v.ctx, a.ID); err == nil && ok {
				rec, found = r, true
			}
		}
	}
	if !found {
		return a
	}
	f.put(keyOwner(a.ID), rec)
	a.RecordedOwnership, a.RootEmailChangedAt = rec.Ownership, rec.RootEmailChangedAt
	return a
}

func (v *View) warnOwner(msg, accountID string, err error) {
	if l := v.f.cfg.Logger; l != nil {
		l.Warn(msg, "accountId", accountID, "error", err.Error())
	}
}

// FillRecordedOwnership adds the ownership recorded in st to each account of a snapshot document,
// reading only (`rootguard snapshot --state-table`): an account without a record keeps none
// (unknown). A record that cannot be read fails the whole document, naming the account.
func FillRecordedOwnership(ctx context.Context, st OwnerStore, doc *org.SnapshotDoc) error {
	for i := range doc.Accounts {
		a := &doc.Accounts[i]
		rec, found, err := st.GetOwner(ctx, a.ID)
		if err != nil {
			return err
		}
		if found {
			a.RecordedOwnership, a.RootEmailChangedAt = rec.Ownership, rec.RootEmailChangedAt
		}
	}
	return nil
}
