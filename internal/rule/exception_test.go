package rule

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/rootguard/rootguard/internal/cloudtrail"
	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/org"
)

func TestParseException(t *testing.T) {
	for _, tc := range []struct {
		in      string
		ok      bool
		ref     string
		expires string
	}{
		{"CHG-1234;expires=2026-11-20T12:00:00Z", true, "CHG-1234", "2026-11-20T12:00:00Z"},
		{" CHG-1234 ; expires=2026-11-20T12:00:00+01:00", true, "CHG-1234", "2026-11-20T11:00:00Z"},
		{"CHG-1234", false, "", ""},
		{"CHG-1234;until=2026-11-20T12:00:00Z", false, "", ""},
		{";expires=2026-11-20T12:00:00Z", false, "", ""},
		{"CHG-1234;expires=tomorrow", false, "", ""},
		{strings.Repeat("x", 200) + ";expires=2026-11-20T12:00:00Z", false, "", ""},
		{"CHG\n1;expires=2026-11-20T12:00:00Z", false, "", ""},
	} {
		t.Run(tc.in, func(t *testing.T) {
			ex, err := ParseException(tc.in)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			if !tc.ok {
				return
			}
			want, _ := time.Parse(time.RFC3339, tc.expires)
			if ex.Reference != tc.ref || !ex.Expires.Equal(want) {
				t.Errorf("got %+v", ex)
			}
		})
	}
}

// exceptionOrg: the protection SCP at the root; tags set per test.
func exceptionOrg(t *testing.T, tags map[string]map[string]string, protectionTargets ...string) org.Facts {
	t.Helper()
	doc := org.SnapshotDoc{
		Organization:        org.Organization{ID: "o-1", ManagementAccountID: "100000000000", RootID: "r-1", SCPEnabled: ptr(true), Tags: tags["r-1"]},
		OrganizationalUnits: []org.OU{{ID: "ou-1-a", Name: "A", ParentID: "r-1", Tags: tags["ou-1-a"]}},
		Accounts: []org.Account{
			{ID: "100000000000", Name: "mgmt", Email: ptr("m@stax.example"), ParentID: "r-1", Tags: tags["100000000000"]},
			{ID: "300000000000", Name: "in-a", Email: ptr("a@stax.example"), ParentID: "ou-1-a", Tags: tags["300000000000"],
				Root: &org.RootCredentials{MFAEnabled: ptr(false), PasswordPresent: ptr(false), AccessKeysPresent: ptr(false), SigningCertificatesPresent: ptr(false)}},
		},
		Policies: []org.Policy{{ID: "p-prot", Name: "Stax-Protection", Type: org.PolicyTypeSCP, Targets: protectionTargets, Tags: tags["p-prot"]}},
	}
	s, err := org.NewSnapshot(doc)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func detachEvent(actorARN, issuer string) *cloudtrail.Event {
	ev := &cloudtrail.Event{Record: cloudtrail.Record{
		EventSource: cloudtrail.SourceOrganizations, EventName: "DetachPolicy", EventID: "e-1",
		EventTime: "2026-11-20T10:00:00Z", RecipientAccountID: "100000000000",
		UserIdentity: &cloudtrail.UserIdentity{Type: "AssumedRole", ARN: actorARN},
	}}
	if issuer != "" {
		ev.UserIdentity.SessionContext = &cloudtrail.SessionContext{}
		ev.UserIdentity.SessionContext.SessionIssuer = &struct {
			Type string `json:"type"`
			ARN  string `json:"arn"`
		}{Type: "Role", ARN: issuer}
	}
	ev.RequestParameters = map[string]json.RawMessage{}
	return ev
}

// TestAuditAfterExpiry: while an exception granted on an account is valid the audit's
// SCP-NOT-EFFECTIVE is informational; once it expires and the protection is still missing, the
// audit raises it at HIGH. The same tag without a witnessed grant counts for nothing.
func TestAuditAfterExpiry(t *testing.T) {
	const approver = "arn:aws:iam::100000000000:role/approver"
	eng, _ := NewEngine(Config{StaxDomains: []string{"stax.example"}, ExceptionApprovers: []string{approver}})
	value := "CHG-9;expires=2026-11-20T18:00:00Z"
	facts := exceptionOrg(t, map[string]map[string]string{"300000000000": {ExceptionTag: value}}) // protection attached nowhere
	granted := NewMemCustody()
	granted.Apply(CustodyChanges{Grants: []Grant{{Resource: "300000000000", Value: value, Approver: approver, Actor: approver, At: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)}}})
	sev := func(cu Custody, at time.Time) finding.Severity {
		fs, err := eng.AuditWith(facts, cu, at)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fs {
			if f.Rule == "SCP-NOT-EFFECTIVE" && f.AccountID == "300000000000" {
				return f.Severity
			}
		}
		t.Fatal("no SCP-NOT-EFFECTIVE for 300000000000")
		return 0
	}
	if got := sev(granted, time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)); got != finding.Informational {
		t.Errorf("during the exception: %s, want INFORMATIONAL", got)
	}
	if got := sev(granted, time.Date(2026, 11, 20, 19, 0, 0, 0, time.UTC)); got != finding.High {
		t.Errorf("after expiry: %s, want HIGH", got)
	}
	if got := sev(nil, time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)); got != finding.High {
		t.Errorf("tag without a witnessed grant: %s, want HIGH", got)
	}
}
