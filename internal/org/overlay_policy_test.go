package org

import (
	"encoding/json"
	"slices"
	"testing"
)

// TestOverlayLearnsCreatedPolicies: a policy created, attached and renamed in the same replay is
// known to later events with the content the response recorded, and listed with its targets.
func TestOverlayLearnsCreatedPolicies(t *testing.T) {
	on := true
	base, err := NewSnapshot(SnapshotDoc{
		Organization: Organization{ID: "o-1", ManagementAccountID: "100000000000", RootID: "r-1", SCPEnabled: &on},
		Accounts:     []Account{{ID: "100000000000", Name: "mgmt", ParentID: "r-1"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	o := NewOverlay(base)
	const content = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	create := orgEvent("CreatePolicy", map[string]string{"name": "Stax-Protection-2", "type": PolicyTypeSCP, "content": "request content"})
	resp, _ := json.Marshal(map[string]any{"policySummary": map[string]any{"id": "p-decoy", "name": "Stax-Protection-2", "type": PolicyTypeSCP}, "content": content})
	create.ResponseElements = map[string]json.RawMessage{"policy": resp}
	o.Apply(create)
	o.Apply(orgEvent("AttachPolicy", map[string]string{"policyId": "p-decoy", "targetId": "r-1"}))
	p, err := o.Policy("p-decoy")
	if err != nil || p.Name != "Stax-Protection-2" || p.ContentText() != content || p.Type != PolicyTypeSCP {
		t.Fatalf("created policy: %+v, %v", p, err)
	}
	if ids, _ := o.PoliciesFor("r-1"); !slices.Equal(ids, []string{"p-decoy"}) {
		t.Errorf("attached at the root: %v", ids)
	}
	o.Apply(orgEvent("UpdatePolicy", map[string]string{"policyId": "p-decoy", "name": "innocent"}))
	ps, _ := o.Policies()
	if len(ps) != 1 || ps[0].Name != "innocent" || ps[0].ContentText() != content || !slices.Equal(ps[0].Targets, []string{"r-1"}) {
		t.Errorf("after the rename: %+v", ps)
	}
	// A failed CreatePolicy, or one whose response names no policy, teaches nothing.
	failed := orgEvent("CreatePolicy", map[string]string{"name": "Stax-Protection-3"})
	failed.ErrorCode = "AccessDeniedException"
	o.Apply(failed)
	o.Apply(orgEvent("CreatePolicy", map[string]string{"name": "Stax-Protection-4"}))
	if ps, _ := o.Policies(); len(ps) != 1 {
		t.Errorf("failed or id-less creations were recorded: %+v", ps)
	}
	// PolicyContent answers from the overlay's record.
	if p, err := PolicyWithContent(o, "p-decoy"); err != nil || p.ContentText() != content {
		t.Errorf("PolicyWithContent: %+v, %v", p, err)
	}
}
