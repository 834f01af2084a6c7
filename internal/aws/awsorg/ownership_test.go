package awsorg

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/rootguard/rootguard/internal/org"
)

// memOwners is an in-memory OwnerStore; fail makes every call fail.
type memOwners struct {
	mu   sync.Mutex
	recs map[string]OwnerRecord
	puts int
	fail error
}

func (m *memOwners) GetOwner(_ context.Context, id string) (OwnerRecord, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return OwnerRecord{}, false, m.fail
	}
	r, ok := m.recs[id]
	return r, ok, nil
}

func (m *memOwners) PutOwner(_ context.Context, r OwnerRecord, ifAbsent bool) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return false, m.fail
	}
	if _, ok := m.recs[r.AccountID]; ok && ifAbsent {
		return false, nil
	}
	if m.recs == nil {
		m.recs = map[string]OwnerRecord{}
	}
	m.recs[r.AccountID] = r
	m.puts++
	return true, nil
}

// classify is the rules' ownership with stax.example as the Stax-managed domain.
func classify(email string) string {
	at := strings.LastIndexByte(email, '@')
	switch {
	case at < 0:
		return org.OwnershipUnknown
	case strings.HasSuffix(strings.ToLower(email[at+1:]), "stax.example"):
		return org.OwnershipStax
	}
	return org.OwnershipCustomer
}

func ownerDoc() org.SnapshotDoc {
	email := func(s string) *string { return &s }
	return org.SnapshotDoc{
		Organization: org.Organization{ID: "o-st4x1example", ManagementAccountID: "111111111111", RootID: "r-st4x"},
		Accounts: []org.Account{
			{ID: "111111111111", Name: "mgmt", Email: email("root@stax.example"), ParentID: "r-st4x"},
			{ID: "444444444444", Name: "sandbox", Email: email("root+sandbox@stax.example"), ParentID: "r-st4x"},
			{ID: "333333333333", Name: "web", Email: email("web@acme.example"), ParentID: "r-st4x"},
			{ID: "555555555555", Name: "legacy", Email: email("legacy@stax.example"), ParentID: "r-st4x"},
		},
	}
}

func setEmail(t *testing.T, e *env, id, email string) {
	t.Helper()
	if err := e.fake.Update(func(doc *org.SnapshotDoc) {
		for i := range doc.Accounts {
			if doc.Accounts[i].ID == id {
				doc.Accounts[i].Email = &email
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
}

func emailEvent(t *testing.T, name, id, email, eventID string) map[string]any {
	t.Helper()
	return map[string]any{"eventSource": "account.amazonaws.com", "eventName": name, "eventID": eventID,
		"eventTime": "2026-11-26T12:30:00Z", "requestParameters": map[string]any{"accountId": id, "primaryEmail": email}}
}

func TestRecordedOwnership(t *testing.T) {
	owners := &memOwners{}
	e := setup(t, ownerDoc(), Config{Owners: owners, Ownership: classify})

	// First sight records the ownership read from the root email.
	v := e.view(t)
	for id, want := range map[string]string{"444444444444": org.OwnershipStax, "333333333333": org.OwnershipCustomer} {
		a, err := v.Account(id)
		if err != nil {
			t.Fatal(err)
		}
		if a.RecordedOwnership != want || owners.recs[id].Ownership != want || owners.recs[id].Email != a.EmailAddress() {
			t.Errorf("%s: account %+v, record %+v, want %s", id, a, owners.recs[id], want)
		}
	}
	puts := owners.puts
	if _, err := v.Account("444444444444"); err != nil || owners.puts != puts {
		t.Errorf("a second read wrote again (%d puts, %v)", owners.puts-puts, err)
	}

	// The root email of the Stax-owned sandbox moves to another domain: AWS answers the new email,
	// the record stays Stax-owned and notes the change.
	e.facts.Invalidate(record(t, emailEvent(t, "AcceptPrimaryEmailUpdate", "444444444444", "x@evil.example", "ev-accept")))
	setEmail(t, e, "444444444444", "x@evil.example")
	a, err := e.view(t).Account("444444444444")
	if err != nil {
		t.Fatal(err)
	}
	if a.EmailAddress() != "x@evil.example" || a.RecordedOwnership != org.OwnershipStax || a.RootEmailChangedAt != "2026-11-26T12:30:00Z" {
		t.Errorf("after the change: %+v", a)
	}
	if r := owners.recs["444444444444"]; r.Ownership != org.OwnershipStax || r.EventID != "ev-accept" || r.RootEmailChangedAt != "2026-11-26T12:30:00Z" {
		t.Errorf("record after the change: %+v", r)
	}

	// A fresh process (another function) reads the same from the state table.
	other := setup(t, ownerDoc(), Config{Owners: owners, Ownership: classify})
	setEmail(t, other, "444444444444", "x@evil.example")
	if a, _ := other.view(t).Account("444444444444"); a.RecordedOwnership != org.OwnershipStax || a.RootEmailChangedAt == "" {
		t.Errorf("another process: %+v", a)
	}

	// An accepted change on an account never recorded: the email read is already the new one, so
	// nothing is recorded (the audit records it later as it then is).
	e.facts.Invalidate(record(t, emailEvent(t, "AcceptPrimaryEmailUpdate", "555555555555", "y@evil.example", "ev-accept-2")))
	setEmail(t, e, "555555555555", "y@evil.example")
	if a, _ := e.view(t).Account("555555555555"); a.RecordedOwnership != "" {
		t.Errorf("unrecorded account after an accepted change: %+v", a)
	}
	if _, ok := owners.recs["555555555555"]; ok {
		t.Errorf("recorded %+v", owners.recs["555555555555"])
	}
	// A request is seen before the change is accepted: the ownership before it is recorded.
	e.facts.Invalidate(record(t, emailEvent(t, "StartPrimaryEmailUpdate", "111111111111", "z@evil.example", "ev-start")))
	if a, _ := e.view(t).Account("111111111111"); a.RecordedOwnership != org.OwnershipStax {
		t.Errorf("request: %+v", a)
	}

	// A state table that cannot be read leaves the account as AWS describes it, without error.
	broken := setup(t, ownerDoc(), Config{Owners: &memOwners{fail: errors.New("throttled")}, Ownership: classify})
	if a, err := broken.view(t).Account("333333333333"); err != nil || a.RecordedOwnership != "" || a.EmailAddress() != "web@acme.example" {
		t.Errorf("unreadable table: %+v, %v", a, err)
	}
	// Without an OwnerStore nothing changes.
	plain := setup(t, ownerDoc(), Config{})
	if a, _ := plain.view(t).Account("444444444444"); a.RecordedOwnership != "" {
		t.Errorf("no store: %+v", a)
	}
}
