package rule

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rootguard/rootguard/internal/cloudtrail"
	"github.com/rootguard/rootguard/internal/finding"
)

const (
	tApprover   = "arn:aws:iam::100000000000:role/approver"
	tAutomation = "arn:aws:iam::100000000000:role/stax-guardrail-automation"
	tAlice      = "arn:aws:sts::100000000000:assumed-role/admin/alice"
	tAdminRole  = "arn:aws:iam::100000000000:role/admin"
	tPriya      = "arn:aws:sts::100000000000:assumed-role/approver/priya"
	tOtherPriya = "arn:aws:sts::100000000000:assumed-role/approver/other-session"
	tRobot      = "arn:aws:sts::100000000000:assumed-role/stax-guardrail-automation/run-1"
	tValid      = "CHG-7;expires=2026-11-20T18:00:00Z"
)

// step is one event of a custody scenario.
type step struct {
	source, name string
	actor        string // caller ARN; a session of its role when it is an assumed-role ARN
	at           string // time of day on 2026-11-20
	params       map[string]any
	failed       bool
	root         bool // a root identity in actor's account
}

func (s step) event(i int) *cloudtrail.Event {
	ev := &cloudtrail.Event{Record: cloudtrail.Record{
		EventSource: s.source, EventName: s.name, EventID: "e-" + string(rune('a'+i)),
		EventTime: "2026-11-20T" + s.at + "Z", RecipientAccountID: "100000000000",
		UserIdentity: &cloudtrail.UserIdentity{Type: "AssumedRole", ARN: s.actor},
	}}
	if s.root {
		ev.UserIdentity = &cloudtrail.UserIdentity{Type: "Root", ARN: "arn:aws:iam::" + s.actor + ":root", AccountID: s.actor}
		ev.RecipientAccountID = s.actor
	} else if role, ok := strings.CutPrefix(s.actor, "arn:aws:sts::100000000000:assumed-role/"); ok {
		name, _, _ := strings.Cut(role, "/")
		ev.UserIdentity.SessionContext = &cloudtrail.SessionContext{}
		ev.UserIdentity.SessionContext.SessionIssuer = &struct {
			Type string `json:"type"`
			ARN  string `json:"arn"`
		}{Type: "Role", ARN: "arn:aws:iam::100000000000:role/" + name}
	}
	ev.RequestParameters = map[string]json.RawMessage{}
	for k, v := range s.params {
		b, _ := json.Marshal(v)
		ev.RequestParameters[k] = b
	}
	if s.failed {
		ev.ErrorCode = "AccessDenied"
	}
	return ev
}

func tagStep(actor, at, resource, value string) step {
	return step{source: cloudtrail.SourceOrganizations, name: "TagResource", actor: actor, at: at,
		params: map[string]any{"resourceId": resource, "tags": []map[string]string{{"key": ExceptionTag, "value": value}}}}
}

func detachStep(actor, at, target string) step {
	return step{source: cloudtrail.SourceOrganizations, name: "DetachPolicy", actor: actor, at: at,
		params: map[string]any{"policyId": "p-prot", "targetId": target}}
}

func iamStep(name, actor, at string, params map[string]any) step {
	return step{source: cloudtrail.SourceIAM, name: name, actor: actor, at: at, params: params}
}

// TestExceptionPaths replays each exception and trust path as events (the grant is witnessed
// from a TagResource, as replay and the Lambdas do) and checks the last event's finding.
func TestExceptionPaths(t *testing.T) {
	cfg := Config{StaxDomains: []string{"stax.example"}, TrustedPrincipals: []string{tAutomation}, ExceptionApprovers: []string{tApprover}}
	shortSuspension := cfg
	shortSuspension.TrustSuspension = time.Hour
	noApprovers := Config{StaxDomains: []string{"stax.example"}, TrustedPrincipals: []string{tAutomation}}
	for _, tc := range []struct {
		name      string
		cfg       *Config
		snapTags  map[string]map[string]string
		targets   []string // of the protection SCP (default: r-1 and ou-1-a)
		steps     []step
		wantRule  string
		wantSev   finding.Severity
		wantRef   string // part of the finding's exception
		wantNote  string // part of the description
		grantSev  finding.Severity
		grantNote string
	}{
		{name: "granted by an approver", steps: []step{tagStep(tPriya, "08:00:00", "p-prot", tValid), detachStep(tAlice, "10:00:00", "r-1")},
			wantRule: "SCP-DETACHED", wantSev: finding.Informational, wantRef: "CHG-7 approved by " + tApprover, grantSev: finding.Low},
		{name: "granted on the detach target", steps: []step{tagStep(tPriya, "08:00:00", "r-1", tValid), detachStep(tAlice, "10:00:00", "r-1")},
			wantRule: "SCP-DETACHED", wantSev: finding.Informational, wantRef: "CHG-7", grantSev: finding.Low},
		{name: "granted by anyone else", steps: []step{tagStep(tAlice, "08:00:00", "p-prot", tValid), detachStep(tAlice, "10:00:00", "r-1")},
			wantRule: "SCP-DETACHED", wantSev: finding.Critical, wantNote: "exception tag present but not granted by an approver", grantSev: finding.High, grantNote: "is not a configured exception approver"},
		{name: "no approvers configured", cfg: &noApprovers, steps: []step{tagStep(tPriya, "08:00:00", "p-prot", tValid), detachStep(tAlice, "10:00:00", "r-1")},
			wantRule: "SCP-DETACHED", wantSev: finding.Critical, wantNote: "not granted by an approver", grantSev: finding.High, grantNote: "no exception approvers are configured"},
		{name: "four eyes: same session", steps: []step{tagStep(tPriya, "08:00:00", "p-prot", tValid), detachStep(tPriya, "10:00:00", "r-1")},
			wantRule: "SCP-DETACHED", wantSev: finding.Critical, wantNote: "four eyes"},
		{name: "four eyes: another session of the approver role", steps: []step{tagStep(tPriya, "08:00:00", "p-prot", tValid), detachStep(tOtherPriya, "10:00:00", "r-1")},
			wantRule: "SCP-DETACHED", wantSev: finding.Critical, wantNote: "four eyes"},
		{name: "scope: a root tag does not cover an OU detach", steps: []step{tagStep(tPriya, "08:00:00", "r-1", tValid), detachStep(tAlice, "10:00:00", "ou-1-a")},
			wantRule: "SCP-DETACHED", wantSev: finding.Critical},
		{name: "scope: a management-account tag does not cover a protection change", steps: []step{tagStep(tPriya, "08:00:00", "100000000000", tValid), detachStep(tAlice, "10:00:00", "r-1")},
			wantRule: "SCP-DETACHED", wantSev: finding.Critical},
		{name: "scope: an OU tag does not cover its member's root sign-in", steps: []step{tagStep(tPriya, "08:00:00", "ou-1-a", tValid),
			{source: cloudtrail.SourceSignIn, name: "ConsoleLogin", actor: "300000000000", root: true, at: "10:00:00"}},
			wantRule: "ROOT-SIGNIN-STAX-MEMBER", wantSev: finding.Critical},
		{name: "scope: an account tag covers its own root sign-in", steps: []step{tagStep(tPriya, "08:00:00", "300000000000", tValid),
			{source: cloudtrail.SourceSignIn, name: "ConsoleLogin", actor: "300000000000", root: true, at: "10:00:00"}},
			wantRule: "ROOT-SIGNIN-STAX-MEMBER", wantSev: finding.Informational, wantRef: "CHG-7"},
		{name: "never lowered: root MFA removed", steps: []step{tagStep(tPriya, "08:00:00", "100000000000", tValid),
			{source: cloudtrail.SourceIAM, name: "DeactivateMFADevice", actor: "100000000000", root: true, at: "10:00:00"}},
			wantRule: "ROOT-MFA-REMOVED", wantSev: finding.Critical, wantNote: "is never lowered by an exception"},
		{name: "never lowered: SCP policy type disabled by a trusted principal", steps: []step{{source: cloudtrail.SourceOrganizations, name: "DisablePolicyType", actor: tRobot, at: "10:00:00",
			params: map[string]any{"policyType": "SERVICE_CONTROL_POLICY", "rootId": "r-1"}}},
			wantRule: "SCP-POLICY-TYPE-DISABLED", wantSev: finding.Critical},
		{name: "expired", steps: []step{tagStep(tPriya, "08:00:00", "p-prot", tValid), detachStep(tAlice, "19:00:00", "r-1")},
			wantRule: "SCP-DETACHED", wantSev: finding.Critical, wantNote: "expired at"},
		{name: "over max age", steps: []step{tagStep(tPriya, "08:00:00", "p-prot", "CHG-7;expires=2026-11-23T09:00:00Z"), detachStep(tAlice, "10:00:00", "r-1")},
			wantRule: "SCP-DETACHED", wantSev: finding.Critical, wantNote: "not granted by an approver", grantSev: finding.Medium, grantNote: "more than the maximum"},
		{name: "malformed", steps: []step{tagStep(tPriya, "08:00:00", "p-prot", "CHG-7"), detachStep(tAlice, "10:00:00", "r-1")},
			wantRule: "SCP-DETACHED", wantSev: finding.Critical, grantSev: finding.Medium, grantNote: "malformed"},
		{name: "snapshot tag without grant", snapTags: map[string]map[string]string{"p-prot": {ExceptionTag: tValid}}, steps: []step{detachStep(tAlice, "10:00:00", "r-1")},
			wantRule: "SCP-DETACHED", wantSev: finding.Critical, wantNote: "exception tag present but not granted by an approver"},
		{name: "overwritten by a non-approver", steps: []step{tagStep(tPriya, "08:00:00", "p-prot", tValid), tagStep(tAlice, "08:30:00", "p-prot", tValid), detachStep(tAlice, "10:00:00", "r-1")},
			wantRule: "SCP-DETACHED", wantSev: finding.Critical, wantNote: "not granted by an approver"},
		{name: "removed", steps: []step{tagStep(tPriya, "08:00:00", "p-prot", tValid),
			{source: cloudtrail.SourceOrganizations, name: "UntagResource", actor: tPriya, at: "09:00:00", params: map[string]any{"resourceId": "p-prot", "tagKeys": []string{ExceptionTag}}},
			detachStep(tAlice, "10:00:00", "r-1")},
			wantRule: "SCP-DETACHED", wantSev: finding.Critical},
		{name: "trusted principal", steps: []step{detachStep(tRobot, "10:00:00", "r-1")},
			wantRule: "SCP-DETACHED", wantSev: finding.Informational, wantRef: "trusted principal " + tAutomation},
		{name: "trusted principal: AssumeRoot", steps: []step{{source: cloudtrail.SourceSTS, name: "AssumeRoot", actor: tRobot, at: "10:00:00",
			params: map[string]any{"targetPrincipal": "300000000000", "taskPolicyArn": map[string]string{"arn": "arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials"}}}},
			wantRule: "ROOT-SESSION", wantSev: finding.Informational, wantRef: "trusted principal"},
		{name: "trusted principal: a move that leaves an account unprotected", targets: []string{"ou-1-a"}, steps: []step{{source: cloudtrail.SourceOrganizations, name: "MoveAccount", actor: tRobot, at: "10:00:00",
			params: map[string]any{"accountId": "300000000000", "sourceParentId": "ou-1-a", "destinationParentId": "r-1"}}},
			wantRule: "SCP-NOT-EFFECTIVE", wantSev: finding.Informational, wantRef: "trusted principal"},
		{name: "trusted principal: deleting the protection is never lowered", steps: []step{{source: cloudtrail.SourceOrganizations, name: "DeletePolicy", actor: tRobot, at: "10:00:00",
			params: map[string]any{"policyId": "p-prot"}}},
			wantRule: "SCP-DELETED", wantSev: finding.Critical},
		{name: "trust suspension", steps: []step{iamStep("UpdateAssumeRolePolicy", tAlice, "09:00:00", map[string]any{"roleName": "stax-guardrail-automation"}), detachStep(tRobot, "10:00:00", "r-1")},
			wantRule: "SCP-DETACHED", wantSev: finding.Critical, wantNote: "it would have been lowered to INFORMATIONAL as a change by the trusted principal"},
		{name: "trust still suspended ten hours later", steps: []step{iamStep("UpdateAssumeRolePolicy", tAlice, "00:00:00", map[string]any{"roleName": "stax-guardrail-automation"}),
			detachStep(tRobot, "10:00:00", "r-1")},
			wantRule: "SCP-DETACHED", wantSev: finding.Critical, wantNote: "until 2026-11-21T00:00:00Z"},
		{name: "trust resumes after the suspension", cfg: &shortSuspension, steps: []step{iamStep("UpdateAssumeRolePolicy", tAlice, "00:00:00", map[string]any{"roleName": "stax-guardrail-automation"}),
			detachStep(tRobot, "10:00:00", "r-1")},
			wantRule: "SCP-DETACHED", wantSev: finding.Informational, wantRef: "trusted principal"},
		{name: "a failed change suspends nothing", steps: []step{func() step {
			s := iamStep("UpdateAssumeRolePolicy", tAlice, "09:00:00", map[string]any{"roleName": "stax-guardrail-automation"})
			s.failed = true
			return s
		}(), detachStep(tRobot, "10:00:00", "r-1")},
			wantRule: "SCP-DETACHED", wantSev: finding.Informational, wantRef: "trusted principal"},
		{name: "approver suspended: its grant is not a grant", steps: []step{iamStep("AttachRolePolicy", tAlice, "07:00:00", map[string]any{"roleName": "approver"}),
			tagStep(tPriya, "08:00:00", "p-prot", tValid), detachStep(tAlice, "10:00:00", "r-1")},
			wantRule: "SCP-DETACHED", wantSev: finding.Critical, wantNote: "not granted by an approver", grantSev: finding.High, grantNote: "neither trusted nor an exception approver"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := cfg
			if tc.cfg != nil {
				c = *tc.cfg
			}
			eng, err := NewEngine(c)
			if err != nil {
				t.Fatal(err)
			}
			targets := tc.targets
			if targets == nil {
				targets = []string{"r-1", "ou-1-a"}
			}
			rep := eng.NewReplayer(exceptionOrg(t, tc.snapTags, targets...))
			var last []finding.Finding
			for i, s := range tc.steps {
				fs := rep.Evaluate(s.event(i))
				for _, f := range fs {
					if f.Rule == "EXCEPTION-GRANTED" && tc.grantSev != 0 {
						if f.Severity != tc.grantSev || !strings.Contains(f.Description, tc.grantNote) {
							t.Errorf("EXCEPTION-GRANTED %s, want %s with %q: %s", f.Severity, tc.grantSev, tc.grantNote, f.Description)
						}
					}
				}
				last = fs
			}
			var got *finding.Finding
			for i := range last {
				if last[i].Rule == tc.wantRule {
					got = &last[i]
				}
			}
			if got == nil {
				t.Fatalf("no %s; findings: %+v", tc.wantRule, last)
			}
			if got.Severity != tc.wantSev || !strings.Contains(got.Exception, tc.wantRef) || (tc.wantRef == "" && got.Exception != "") {
				t.Errorf("severity %s exception %q, want %s %q (%s)", got.Severity, got.Exception, tc.wantSev, tc.wantRef, got.Description)
			}
			if !strings.Contains(got.Description, tc.wantNote) {
				t.Errorf("description lacks %q: %s", tc.wantNote, got.Description)
			}
		})
	}
}

// failingCustody cannot be read.
type failingCustody struct{}

func (failingCustody) Grant(string) (Grant, bool, error) {
	return Grant{}, false, errors.New("table unreachable")
}
func (failingCustody) Suspended(string, time.Time) (Suspension, bool, error) {
	return Suspension{}, false, errors.New("table unreachable")
}

// TestCustodyUnreadableFailsClosed: when the custody state cannot be read, neither an exception
// nor a trusted principal lowers anything, and the finding says why.
func TestCustodyUnreadableFailsClosed(t *testing.T) {
	eng, _ := NewEngine(Config{StaxDomains: []string{"stax.example"}, TrustedPrincipals: []string{tAutomation}, ExceptionApprovers: []string{tApprover}})
	facts := exceptionOrg(t, map[string]map[string]string{"p-prot": {ExceptionTag: tValid}}, "r-1")
	for _, actor := range []string{tAlice, tRobot} {
		fs := eng.EvaluateWith(detachStep(actor, "10:00:00", "r-1").event(0), facts, failingCustody{})
		if len(fs) != 1 || fs[0].Severity != finding.Critical || !strings.Contains(fs[0].Description, "table unreachable") {
			t.Errorf("%s: %+v", actor, fs)
		}
	}
}

// TestRoutedTrustCalls: TRUSTED-PRINCIPAL-CHANGED's events are exactly the IAM calls it reads,
// and the replay prefilter keeps them.
func TestRoutedTrustCalls(t *testing.T) {
	r, _ := ByID("TRUSTED-PRINCIPAL-CHANGED")
	got := r.Events[0].EventNames
	if want := slices.Concat(trustRoleEvents, trustUserEvents); len(r.Events) != 1 || !slices.Equal(got, want) {
		t.Errorf("TRUSTED-PRINCIPAL-CHANGED's events %v, its calls %v", r.Events, want)
	}
}

// TestTrustedPrincipalChanged: which IAM changes raise it, and at what severity.
func TestTrustedPrincipalChanged(t *testing.T) {
	const user = "arn:aws:iam::100000000000:user/ops/stax-break-glass"
	eng, err := NewEngine(Config{StaxDomains: []string{"stax.example"}, TrustedPrincipals: []string{tAutomation, user}, ExceptionApprovers: []string{tApprover}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		s    step
		want finding.Severity // 0: not raised
	}{
		{"trust policy of the automation role", iamStep("UpdateAssumeRolePolicy", tAlice, "09:00:00", map[string]any{"roleName": "stax-guardrail-automation"}), finding.High},
		{"policy attached to the approver role", iamStep("AttachRolePolicy", tAlice, "09:00:00", map[string]any{"roleName": "approver", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}), finding.High},
		{"role deleted and recreated", iamStep("CreateRole", tAlice, "09:00:00", map[string]any{"roleName": "approver"}), finding.High},
		{"access key for the trusted user (path ignored)", iamStep("CreateAccessKey", tAlice, "09:00:00", map[string]any{"userName": "stax-break-glass"}), finding.High},
		{"failed", func() step {
			s := iamStep("PutRolePolicy", tAlice, "09:00:00", map[string]any{"roleName": "approver"})
			s.failed = true
			return s
		}(), finding.Medium},
		{"the role changing itself", iamStep("PutRolePolicy", tRobot, "09:00:00", map[string]any{"roleName": "stax-guardrail-automation"}), 0},
		{"another role", iamStep("UpdateAssumeRolePolicy", tAlice, "09:00:00", map[string]any{"roleName": "stax-guardrail-automation-2"}), 0},
		{"a user call on a role name", iamStep("AttachUserPolicy", tAlice, "09:00:00", map[string]any{"userName": "approver"}), 0},
		{"a read", iamStep("GetRole", tAlice, "09:00:00", map[string]any{"roleName": "approver"}), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got finding.Severity
			for _, f := range eng.Evaluate(tc.s.event(0), exceptionOrg(t, nil, "r-1")) {
				if f.Rule == "TRUSTED-PRINCIPAL-CHANGED" {
					got = f.Severity
				}
			}
			if got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// TestApproverConfig: approvers must be IAM role or user ARNs.
func TestApproverConfig(t *testing.T) {
	for _, bad := range []string{"arn:aws:iam::100000000000:role/*", "arn:aws:sts::100000000000:assumed-role/approver/x", "approver", "arn:aws:iam::1:role/x"} {
		if _, err := NewEngine(Config{ExceptionApprovers: []string{bad}}); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("%q: err = %v, want an error naming it", bad, err)
		}
	}
	if _, err := NewEngine(Config{TrustSuspension: -time.Hour}); err == nil {
		t.Error("negative trust suspension accepted")
	}
	e, err := NewEngine(Config{ExceptionApprovers: []string{" " + tApprover + " ", "arn:aws:iam::100000000000:user/path/bob"}})
	if err != nil {
		t.Fatal(err)
	}
	if e.Config().TrustSuspension != DefaultTrustSuspension || len(e.Config().ExceptionApprovers) != 2 {
		t.Errorf("normalized: %+v", e.Config())
	}
}
