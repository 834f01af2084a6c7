package org

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/rootguard/rootguard/internal/cloudtrail"
)

func orgEvent(name string, params map[string]string) *cloudtrail.Event {
	p := map[string]json.RawMessage{}
	for k, v := range params {
		b, _ := json.Marshal(v)
		p[k] = b
	}
	return &cloudtrail.Event{Record: cloudtrail.Record{EventSource: cloudtrail.SourceOrganizations, EventName: name, RequestParameters: p}}
}

func TestOverlay(t *testing.T) {
	on := true
	base, err := NewSnapshot(SnapshotDoc{
		Organization:        Organization{ID: "o-1", ManagementAccountID: "100000000000", RootID: "r-1", SCPEnabled: &on},
		OrganizationalUnits: []OU{{ID: "ou-1-a", Name: "A", ParentID: "r-1"}},
		Accounts: []Account{
			{ID: "100000000000", Name: "mgmt", ParentID: "r-1"},
			{ID: "200000000000", Name: "member", ParentID: "ou-1-a"},
		},
		Policies: []Policy{
			{ID: "p-scp", Name: "Stax-Protection", Type: PolicyTypeSCP, Targets: []string{"r-1"}},
			{ID: "p-tag", Name: "tags", Type: "TAG_POLICY", Targets: []string{"r-1"}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	o := NewOverlay(base)
	o.Apply(orgEvent("MoveAccount", map[string]string{"accountId": "200000000000", "destinationParentId": "r-1"}))
	if ps, _ := o.Parents("200000000000"); !slices.Equal(ps, []string{"r-1"}) {
		t.Errorf("after the move: parents %v", ps)
	}
	o.Apply(orgEvent("UpdatePolicy", map[string]string{"policyId": "p-scp", "name": "renamed"}))
	if p, _ := o.Policy("p-scp"); p.Name != "renamed" {
		t.Errorf("after the rename: %q", p.Name)
	}
	failed := orgEvent("DetachPolicy", map[string]string{"policyId": "p-scp", "targetId": "r-1"})
	failed.ErrorCode = "AccessDenied"
	o.Apply(failed)
	if ids, _ := o.PoliciesFor("r-1"); !slices.Contains(ids, "p-scp") {
		t.Error("a failed detach changed the organization")
	}
	o.Apply(orgEvent("DisablePolicyType", map[string]string{"rootId": "r-1", "policyType": PolicyTypeSCP}))
	ids, _ := o.PoliciesFor("r-1")
	if slices.Contains(ids, "p-scp") || !slices.Contains(ids, "p-tag") {
		t.Errorf("after DisablePolicyType the SCP must be gone and the tag policy kept: %v", ids)
	}
	if org, _ := o.Organization(); org.SCPEnabled == nil || *org.SCPEnabled {
		t.Error("SCPs still enabled")
	}
	o.Apply(orgEvent("DeletePolicy", map[string]string{"policyId": "p-scp"}))
	if _, err := o.Policy("p-scp"); err != nil {
		t.Error("a deleted policy must still be known by id")
	}
	o.Apply(orgEvent("RemoveAccountFromOrganization", map[string]string{"accountId": "200000000000"}))
	if _, err := o.Account("200000000000"); err == nil {
		t.Error("a removed account is still in the organization")
	}
	accounts, _ := o.Accounts()
	if len(accounts) != 1 {
		t.Errorf("accounts after the removal: %v", accounts)
	}
}
