package rule

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rootguard/rootguard/internal/cloudtrail"
	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/org"
)

func mustEngine(t *testing.T) *Engine {
	t.Helper()
	eng, err := NewEngine(Config{StaxDomains: []string{"stax.example"}})
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

func rootLogin(account, mfa string) *cloudtrail.Event {
	return &cloudtrail.Event{Record: cloudtrail.Record{
		EventSource: cloudtrail.SourceSignIn, EventName: "ConsoleLogin", EventID: "login-" + account,
		EventTime: "2026-11-20T10:00:00Z", RecipientAccountID: account, SourceIPAddress: "192.0.2.1",
		UserIdentity:        &cloudtrail.UserIdentity{Type: "Root", ARN: "arn:aws:iam::" + account + ":root", AccountID: account},
		ResponseElements:    map[string]json.RawMessage{"ConsoleLogin": json.RawMessage(`"Success"`)},
		AdditionalEventData: map[string]json.RawMessage{"MFAUsed": json.RawMessage(`"` + mfa + `"`)},
	}}
}

// brokenFacts fails every read that is not about the organization: the facts "could not be read".
type brokenFacts struct{ org.Facts }

var errBroken = errors.New("throttled")

func (brokenFacts) Account(string) (org.Account, error)                  { return org.Account{}, errBroken }
func (brokenFacts) Parents(string) ([]string, error)                     { return nil, errBroken }
func (brokenFacts) PoliciesFor(string) ([]string, error)                 { return nil, errBroken }
func (brokenFacts) Policy(string) (org.Policy, error)                    { return org.Policy{}, errBroken }
func (brokenFacts) RootCredentials(string) (*org.RootCredentials, error) { return nil, errBroken }

func TestFailClosed(t *testing.T) {
	eng := mustEngine(t)
	base := effectOrg(t, ptr(true), "r-1")
	for _, tc := range []struct {
		name  string
		facts org.Facts
	}{
		{"no facts at all", org.Empty{}},
		{"facts unreadable", brokenFacts{base}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := eng.Evaluate(rootLogin("100000000000", "Yes"), tc.facts)
			if len(fs) != 1 || fs[0].Rule != "ROOT-SIGNIN-STAX-MEMBER" || fs[0].Severity != finding.Critical || fs[0].Ownership != finding.Unknown {
				t.Fatalf("got %+v", fs)
			}
			if !strings.Contains(fs[0].Description, "ownership unknown") {
				t.Errorf("description does not say ownership is unknown: %s", fs[0].Description)
			}
		})
	}
	// A detach of a policy the facts cannot read is treated as a protection SCP.
	ev := &cloudtrail.Event{Record: cloudtrail.Record{EventSource: cloudtrail.SourceOrganizations, EventName: "DetachPolicy", EventID: "d-1",
		RequestParameters: map[string]json.RawMessage{"policyId": json.RawMessage(`"p-x"`), "targetId": json.RawMessage(`"r-1"`)}}}
	fs := eng.Evaluate(ev, brokenFacts{base})
	if len(fs) != 1 || fs[0].Rule != "SCP-DETACHED" || fs[0].Severity != finding.Critical {
		t.Errorf("unreadable policy: %+v", fs)
	}
	// A detach of a policy the facts know nothing of is not.
	if fs := eng.Evaluate(ev, base); len(fs) != 0 {
		t.Errorf("unknown policy: %+v", fs)
	}
}

func TestSignInSeverities(t *testing.T) {
	eng := mustEngine(t)
	facts := effectOrg(t, ptr(true), "r-1")
	customer, _ := org.NewSnapshot(org.SnapshotDoc{
		Organization: org.Organization{ID: "o-1", ManagementAccountID: "100000000000", RootID: "r-1", SCPEnabled: ptr(true)},
		Accounts: []org.Account{{ID: "100000000000", Name: "cust-mgmt", Email: ptr("root@customer.example"), ParentID: "r-1"},
			{ID: "200000000000", Name: "cust", Email: ptr("root@customer.example"), ParentID: "r-1"}},
	})
	for _, tc := range []struct {
		facts         org.Facts
		account, mfa  string
		rule          string
		sev           finding.Severity
		role, ownship string
	}{
		{facts, "100000000000", "No", "ROOT-SIGNIN-NO-MFA", finding.Critical, finding.Management, finding.StaxOwned},
		{facts, "100000000000", "Yes", "ROOT-SIGNIN", finding.Medium, finding.Management, finding.StaxOwned},
		{facts, "300000000000", "Yes", "ROOT-SIGNIN-STAX-MEMBER", finding.Critical, finding.Member, finding.StaxOwned},
		{customer, "200000000000", "No", "ROOT-SIGNIN-NO-MFA", finding.High, finding.Member, finding.CustomerOwned},
		{customer, "100000000000", "No", "ROOT-SIGNIN-NO-MFA", finding.High, finding.Management, finding.CustomerOwned},
		{customer, "200000000000", "Yes", "ROOT-SIGNIN", finding.Medium, finding.Member, finding.CustomerOwned},
	} {
		fs := eng.Evaluate(rootLogin(tc.account, tc.mfa), tc.facts)
		if len(fs) != 1 || fs[0].Rule != tc.rule || fs[0].Severity != tc.sev || fs[0].AccountRole != tc.role || fs[0].Ownership != tc.ownship {
			t.Errorf("%s MFA=%s: got %+v, want %s %s", tc.account, tc.mfa, fs, tc.rule, tc.sev)
		}
	}
}

func TestPostureManagementWithoutMFA(t *testing.T) {
	eng := mustEngine(t)
	doc := org.SnapshotDoc{
		Organization: org.Organization{ID: "o-1", ManagementAccountID: "100000000000", RootID: "r-1", SCPEnabled: ptr(true)},
		Accounts: []org.Account{
			{ID: "100000000000", Name: "mgmt", Email: ptr("m@stax.example"), ParentID: "r-1",
				Root: &org.RootCredentials{MFAEnabled: ptr(false), PasswordPresent: ptr(true), AccessKeysPresent: ptr(false), SigningCertificatesPresent: ptr(false)}},
			{ID: "200000000000", Name: "no-creds-mgmt-like", Email: ptr("n@stax.example"), ParentID: "r-1",
				Root: &org.RootCredentials{MFAEnabled: ptr(false), PasswordPresent: ptr(false), AccessKeysPresent: ptr(false), SigningCertificatesPresent: nil}},
		},
		Policies: []org.Policy{{ID: "p-prot", Name: "Stax-Protection", Type: org.PolicyTypeSCP, Targets: []string{"r-1"}}},
	}
	facts, err := org.NewSnapshot(doc)
	if err != nil {
		t.Fatal(err)
	}
	fs, err := eng.Audit(facts, time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]finding.Severity{}
	for _, f := range fs {
		got[f.Rule+"/"+f.AccountID] = f.Severity
	}
	if got["POSTURE-ROOT-MFA/100000000000"] != finding.Critical {
		t.Errorf("Stax management without MFA: %v", got)
	}
	if got["POSTURE-UNVERIFIED/200000000000"] != finding.Low {
		t.Errorf("an explicit null field must be unverified: %v", got)
	}
	if _, ok := got["POSTURE-ROOT-CREDENTIALS/200000000000"]; ok {
		t.Errorf("a check needing a null field was made: %v", got)
	}
	again, _ := eng.Audit(facts, time.Date(2026, 11, 20, 23, 0, 0, 0, time.UTC))
	next, _ := eng.Audit(facts, time.Date(2026, 11, 21, 1, 0, 0, 0, time.UTC))
	if again[0].ID != fs[0].ID || next[0].ID == fs[0].ID {
		t.Errorf("posture finding ids must repeat within a day and change the next: %s %s %s", fs[0].ID, again[0].ID, next[0].ID)
	}
}

func TestModifiedWithUnknownPreviousContent(t *testing.T) {
	eng := mustEngine(t)
	doc := effectOrg(t, ptr(true), "r-1").Doc()
	doc.Policies[1].Content = nil // p-prot's content is unknown in this organization
	facts, err := org.NewSnapshot(doc)
	if err != nil {
		t.Fatal(err)
	}
	update := func(content string) finding.Finding {
		ev := &cloudtrail.Event{Record: cloudtrail.Record{EventSource: cloudtrail.SourceOrganizations, EventName: "UpdatePolicy", EventID: "u-" + content[:10],
			RequestParameters: map[string]json.RawMessage{"policyId": json.RawMessage(`"p-prot"`), "content": mustJSON(content)}}}
		fs := eng.Evaluate(ev, facts)
		if len(fs) != 1 {
			t.Fatalf("findings: %+v", fs)
		}
		return fs[0]
	}
	still := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}}]}`
	gone := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}`
	if f := update(still); f.Severity != finding.High {
		t.Errorf("unknown previous, still denies root: %s", f.Severity)
	}
	if f := update(gone); f.Severity != finding.Critical {
		t.Errorf("unknown previous, no root Deny: %s", f.Severity)
	}
}

func mustJSON(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}

func TestMergeSession(t *testing.T) {
	a := finding.Finding{ID: "x", Severity: finding.Low, Title: "read", Description: "base A", Calls: []string{"iam:ListUsers (read-only)"}}
	a.Description = withCalls(a.Description, a.Calls)
	b := finding.Finding{ID: "x", Severity: finding.High, Title: "write", Description: "base B", Calls: []string{"iam:CreateUser"}}
	Merge(&a, b)
	if a.Severity != finding.High || a.Title != "write" {
		t.Errorf("the merged finding must take the most severe call: %+v", a)
	}
	if !strings.HasSuffix(a.Description, "Calls seen in this session: iam:ListUsers (read-only), iam:CreateUser.") {
		t.Errorf("description: %s", a.Description)
	}
	for i := 0; i < 100; i++ {
		Merge(&a, finding.Finding{Severity: finding.Low, Calls: []string{"svc:Call" + string(rune('A'+i%26)) + string(rune('a'+i/26))}})
	}
	if len(a.Calls) > maxCalls+1 || a.Calls[len(a.Calls)-1] != "..." {
		t.Errorf("calls are not bounded: %d", len(a.Calls))
	}
}
