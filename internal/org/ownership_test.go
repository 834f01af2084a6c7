package org

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/rootguard/rootguard/internal/cloudtrail"
)

func accountEvent(name, recipient string, params map[string]string) *cloudtrail.Event {
	p := map[string]json.RawMessage{}
	for k, v := range params {
		b, _ := json.Marshal(v)
		p[k] = b
	}
	return &cloudtrail.Event{Record: cloudtrail.Record{EventSource: cloudtrail.SourceAccount, EventName: name, RecipientAccountID: recipient, RequestParameters: p}}
}

func TestEmailChangeOf(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ev     *cloudtrail.Event
		want   EmailChange
		wantOK bool
	}{
		{"camelCase request", accountEvent("StartPrimaryEmailUpdate", "100000000000", map[string]string{"accountId": "200000000000", "primaryEmail": "a@x.example"}),
			EmailChange{AccountID: "200000000000", NewEmail: "a@x.example"}, true},
		{"PascalCase accept", accountEvent("AcceptPrimaryEmailUpdate", "100000000000", map[string]string{"AccountId": "200000000000", "PrimaryEmail": "a@x.example", "Otp": "HIDDEN"}),
			EmailChange{AccountID: "200000000000", NewEmail: "a@x.example", Done: true}, true},
		{"own account", accountEvent("AcceptPrimaryEmailUpdate", "300000000000", map[string]string{"primaryEmail": "b@x.example"}),
			EmailChange{AccountID: "300000000000", NewEmail: "b@x.example", Done: true}, true},
		{"other Account call", accountEvent("PutAlternateContact", "300000000000", nil), EmailChange{}, false},
		{"other source", orgEvent("AcceptPrimaryEmailUpdate", nil), EmailChange{}, false},
	} {
		got, ok := EmailChangeOf(tc.ev)
		if ok != tc.wantOK || got != tc.want {
			t.Errorf("%s: got %+v %v, want %+v %v", tc.name, got, ok, tc.want, tc.wantOK)
		}
	}
}

func TestSnapshotRecordedOwnership(t *testing.T) {
	doc := func(recorded, changed string) string {
		return `{"organization":{"id":"o-1","managementAccountId":"100000000000","rootId":"r-1","scpEnabled":true},
			"accounts":[{"id":"100000000000","name":"m","email":"m@stax.example","parentId":"r-1"},
			{"id":"200000000000","name":"w","email":"w@acme.example","parentId":"r-1","recordedOwnership":` + recorded + `,"rootEmailChangedAt":` + changed + `}]}`
	}
	s, err := LoadSnapshot(strings.NewReader(doc(`"stax-owned"`, `"2026-11-02T09:00:00Z"`)))
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := s.Account("200000000000"); a.RecordedOwnership != OwnershipStax || a.RootEmailChangedAt != "2026-11-02T09:00:00Z" {
		t.Errorf("read %+v", a)
	}
	if s, err := LoadSnapshot(strings.NewReader(doc(`null`, `null`))); err != nil {
		t.Errorf("null is unknown, not an error: %v", err)
	} else if a, _ := s.Account("200000000000"); a.RecordedOwnership != "" {
		t.Errorf("null read as %q", a.RecordedOwnership)
	}
	for _, tc := range []struct{ recorded, changed, want string }{
		{`"stax"`, `null`, `accounts[1] (200000000000): recordedOwnership "stax"`},
		{`"customer-owned"`, `"yesterday"`, `accounts[1] (200000000000): rootEmailChangedAt "yesterday" is not an RFC 3339 time`},
		{`1`, `null`, `accounts.recordedOwnership is a JSON number where string belongs`},
	} {
		_, err := LoadSnapshot(strings.NewReader(doc(tc.recorded, tc.changed)))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("recordedOwnership %s, rootEmailChangedAt %s: error %v, want %q", tc.recorded, tc.changed, err, tc.want)
		}
	}
}

func TestOverlayEmailChange(t *testing.T) {
	email := "w@stax.example"
	base, err := NewSnapshot(SnapshotDoc{
		Organization: Organization{ID: "o-1", ManagementAccountID: "100000000000", RootID: "r-1"},
		Accounts: []Account{
			{ID: "100000000000", Name: "m", ParentID: "r-1"},
			{ID: "200000000000", Name: "w", Email: &email, ParentID: "r-1"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	o := NewOverlay(base)
	req := accountEvent("StartPrimaryEmailUpdate", "100000000000", map[string]string{"accountId": "200000000000", "primaryEmail": "x@evil.example"})
	o.Apply(req)
	if a, _ := o.Account("200000000000"); a.EmailAddress() != email {
		t.Errorf("a request changed the email: %q", a.EmailAddress())
	}
	failed := accountEvent("AcceptPrimaryEmailUpdate", "100000000000", map[string]string{"accountId": "200000000000", "primaryEmail": "x@evil.example"})
	failed.ErrorCode = "InvalidOtp"
	o.Apply(failed)
	if a, _ := o.Account("200000000000"); a.EmailAddress() != email {
		t.Errorf("a failed accept changed the email: %q", a.EmailAddress())
	}
	o.RecordOwnership("200000000000", OwnershipStax, "2026-11-20T08:05:00Z")
	o.Apply(accountEvent("AcceptPrimaryEmailUpdate", "100000000000", map[string]string{"AccountId": "200000000000", "PrimaryEmail": "x@evil.example"}))
	a, _ := o.Account("200000000000")
	if a.EmailAddress() != "x@evil.example" || a.RecordedOwnership != OwnershipStax || a.RootEmailChangedAt != "2026-11-20T08:05:00Z" {
		t.Errorf("after the accept: %+v", a)
	}
	if b, _ := base.Account("200000000000"); b.EmailAddress() != email || b.RecordedOwnership != "" {
		t.Errorf("the base changed: %+v", b)
	}
	all, _ := o.Accounts()
	if len(all) != 2 || all[1].EmailAddress() != "x@evil.example" || all[1].RecordedOwnership != OwnershipStax {
		t.Errorf("Accounts: %+v", all)
	}
}
