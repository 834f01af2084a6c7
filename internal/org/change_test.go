package org

import (
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rootguard/rootguard/internal/cloudtrail"
)

// wantKinds is the test's oracle of what each event does, written from the AWS APIs
// independently of ChangeOf's table.
var wantKinds = map[string]ChangeKind{
	"organizations/AttachPolicy": PolicyAttached, "organizations/DetachPolicy": PolicyDetached,
	"organizations/CreatePolicy": PolicyCreated, "organizations/UpdatePolicy": PolicyUpdated,
	"organizations/DeletePolicy": PolicyDeleted, "organizations/EnablePolicyType": PolicyTypeEnabled,
	"organizations/DisablePolicyType": PolicyTypeDisabled, "organizations/MoveAccount": AccountMoved,
	"organizations/CreateAccountResult": AccountJoined, "organizations/AcceptHandshake": AccountJoined,
	"controltower/CreateManagedAccount":           AccountJoined,
	"organizations/RemoveAccountFromOrganization": AccountLeft, "organizations/LeaveOrganization": AccountLeft,
	"organizations/CloseAccount": AccountClosed, "organizations/DeleteOrganizationalUnit": OUDeleted,
	"organizations/TagResource": ResourceTagged, "organizations/UntagResource": ResourceUntagged,
	"account/StartPrimaryEmailUpdate": RootEmailChanged, "account/AcceptPrimaryEmailUpdate": RootEmailChanged,
}

// changesNothing are the events of these services in the samples that change nothing rootguard
// knows (an invitation joins nobody until it is accepted; a call that only asks).
var changesNothing = []string{
	"organizations/CreateAccount", "organizations/InviteAccountToOrganization", "organizations/ListAccounts",
	"account/GetPrimaryEmail", "account/PutAccountName", "account/PutAlternateContact", "account/CloseAccount",
}

// wantChange is the oracle: the change an event makes, read from its raw JSON.
func wantChange(t *testing.T, ev *cloudtrail.Event, detail map[string]any) Change {
	t.Helper()
	key := strings.TrimSuffix(ev.EventSource, ".amazonaws.com") + "/" + ev.EventName
	kind, ok := wantKinds[key]
	if !ok || detail["errorCode"] != nil {
		return Change{}
	}
	req, _ := detail["requestParameters"].(map[string]any)
	str := func(m map[string]any, k string) string { s, _ := m[k].(string); return s }
	sed, _ := detail["serviceEventDetails"].(map[string]any)
	if s, ok := detail["serviceEventDetails"].(string); ok {
		if err := json.Unmarshal([]byte(s), &sed); err != nil {
			t.Fatal(err)
		}
	}
	recipient := str(detail, "recipientAccountId")
	c := Change{Kind: kind}
	switch kind {
	case PolicyAttached, PolicyDetached:
		c.Policy, c.Target = str(req, "policyId"), str(req, "targetId")
	case PolicyCreated:
		resp, _ := detail["responseElements"].(map[string]any)
		pol, _ := resp["policy"].(map[string]any)
		sum, _ := pol["policySummary"].(map[string]any)
		content := str(pol, "content")
		c.Policy = str(sum, "id")
		c.Created = Policy{ID: c.Policy, Name: str(sum, "name"), Type: str(sum, "type"), Content: &content}
	case PolicyUpdated:
		c.Policy, c.Name = str(req, "policyId"), str(req, "name")
		if v, ok := req["content"].(string); ok {
			c.Content = &v
		}
	case PolicyDeleted:
		c.Policy = str(req, "policyId")
	case PolicyTypeEnabled, PolicyTypeDisabled:
		c.PolicyType = str(req, "policyType")
	case AccountMoved:
		c.Account, c.Source, c.Destination = str(req, "accountId"), str(req, "sourceParentId"), str(req, "destinationParentId")
	case AccountJoined:
		switch ev.EventName {
		case "CreateAccountResult":
			st, _ := sed["createAccountStatus"].(map[string]any)
			if str(st, "state") != "SUCCEEDED" {
				return Change{}
			}
			c.Account, c.AccountName = str(st, "accountId"), str(st, "accountName")
		case "CreateManagedAccount":
			st, _ := sed["createManagedAccountStatus"].(map[string]any)
			if str(st, "state") != "SUCCEEDED" {
				return Change{}
			}
			a, _ := st["account"].(map[string]any)
			ou, _ := st["organizationalUnit"].(map[string]any)
			c.Account, c.AccountName, c.Parent = str(a, "accountId"), str(a, "accountName"), str(ou, "organizationalUnitId")
		default:
			c.Account = recipient
		}
		if c.AccountName == "****" {
			c.AccountName = ""
		}
	case AccountLeft:
		c.Account = str(req, "accountId")
		if ev.EventName == "LeaveOrganization" {
			c.Account = recipient
		}
	case AccountClosed:
		c.Account = str(req, "accountId")
	case OUDeleted:
		c.OU = str(req, "organizationalUnitId")
	case ResourceTagged:
		c.Resource = str(req, "resourceId")
		tags, _ := req["tags"].([]any)
		for _, tg := range tags {
			m, _ := tg.(map[string]any)
			c.Tags = append(c.Tags, Tag{Key: str(m, "key"), Value: str(m, "value")})
		}
	case ResourceUntagged:
		c.Resource = str(req, "resourceId")
		keys, _ := req["tagKeys"].([]any)
		for _, k := range keys {
			c.TagKeys = append(c.TagKeys, k.(string))
		}
	case RootEmailChanged:
		c.Account = str(req, "accountId") + str(req, "AccountId") // the Account API takes either case
		if c.Account == "" {
			c.Account = recipient
		}
		email := str(req, "primaryEmail") + str(req, "PrimaryEmail")
		c.Email = EmailChange{AccountID: c.Account, NewEmail: email, Done: ev.EventName == "AcceptPrimaryEmailUpdate"}
	}
	return c
}

// sampleRecords reads every event of the samples under events/ (one event, an array, JSON Lines
// or a CloudTrail log file), with its file.
func sampleRecords(t *testing.T) (files []string, records [][]byte) {
	t.Helper()
	root := filepath.Join("..", "..", "events")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Dir(p) == root {
			return err
		}
		if !strings.HasSuffix(p, ".json") && !strings.HasSuffix(p, ".jsonl") {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		s := cloudtrail.NewStream(f)
		for {
			rec, err := s.Next()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			files = append(files, p)
			records = append(records, slices.Clone(rec.Bytes))
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return files, records
}

// TestChangeOfSamples: every sample event of Organizations, Control Tower and Account Management
// yields the change the oracle reads from its JSON, and every event name they hold is known.
func TestChangeOfSamples(t *testing.T) {
	files, records := sampleRecords(t)
	seen := map[ChangeKind]int{}
	checked := 0
	for i, raw := range records {
		ev, err := cloudtrail.Decode(raw)
		if err != nil {
			t.Fatalf("%s: %v", files[i], err)
		}
		switch ev.EventSource {
		case cloudtrail.SourceOrganizations, cloudtrail.SourceControlTower, cloudtrail.SourceAccount:
		default:
			if c := ChangeOf(ev); c.Kind != NoChange {
				t.Errorf("%s: %s %s changes %v, want nothing", files[i], ev.EventSource, ev.EventName, c.Kind)
			}
			continue
		}
		key := strings.TrimSuffix(ev.EventSource, ".amazonaws.com") + "/" + ev.EventName
		if _, ok := wantKinds[key]; !ok && !slices.Contains(changesNothing, key) {
			t.Errorf("%s: %s is neither a change nor known to change nothing", files[i], key)
		}
		var probe map[string]any
		if err := json.Unmarshal(raw, &probe); err != nil {
			t.Fatal(err)
		}
		detail, ok := probe["detail"].(map[string]any)
		if !ok {
			detail = probe
		}
		got, want := ChangeOf(ev), wantChange(t, ev, detail)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: %s (-want +got):\n%s", files[i], key, diff)
		}
		seen[got.Kind]++
		checked++
	}
	t.Logf("%d events checked; changes: %v", checked, seen)
	for _, ce := range ChangeEvents() {
		key := strings.TrimSuffix(ce.EventSource, ".amazonaws.com") + "/" + ce.EventName
		if wantKinds[key] != ce.Kind {
			t.Errorf("ChangeEvents: %s makes %v, the oracle says %v", key, ce.Kind, wantKinds[key])
		}
	}
	if len(ChangeEvents()) != len(wantKinds) {
		t.Errorf("ChangeEvents lists %d events, the oracle %d", len(ChangeEvents()), len(wantKinds))
	}
	// Every kind but the ones no sample shows (TestChangeOfEdges covers them) is met.
	for k := PolicyAttached; k <= RootEmailChanged; k++ {
		if seen[k] == 0 && k != OUDeleted {
			t.Errorf("no sample makes a %v change", k)
		}
	}
}

// event builds a CloudTrail record of source and name with the given extra members.
func event(t *testing.T, source, name string, members string) *cloudtrail.Event {
	t.Helper()
	raw := `{"eventVersion":"1.09","eventSource":"` + source + `","eventName":"` + name +
		`","eventTime":"2026-11-28T11:22:47Z","recipientAccountId":"111111111111","eventID":"e-` + name + `"`
	if members != "" {
		raw += "," + members
	}
	ev, err := cloudtrail.Decode([]byte(raw + "}"))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return ev
}

// TestChangeOfEdges: failed calls, missing fields, unfinished account creations.
func TestChangeOfEdges(t *testing.T) {
	const orgs, ct, acct = cloudtrail.SourceOrganizations, cloudtrail.SourceControlTower, cloudtrail.SourceAccount
	empty := ""
	for _, tc := range []struct {
		name                 string
		source, event, extra string
		want                 Change
	}{
		{"a failed call changes nothing", orgs, "DetachPolicy", `"errorCode":"AccessDeniedException","requestParameters":{"policyId":"p-1","targetId":"r-1"}`, Change{}},
		{"a failed tag changes nothing", orgs, "TagResource", `"errorCode":"AccessDeniedException","requestParameters":{"resourceId":"r-1","tags":[{"key":"k","value":"v"}]}`, Change{}},
		{"a failed email change changes nothing", acct, "AcceptPrimaryEmailUpdate", `"errorCode":"AccessDeniedException","requestParameters":{"accountId":"2","primaryEmail":"x@y"}`, Change{}},
		{"detach without parameters", orgs, "DetachPolicy", "", Change{Kind: PolicyDetached}},
		{"update without content", orgs, "UpdatePolicy", `"requestParameters":{"policyId":"p-1","description":"d"}`, Change{Kind: PolicyUpdated, Policy: "p-1"}},
		{"update to empty content", orgs, "UpdatePolicy", `"requestParameters":{"policyId":"p-1","content":""}`, Change{Kind: PolicyUpdated, Policy: "p-1", Content: &empty}},
		{"create without a response", orgs, "CreatePolicy", `"requestParameters":{"name":"n","content":"{}"}`, Change{}},
		{"policy type without a type", orgs, "DisablePolicyType", `"requestParameters":{"rootId":"r-1"}`, Change{Kind: PolicyTypeDisabled}},
		{"enable a tag policy", orgs, "EnablePolicyType", `"requestParameters":{"rootId":"r-1","policyType":"TAG_POLICY"}`, Change{Kind: PolicyTypeEnabled, PolicyType: "TAG_POLICY"}},
		{"close", orgs, "CloseAccount", `"requestParameters":{"accountId":"222222222222"}`, Change{Kind: AccountClosed, Account: "222222222222"}},
		{"delete an OU", orgs, "DeleteOrganizationalUnit", `"requestParameters":{"organizationalUnitId":"ou-1"}`, Change{Kind: OUDeleted, OU: "ou-1"}},
		{"remove without an account", orgs, "RemoveAccountFromOrganization", `"requestParameters":{}`, Change{Kind: AccountLeft}},
		{"leave: the account that called", orgs, "LeaveOrganization", "", Change{Kind: AccountLeft, Account: "111111111111"}},
		{"untag with keys that are not a list", orgs, "UntagResource", `"requestParameters":{"resourceId":"ou-1","tagKeys":"k"}`, Change{Kind: ResourceUntagged, Resource: "ou-1"}},
		{"tag with malformed tags", orgs, "TagResource", `"requestParameters":{"resourceId":"ou-1","tags":{"k":"v"}}`, Change{Kind: ResourceTagged, Resource: "ou-1"}},
		{"an invitation joins nobody", orgs, "InviteAccountToOrganization", `"requestParameters":{"target":{"id":"2","type":"ACCOUNT"}}`, Change{}},
		{"creation in progress", orgs, "CreateAccountResult", `"serviceEventDetails":{"createAccountStatus":{"state":"IN_PROGRESS","accountId":"2"}}`, Change{}},
		{"creation failed", orgs, "CreateAccountResult", `"serviceEventDetails":{"createAccountStatus":{"state":"FAILED","failureReason":"EMAIL_ALREADY_EXISTS"}}`, Change{}},
		{"creation without details", orgs, "CreateAccountResult", "", Change{}},
		{"created, name redacted", orgs, "CreateAccountResult", `"serviceEventDetails":{"createAccountStatus":{"state":"SUCCEEDED","accountId":"2","accountName":"****"}}`, Change{Kind: AccountJoined, Account: "2"}},
		{"Control Tower failed", ct, "CreateManagedAccount", `"serviceEventDetails":{"createManagedAccountStatus":{"state":"FAILED","account":{"accountId":"2"}}}`, Change{}},
		{"Control Tower without account or OU", ct, "CreateManagedAccount", `"serviceEventDetails":{"createManagedAccountStatus":{"state":"SUCCEEDED"}}`, Change{Kind: AccountJoined}},
		{"Control Tower in an OU", ct, "CreateManagedAccount", `"serviceEventDetails":{"createManagedAccountStatus":{"state":"SUCCEEDED","account":{"accountId":"2","accountName":"a"},"organizationalUnit":{"organizationalUnitId":"ou-1"}}}`,
			Change{Kind: AccountJoined, Account: "2", AccountName: "a", Parent: "ou-1"}},
		{"email request without an email", acct, "StartPrimaryEmailUpdate", "", Change{Kind: RootEmailChanged, Account: "111111111111", Email: EmailChange{AccountID: "111111111111"}}},
		{"email change in the other case", acct, "AcceptPrimaryEmailUpdate", `"requestParameters":{"AccountId":"2","PrimaryEmail":"x@y"}`,
			Change{Kind: RootEmailChanged, Account: "2", Email: EmailChange{AccountID: "2", NewEmail: "x@y", Done: true}}},
		{"same name, another service", cloudtrail.SourceIAM, "TagResource", `"requestParameters":{"resourceId":"r-1"}`, Change{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, ChangeOf(event(t, tc.source, tc.event, tc.extra))); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	if c := ChangeOf(nil); c.Kind != NoChange {
		t.Errorf("ChangeOf(nil) = %v", c.Kind)
	}
}
