package rule

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/rootguard/rootguard/shared/cloudtrail"
	"github.com/rootguard/rootguard/shared/finding"
	"github.com/rootguard/rootguard/shared/org"
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

func TestExceptionsAndTrustedPrincipals(t *testing.T) {
	const automation = "arn:aws:iam::100000000000:role/stax-guardrail-automation"
	valid := "CHG-7;expires=2026-11-20T18:00:00Z"
	for _, tc := range []struct {
		name    string
		tags    map[string]map[string]string
		trusted []string
		actor   string
		issuer  string
		wantSev finding.Severity
		wantRef string
		note    string
	}{
		{name: "no exception", wantSev: finding.Critical},
		{name: "valid tag on the policy", tags: map[string]map[string]string{"p-prot": {ExceptionTag: valid}}, wantSev: finding.Informational, wantRef: "CHG-7"},
		{name: "valid tag on the root", tags: map[string]map[string]string{"r-1": {ExceptionTag: valid}}, wantSev: finding.Informational, wantRef: "CHG-7"},
		{name: "expired tag", tags: map[string]map[string]string{"p-prot": {ExceptionTag: "CHG-7;expires=2026-11-20T09:00:00Z"}}, wantSev: finding.Critical, note: "expired"},
		{name: "over-long tag", tags: map[string]map[string]string{"p-prot": {ExceptionTag: "CHG-7;expires=2026-11-23T09:00:00Z"}}, wantSev: finding.Critical, note: "more than 24h0m0s"},
		{name: "malformed tag", tags: map[string]map[string]string{"p-prot": {ExceptionTag: "CHG-7"}}, wantSev: finding.Critical, note: "was ignored"},
		{name: "trusted role by session issuer", trusted: []string{automation}, actor: "arn:aws:sts::100000000000:assumed-role/stax-guardrail-automation/run-1", issuer: automation, wantSev: finding.Informational, wantRef: "trusted principal " + automation},
		{name: "untrusted lookalike role", trusted: []string{automation}, actor: "arn:aws:sts::100000000000:assumed-role/stax-guardrail-automation-2/x", issuer: automation + "-2", wantSev: finding.Critical},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eng, err := NewEngine(Config{StaxDomains: []string{"stax.example"}, TrustedPrincipals: tc.trusted})
			if err != nil {
				t.Fatal(err)
			}
			facts := exceptionOrg(t, tc.tags, "r-1")
			actor := tc.actor
			if actor == "" {
				actor = "arn:aws:sts::100000000000:assumed-role/admin/alice"
			}
			ev := detachEvent(actor, tc.issuer)
			ev.RequestParameters = map[string]json.RawMessage{"policyId": json.RawMessage(`"p-prot"`), "targetId": json.RawMessage(`"r-1"`)}
			fs := eng.Evaluate(ev, facts)
			if len(fs) != 1 || fs[0].Rule != "SCP-DETACHED" {
				t.Fatalf("findings: %+v", fs)
			}
			f := fs[0]
			if f.Severity != tc.wantSev || f.Exception != tc.wantRef {
				t.Errorf("severity %s exception %q, want %s %q (%s)", f.Severity, f.Exception, tc.wantSev, tc.wantRef, f.Description)
			}
			if tc.note != "" && !strings.Contains(f.Description, tc.note) {
				t.Errorf("description does not report the ignored exception (%q): %s", tc.note, f.Description)
			}
		})
	}
}

// TestAuditAfterExpiry: while an exception on an account is valid the audit's SCP-NOT-EFFECTIVE is
// informational; once it expires and the protection is still missing, the audit raises it at HIGH.
func TestAuditAfterExpiry(t *testing.T) {
	eng, _ := NewEngine(Config{StaxDomains: []string{"stax.example"}})
	facts := exceptionOrg(t, map[string]map[string]string{"300000000000": {ExceptionTag: "CHG-9;expires=2026-11-20T18:00:00Z"}}) // protection attached nowhere
	sev := func(at time.Time) finding.Severity {
		fs, err := eng.Audit(facts, at)
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
	if got := sev(time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)); got != finding.Informational {
		t.Errorf("during the exception: %s, want INFORMATIONAL", got)
	}
	if got := sev(time.Date(2026, 11, 20, 19, 0, 0, 0, time.UTC)); got != finding.High {
		t.Errorf("after expiry: %s, want HIGH", got)
	}
}
