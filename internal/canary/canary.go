// Package canary builds rootguard's heartbeat: synthetic events of each kind the pipeline must
// handle (a root sign-in, a protection SCP detach, an account creation), marked as canaries and
// about a reserved fake organization, and the organization facts they are evaluated against. A
// canary goes through routing, evaluation and delivery like a real event, but its findings are
// recorded (a metric) and never sent to people, and no AWS call is made for it.
package canary

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/rootguard/rootguard/internal/function"
	"github.com/rootguard/rootguard/internal/org"
	"github.com/rootguard/rootguard/internal/route"
)

// The reserved fake organization of the canaries.
const (
	OrganizationID    = "o-rootguardcanary"
	RootID            = "r-rgcn"
	ManagementAccount = "000000000000"
	MemberAccount     = "000000000001"
	PolicyID          = "p-rootguardcanary"
)

// Kind is one kind of canary and the finding it must produce.
type Kind struct {
	// Name identifies the kind ("root-signin", ...).
	Name string
	// Rule is the id of the rule the canary must raise; the heartbeat alarm watches it. An id, not
	// the rule: the heartbeat links this package and not the rule engine (the tests check that it
	// names a catalogue rule its function evaluates and raises).
	Rule string
	// Function is the function the canary is routed to.
	Function string
}

// Kinds lists the canaries, one per evaluator function.
var Kinds = []Kind{
	{Name: "root-signin", Rule: "ROOT-SIGNIN-STAX-MEMBER", Function: function.RootActivity},
	{Name: "scp-detach", Rule: "SCP-DETACHED", Function: function.SCPGuard},
	{Name: "account-created", Rule: "ONBOARD-REPORT", Function: function.Onboarding},
}

// Is reports whether an event is a canary: it came from the canary source (only rootguard's own
// heartbeat function may put that source on the bus: the rules filter on the sending account)
// and carries the canary mark.
func Is(source string, marked bool) bool { return source == route.CanarySource && marked }

// Facts returns the reserved fake organization: a Stax-owned management account and one
// Stax-owned member under the root, with the protection SCP (named after the first protection
// name, root-guarding: it denies every action to root) attached at the root. staxDomain is a configured Stax-managed domain.
func Facts(staxDomain, protectionName string) org.Facts {
	t, f := true, false
	name := strings.TrimSuffix(protectionName, "*")
	if name == "" {
		name = "Stax-Protection"
	}
	email := func(local string) *string { s := local + "@" + staxDomain; return &s }
	none := &org.RootCredentials{MFAEnabled: &f, PasswordPresent: &f, AccessKeysPresent: &f, SigningCertificatesPresent: &f}
	s, err := org.NewSnapshot(org.SnapshotDoc{
		Organization: org.Organization{ID: OrganizationID, ManagementAccountID: ManagementAccount, RootID: RootID, SCPEnabled: &t},
		Accounts: []org.Account{
			{ID: ManagementAccount, Name: "rootguard-canary-management", Email: email("rootguard-canary-management"), ParentID: RootID,
				Root: &org.RootCredentials{MFAEnabled: &t, PasswordPresent: &t, AccessKeysPresent: &f, SigningCertificatesPresent: &f}},
			{ID: MemberAccount, Name: "rootguard-canary-member", Email: email("rootguard-canary-member"), ParentID: RootID, Root: none},
		},
		Policies: []org.Policy{{ID: PolicyID, Name: name + "-rootguard-canary", Type: org.PolicyTypeSCP, Content: &guardContent, Targets: []string{RootID}}},
	})
	if err != nil {
		// The document above is fixed; a failure here is a programming error caught by the tests.
		return org.Empty{}
	}
	return s
}

// Event is one canary EventBridge event, ready for PutEvents (Source, DetailType, Detail).
type Event struct {
	Kind       Kind
	Source     string
	DetailType string
	Detail     json.RawMessage
}

// Events returns one canary of each kind for the heartbeat at time now. Their event ids derive
// from the kind and the time, so a retried heartbeat run is deduplicated downstream.
func Events(now time.Time) []Event {
	now = now.UTC().Truncate(time.Second)
	ts := now.Format(time.RFC3339)
	id := func(k string) string { return fmt.Sprintf("rootguard-canary-%s-%d", k, now.Unix()) }
	mark := map[string]any{"rootguardCanary": "true"}
	identity := func(typ, arn, account string) map[string]any {
		return map[string]any{"type": typ, "arn": arn, "accountId": account, "principalId": account}
	}
	var out []Event
	for _, k := range Kinds {
		var detail map[string]any
		var detailType string
		switch k.Name {
		case "root-signin":
			detailType = route.SignInDetailTypes[0]
			detail = map[string]any{
				"eventVersion": "1.08", "eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin",
				"eventType": "AwsConsoleSignIn", "awsRegion": "us-east-1", "sourceIPAddress": "192.0.2.1",
				"userAgent": "rootguard-heartbeat", "userIdentity": identity("Root", "arn:aws:iam::"+MemberAccount+":root", MemberAccount),
				"responseElements":    map[string]any{"ConsoleLogin": "Success"},
				"additionalEventData": map[string]any{"MFAUsed": "Yes", "rootguardCanary": "true"},
			}
		case "scp-detach":
			detailType = "AWS API Call via CloudTrail"
			detail = map[string]any{
				"eventVersion": "1.08", "eventSource": "organizations.amazonaws.com", "eventName": "DetachPolicy",
				"eventType": "AwsApiCall", "awsRegion": "us-east-1", "sourceIPAddress": "192.0.2.1",
				"userAgent":           "rootguard-heartbeat",
				"userIdentity":        identity("AssumedRole", "arn:aws:sts::"+ManagementAccount+":assumed-role/rootguard-heartbeat/canary", ManagementAccount),
				"requestParameters":   map[string]any{"policyId": PolicyID, "targetId": RootID},
				"additionalEventData": mark,
			}
		case "account-created":
			detailType = "AWS Service Event via CloudTrail"
			detail = map[string]any{
				"eventVersion": "1.08", "eventSource": "organizations.amazonaws.com", "eventName": "CreateAccountResult",
				"eventType": "AwsServiceEvent", "awsRegion": "us-east-1", "sourceIPAddress": "AWS Internal",
				"userIdentity":        map[string]any{"accountId": ManagementAccount, "invokedBy": "AWS Internal"},
				"serviceEventDetails": map[string]any{"createAccountStatus": map[string]any{"id": "car-rootguardcanary", "state": "SUCCEEDED", "accountId": MemberAccount, "accountName": "rootguard-canary-member"}},
				"additionalEventData": mark,
			}
		}
		detail["eventID"] = id(k.Name)
		detail["eventTime"] = ts
		detail["recipientAccountId"] = ManagementAccount
		if k.Name == "root-signin" {
			detail["recipientAccountId"] = MemberAccount
		}
		raw, _ := json.Marshal(detail)
		out = append(out, Event{Kind: k, Source: route.CanarySource, DetailType: detailType, Detail: raw})
	}
	return out
}

// Envelope wraps a canary as the EventBridge event a rule target receives.
func (e Event) Envelope(account, region string, now time.Time) json.RawMessage {
	env := map[string]any{
		"version": "0", "id": "canary-" + e.Kind.Name + fmt.Sprint(now.Unix()), "detail-type": e.DetailType,
		"source": e.Source, "account": account, "time": now.UTC().Format(time.RFC3339), "region": region,
		"resources": []string{}, "detail": e.Detail,
	}
	raw, _ := json.Marshal(env)
	return raw
}

// guardContent is the canary protection SCP's content: a root-guarding Deny, so that the
// protection is effective on the canary member (effectiveness is judged by content).
var guardContent = `{"Version":"2012-10-17","Statement":[{"Sid":"DenyRootUser","Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}}]}`
