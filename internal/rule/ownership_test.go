package rule

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/rootguard/rootguard/internal/cloudtrail"
	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/org"
)

// rootGuardingContent is a protection SCP whose Deny is aimed at root.
const rootGuardingContent = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}}]}`

// ownershipOrg: the protection SCP is attached at the root, so member root calls are ROOT-ACTIVITY.
//
//	100000000000 management, Stax-owned
//	200000000000 Stax-owned member
//	300000000000 customer-owned member
//	400000000000 customer email, but recorded Stax-owned (its email moved off on 2026-11-02)
//	500000000000 Stax email, recorded customer-owned (the current email wins: stricter)
//	600000000000 email unknown, recorded Stax-owned (stays unknown: already the strictest)
func ownershipOrg(t *testing.T) *org.Snapshot {
	t.Helper()
	on := true
	content := rootGuardingContent
	s, err := org.NewSnapshot(org.SnapshotDoc{
		Organization: org.Organization{ID: "o-1", ManagementAccountID: "100000000000", RootID: "r-1", SCPEnabled: &on},
		Accounts: []org.Account{
			{ID: "100000000000", Name: "mgmt", Email: ptr("m@stax.example"), ParentID: "r-1"},
			{ID: "200000000000", Name: "stax", Email: ptr("s@stax.example"), ParentID: "r-1"},
			{ID: "300000000000", Name: "cust", Email: ptr("c@acme.example"), ParentID: "r-1"},
			{ID: "400000000000", Name: "moved", Email: ptr("x@evil.example"), ParentID: "r-1", RecordedOwnership: "stax-owned", RootEmailChangedAt: "2026-11-02T09:00:00Z"},
			{ID: "500000000000", Name: "adopted", Email: ptr("a@stax.example"), ParentID: "r-1", RecordedOwnership: "customer-owned"},
			{ID: "600000000000", Name: "blind", ParentID: "r-1", RecordedOwnership: "stax-owned"},
		},
		Policies: []org.Policy{{ID: "p-prot", Name: "Stax-Protection", Type: org.PolicyTypeSCP, Content: &content, Targets: []string{"r-1"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type call struct {
	account, source, name string
	identity              string // "root" (default), "role", "assumed-root", "service"
	params                map[string]string
	readOnly              bool
	errorCode             string
	recipient             string
	time                  string
}

func (c call) event() *cloudtrail.Event {
	recipient := c.recipient
	if recipient == "" {
		recipient = c.account
	}
	u := &cloudtrail.UserIdentity{Type: "Root", ARN: "arn:aws:iam::" + recipient + ":root", AccountID: recipient, AccessKeyID: "ASIAEXAMPLE"}
	switch c.identity {
	case "role":
		u = &cloudtrail.UserIdentity{Type: "AssumedRole", ARN: "arn:aws:sts::" + recipient + ":assumed-role/admin/jane", AccountID: recipient}
	case "assumed-root":
		u.SessionContext = &cloudtrail.SessionContext{AssumedRoot: "true"}
	case "service":
		u.InvokedBy = "support.amazonaws.com"
	}
	p := map[string]json.RawMessage{}
	for k, v := range c.params {
		b, _ := json.Marshal(v)
		p[k] = b
	}
	tm := c.time
	if tm == "" {
		tm = "2026-11-20T10:00:00Z"
	}
	ev := &cloudtrail.Event{Record: cloudtrail.Record{
		EventSource: c.source, EventName: c.name, EventID: "ev-" + c.name + "-" + c.account + "-" + tm, EventTime: tm,
		RecipientAccountID: recipient, SourceIPAddress: "192.0.2.9", UserIdentity: u, RequestParameters: p,
		ErrorCode: c.errorCode,
	}}
	if c.readOnly {
		_ = json.Unmarshal([]byte("true"), &ev.ReadOnly)
	}
	return ev
}

// only returns the findings of one rule.
func only(fs []finding.Finding, id string) []finding.Finding {
	var out []finding.Finding
	for _, f := range fs {
		if f.Rule == id {
			out = append(out, f)
		}
	}
	return out
}

func rootOf(fs []finding.Finding) string {
	for _, f := range fs {
		if r, ok := ByID(f.Rule); ok && r.Group == GroupRoot {
			return f.Rule + " " + f.Severity.String()
		}
	}
	return "none"
}

func TestBeyondSCP(t *testing.T) {
	eng := mustEngine(t)
	facts := ownershipOrg(t)
	const billing, account, orgs = "billingconsole.amazonaws.com", "account.amazonaws.com", cloudtrail.SourceOrganizations
	for _, tc := range []struct {
		name string
		c    call
		want string // the root rule raised and its severity
	}{
		{"close account, customer member: CRITICAL, not ROOT-ACTIVITY", call{account: "300000000000", source: billing, name: "CloseAccount"}, "ROOT-BEYOND-SCP CRITICAL"},
		{"close account through Organizations, management", call{account: "100000000000", source: orgs, name: "CloseAccount"}, "ROOT-BEYOND-SCP CRITICAL"},
		{"close account failed", call{account: "200000000000", source: account, name: "CloseAccount", errorCode: "AccessDeniedException"}, "ROOT-BEYOND-SCP LOW"},
		{"account name, Stax-owned member", call{account: "200000000000", source: account, name: "PutAccountName"}, "ROOT-BEYOND-SCP CRITICAL"},
		{"account name, customer member", call{account: "300000000000", source: account, name: "PutAccountName"}, "ROOT-BEYOND-SCP HIGH"},
		{"account name, unknown account", call{account: "999999999999", source: account, name: "PutAccountName"}, "ROOT-BEYOND-SCP CRITICAL"},
		{"contacts, email moved off Stax (sticky)", call{account: "400000000000", source: account, name: "PutAlternateContact"}, "ROOT-BEYOND-SCP CRITICAL"},
		{"contacts, Stax email recorded customer-owned: the current email wins", call{account: "500000000000", source: billing, name: "SetAdditionalContacts"}, "ROOT-BEYOND-SCP CRITICAL"},
		{"billing access, customer", call{account: "300000000000", source: billing, name: "SetIAMAccessPreference"}, "ROOT-BEYOND-SCP HIGH"},
		{"listed call marked read-only", call{account: "200000000000", source: billing, name: "SetAccountPreferences", readOnly: true}, "ROOT-BEYOND-SCP LOW"},
		{"root password changed", call{account: "200000000000", source: cloudtrail.SourceSignIn, name: "PasswordUpdated"}, "ROOT-BEYOND-SCP CRITICAL"},
		{"support plan change", call{account: "300000000000", source: "supportplans.amazonaws.com", name: "StartSupportPlanUpdate"}, "ROOT-BEYOND-SCP HIGH"},
		{"support plan read: not beyond SCP", call{account: "300000000000", source: "supportplans.amazonaws.com", name: "GetSupportPlan", readOnly: true}, "ROOT-ACTIVITY LOW"},
		{"tax settings, old source spelling", call{account: "300000000000", source: "taxconsole.amazon.com", name: "PutTaxRegistration"}, "ROOT-BEYOND-SCP HIGH"},
		{"tax settings", call{account: "200000000000", source: "taxconsole.amazonaws.com", name: "BatchPutTaxRegistration"}, "ROOT-BEYOND-SCP CRITICAL"},
		{"tax registrations read (by name; readOnly absent)", call{account: "300000000000", source: "taxconsole.amazonaws.com", name: "ListTaxRegistrations"}, "ROOT-ACTIVITY MEDIUM"},
		{"CloudFront key pair", call{account: "100000000000", source: "iam.amazonaws.com", name: "CreateCloudFrontKeyPair"}, "ROOT-BEYOND-SCP CRITICAL"},
		{"ordinary root call stays ROOT-ACTIVITY", call{account: "300000000000", source: "ec2.amazonaws.com", name: "RunInstances"}, "ROOT-ACTIVITY MEDIUM"},
		{"ordinary root call in the management account", call{account: "100000000000", source: "ec2.amazonaws.com", name: "RunInstances"}, "ROOT-UNRESTRICTED-ACTION HIGH"},
		{"inside a centralised root session: ROOT-SESSION", call{account: "200000000000", source: account, name: "CloseAccount", identity: "assumed-root"}, "ROOT-SESSION INFORMATIONAL"},
		{"an AWS service acting as root", call{account: "200000000000", source: account, name: "PutAccountName", identity: "service"}, "none"},
		{"not root", call{account: "100000000000", source: account, name: "PutAccountName", identity: "role", params: map[string]string{"accountId": "300000000000"}}, "none"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := eng.Evaluate(tc.c.event(), facts)
			if got := rootOf(fs); got != tc.want {
				t.Fatalf("got %s, want %s (%+v)", got, tc.want, fs)
			}
			for _, f := range only(fs, "ROOT-BEYOND-SCP") {
				if !strings.Contains(f.Description, "The protection SCP could not have stopped it") {
					t.Errorf("description does not say the SCP could not stop it: %s", f.Description)
				}
				if f.AccountID != tc.c.account {
					t.Errorf("finding's account %s, want %s", f.AccountID, tc.c.account)
				}
				if BeyondSCPNeverLowered(f) != (tc.c.name == "CloseAccount") {
					t.Errorf("never-lowered flag %v for %s", BeyondSCPNeverLowered(f), tc.c.name)
				}
			}
		})
	}
	// The sticky account's findings say why it is still Stax-owned.
	fs := eng.Evaluate(call{account: "400000000000", source: account, name: "PutAlternateContact"}.event(), facts)
	if len(fs) != 1 || fs[0].Ownership != finding.StaxOwned || !strings.Contains(fs[0].Description, "root email changed from a Stax-managed domain on 2026-11-02") {
		t.Errorf("sticky ownership not said: %+v", fs)
	}
}

func TestBeyondSCPTaskList(t *testing.T) {
	seen := map[string]bool{}
	for _, task := range BeyondSCPTasks() {
		key := task.EventSource + " " + task.EventName
		if seen[key] {
			t.Errorf("%s listed twice", key)
		}
		seen[key] = true
		if task.Task == "" || task.Source == "" {
			t.Errorf("%s: task or source missing", key)
		}
	}
	// The spec's list (rules.md, "Root tasks beyond any SCP").
	for _, key := range []string{
		"billingconsole.amazonaws.com CloseAccount", "billingconsole.amazonaws.com SetAccountPreferences",
		"billingconsole.amazonaws.com SetIAMAccessPreference", "billingconsole.amazonaws.com SetSecurityQuestions",
		"billingconsole.amazonaws.com SetAdditionalContacts", "billingconsole.amazonaws.com SetContactAddress",
		"account.amazonaws.com CloseAccount", "account.amazonaws.com PutAccountName", "account.amazonaws.com StartPrimaryEmailUpdate",
		"account.amazonaws.com AcceptPrimaryEmailUpdate", "account.amazonaws.com PutAlternateContact",
		"account.amazonaws.com DeleteAlternateContact", "account.amazonaws.com PutContactInformation",
		"organizations.amazonaws.com CloseAccount", "signin.amazonaws.com PasswordUpdated",
		"supportplans.amazonaws.com ", "taxconsole.amazonaws.com ", "taxconsole.amazon.com ",
	} {
		if !seen[key] {
			t.Errorf("%q missing from the list", key)
		}
	}
}

func TestEmailChanged(t *testing.T) {
	eng := mustEngine(t)
	facts := ownershipOrg(t)
	const src = cloudtrail.SourceAccount
	start := func(acct, email string) call {
		return call{account: acct, recipient: "100000000000", identity: "role", source: src, name: "StartPrimaryEmailUpdate", params: map[string]string{"accountId": acct, "primaryEmail": email}}
	}
	accept := func(acct, email string) call {
		return call{account: acct, recipient: "100000000000", identity: "role", source: src, name: "AcceptPrimaryEmailUpdate", params: map[string]string{"AccountId": acct, "PrimaryEmail": email, "Otp": "HIDDEN"}}
	}
	failed := start("200000000000", "x@evil.example")
	failed.errorCode = "AccessDeniedException"
	noParams := accept("200000000000", "")
	noParams.params = map[string]string{"Otp": "HIDDEN"}
	noParams.recipient = ""
	own := call{account: "300000000000", identity: "role", source: src, name: "AcceptPrimaryEmailUpdate", params: map[string]string{"primaryEmail": "root@acme.example"}}
	byRoot := call{account: "200000000000", source: src, name: "AcceptPrimaryEmailUpdate", params: map[string]string{"primaryEmail": "me@evil.example"}}
	for _, tc := range []struct {
		name string
		c    call
		want finding.Severity
	}{
		{"Stax-owned to another domain, requested", start("200000000000", "x@evil.example"), finding.High},
		{"Stax-owned to another domain, done (PascalCase parameters)", accept("200000000000", "x@evil.example"), finding.Critical},
		{"Stax-owned to a Stax subdomain", start("200000000000", "s@eu.stax.example"), finding.Medium},
		{"Stax-owned to a look-alike domain", accept("200000000000", "s@stax.example.evil.test"), finding.Critical},
		{"customer to customer", accept("300000000000", "d@acme.example"), finding.Medium},
		{"customer to a Stax domain", accept("300000000000", "d@stax.example"), finding.Medium},
		{"unknown account to another domain", accept("999999999999", "x@evil.example"), finding.Critical},
		{"unknown account to a Stax domain", start("999999999999", "x@stax.example"), finding.Medium},
		{"recorded Stax-owned (sticky), already moved, moved again", accept("400000000000", "y@evil.example"), finding.Critical},
		{"no new email in the event (fails closed)", noParams, finding.Critical},
		{"own account (no accountId)", own, finding.Medium},
		{"made by root", byRoot, finding.Critical},
		{"failed", failed, finding.Low},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := only(eng.Evaluate(tc.c.event(), facts), "ROOT-EMAIL-CHANGED")
			if len(fs) != 1 {
				t.Fatalf("got %d ROOT-EMAIL-CHANGED findings, want 1", len(fs))
			}
			f := fs[0]
			if f.Severity != tc.want {
				t.Errorf("severity %s, want %s: %s", f.Severity, tc.want, f.Description)
			}
			if f.AccountID != tc.c.account {
				t.Errorf("finding's account %s, want the account whose email changes, %s", f.AccountID, tc.c.account)
			}
			if wantWho := map[bool]string{true: "The customer", false: "Stax"}[f.Ownership == finding.CustomerOwned]; !strings.HasPrefix(f.Remediation, wantWho) {
				t.Errorf("%s account: remediation %q does not start with %q", f.Ownership, f.Remediation, wantWho)
			}
			if email := tc.c.params["primaryEmail"] + tc.c.params["PrimaryEmail"]; email != "" && !strings.Contains(f.Description, email) {
				t.Errorf("description does not name the new email %s: %s", email, f.Description)
			}
		})
	}
	for _, name := range []string{"GetPrimaryEmail", "PutAlternateContact"} {
		c := start("200000000000", "x@evil.example")
		c.name = name
		if fs := only(eng.Evaluate(c.event(), facts), "ROOT-EMAIL-CHANGED"); len(fs) != 0 {
			t.Errorf("%s raised %+v", name, fs)
		}
	}
}

func TestStickyOwnership(t *testing.T) {
	cfg, _ := Config{StaxDomains: []string{"stax.example"}}.normalized()
	for _, tc := range []struct {
		email, recorded, changed string
		want                     string
		note                     bool
	}{
		{"a@acme.example", "stax-owned", "2026-11-02T09:00:00Z", finding.StaxOwned, true},
		{"a@acme.example", "stax-owned", "", finding.StaxOwned, true},
		{"a@acme.example", "customer-owned", "", finding.CustomerOwned, false},
		{"a@acme.example", "", "", finding.CustomerOwned, false},
		{"a@stax.example", "customer-owned", "", finding.StaxOwned, false},
		{"", "stax-owned", "", finding.Unknown, false},
	} {
		a := org.Account{ID: "200000000000", RecordedOwnership: tc.recorded, RootEmailChangedAt: tc.changed}
		if tc.email != "" {
			a.Email = &tc.email
		}
		got, note := stickyOwnership(cfg.Ownership(a.EmailAddress()), a)
		if got != tc.want || (note != "") != tc.note {
			t.Errorf("email %q recorded %q: got %s %q, want %s (note %v)", tc.email, tc.recorded, got, note, tc.want, tc.note)
		}
		if tc.changed != "" && !strings.Contains(note, "on 2026-11-02") {
			t.Errorf("note %q does not give the date", note)
		}
	}
}

// TestReplayStickyOwnership: the attack of issue 9 through the replay state. A Stax-owned member's
// root email moves to another domain: the change is CRITICAL, and a later root sign-in there is
// still ROOT-SIGNIN-STAX-MEMBER CRITICAL, saying why.
func TestReplayStickyOwnership(t *testing.T) {
	eng := mustEngine(t)
	rep := eng.NewReplayer(ownershipOrg(t))
	const src = cloudtrail.SourceAccount
	c := call{account: "200000000000", recipient: "100000000000", identity: "role", source: src, name: "StartPrimaryEmailUpdate",
		params: map[string]string{"accountId": "200000000000", "primaryEmail": "x@evil.example"}, time: "2026-11-20T08:00:00Z"}
	if fs := only(rep.Evaluate(c.event()), "ROOT-EMAIL-CHANGED"); len(fs) != 1 || fs[0].Severity != finding.High {
		t.Fatalf("request: %+v", fs)
	}
	if a, _ := rep.State.Account("200000000000"); a.EmailAddress() != "s@stax.example" || a.RecordedOwnership != finding.StaxOwned {
		t.Errorf("after the request the email must be unchanged and the ownership recorded: %+v", a)
	}
	denied := c
	denied.name, denied.errorCode, denied.time = "AcceptPrimaryEmailUpdate", "InvalidOtp", "2026-11-20T08:02:00Z"
	rep.Evaluate(denied.event())
	if a, _ := rep.State.Account("200000000000"); a.EmailAddress() != "s@stax.example" {
		t.Errorf("a failed accept changed the email: %+v", a)
	}
	c.name, c.time = "AcceptPrimaryEmailUpdate", "2026-11-20T08:05:00Z"
	if fs := only(rep.Evaluate(c.event()), "ROOT-EMAIL-CHANGED"); len(fs) != 1 || fs[0].Severity != finding.Critical {
		t.Fatalf("accept: %+v", fs)
	}
	a, _ := rep.State.Account("200000000000")
	if a.EmailAddress() != "x@evil.example" || a.RecordedOwnership != finding.StaxOwned || a.RootEmailChangedAt != "2026-11-20T08:05:00Z" {
		t.Errorf("after the accept: %+v", a)
	}
	login := rootLogin("200000000000", "No")
	login.EventTime = "2026-11-20T09:00:00Z"
	fs := rep.Evaluate(login)
	if len(fs) != 1 || fs[0].Rule != "ROOT-SIGNIN-STAX-MEMBER" || fs[0].Severity != finding.Critical || fs[0].Ownership != finding.StaxOwned {
		t.Fatalf("sign-in after the email moved: %+v", fs)
	}
	if !strings.Contains(fs[0].Description, "root email changed from a Stax-managed domain on 2026-11-20") {
		t.Errorf("description: %s", fs[0].Description)
	}
	// Root activity there stays HIGH (Stax-owned member), not the customer's MEDIUM.
	act := call{account: "200000000000", source: "ec2.amazonaws.com", name: "RunInstances", time: "2026-11-20T09:05:00Z"}
	if got := rootOf(rep.Evaluate(act.event())); got != "ROOT-ACTIVITY HIGH" {
		t.Errorf("root activity after the email moved: %s", got)
	}
	// The audit on the final state sees the recorded ownership too.
	if s := resolveSubject(rep.State, &eng.cfg, "200000000000", rep.State.Organization); s.Ownership != finding.StaxOwned {
		t.Errorf("audit subject: %+v", s)
	}

	// A customer changing its own email within its domains stays customer-owned.
	cust := call{account: "300000000000", identity: "role", source: src, name: "AcceptPrimaryEmailUpdate", params: map[string]string{"primaryEmail": "new@acme.example"}}
	rep.Evaluate(cust.event())
	if a, _ := rep.State.Account("300000000000"); a.EmailAddress() != "new@acme.example" || a.RecordedOwnership != finding.CustomerOwned {
		t.Errorf("customer change: %+v", a)
	}

	// The hook for approved exceptions: when the engine forgets the Stax-owned record (an approved
	// exception covered the change), the account follows its new email.
	rep.State.RecordOwnership("200000000000", finding.CustomerOwned, "")
	login.EventID, login.EventTime = "login-2", "2026-11-20T10:00:00Z"
	if fs := rep.Evaluate(login); len(fs) != 1 || fs[0].Rule != "ROOT-SIGNIN-NO-MFA" || fs[0].Ownership != finding.CustomerOwned {
		t.Errorf("after the record was released: %+v", fs)
	}
}
