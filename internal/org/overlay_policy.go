package org

import (
	"encoding/json"

	"github.com/rootguard/rootguard/internal/cloudtrail"
)

// CreatedPolicy reads the policy a successful CreatePolicy made: its id from the response (the
// request has none), its name, type and content from the response, else from the request. ok is
// false when the response names no policy id (a failed call).
func CreatedPolicy(ev *cloudtrail.Event) (Policy, bool) {
	var resp struct {
		PolicySummary struct {
			ID   string `json:"id"`
			Name string `json:"name"`
			Type string `json:"type"`
		} `json:"policySummary"`
		Content *string `json:"content"`
	}
	raw, present := ev.ResponseElements["policy"]
	if !present || json.Unmarshal(raw, &resp) != nil || resp.PolicySummary.ID == "" {
		return Policy{}, false
	}
	p := Policy{ID: resp.PolicySummary.ID, Name: resp.PolicySummary.Name, Type: resp.PolicySummary.Type, Content: resp.Content}
	if p.Name == "" {
		p.Name = ev.Param("name")
	}
	if p.Type == "" {
		p.Type = ev.Param("type")
	}
	if p.Type == "" {
		p.Type = PolicyTypeSCP
	}
	if p.Content == nil && ev.HasParam("content") {
		c := ev.Param("content")
		p.Content = &c
	}
	return p, true
}
