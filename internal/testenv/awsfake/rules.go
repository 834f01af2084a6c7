package awsfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// ForwardingRule is one EventBridge rule on an account's default bus in a region, as the fake
// holds it for DescribeRule and ListTargetsByRule.
type ForwardingRule struct {
	Account, Region, Name string
	// State is ENABLED, ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS or DISABLED.
	State string
	// Targets are the target ARNs.
	Targets []string
}

func ruleKey(account, region, name string) string { return account + "/" + region + "/" + name }

// PutRule creates or replaces a rule (a test's setup, not the PutRule API).
func (s *Server) PutRule(r ForwardingRule) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rules == nil {
		s.rules = map[string]ForwardingRule{}
	}
	r.Targets = slices.Clone(r.Targets)
	s.rules[ruleKey(r.Account, r.Region, r.Name)] = r
}

// DeleteRule removes a rule, as a member account's administrator could.
func (s *Server) DeleteRule(account, region, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.rules, ruleKey(account, region, name))
}

// serveRules answers DescribeRule and ListTargetsByRule from the rules of the calling account
// (the account of the audit role session) in the region the request was signed for. It must be
// called with s.mu held.
func (s *Server) serveRules(w http.ResponseWriter, op string, c caller, body []byte) {
	if e := s.admit(EventBridge, op, c); e != nil {
		writeJSONError(w, *e)
		return
	}
	var in struct {
		Name, Rule, EventBusName string
	}
	if err := json.Unmarshal(body, &in); err != nil {
		s.noteError("SerializationException")
		writeJSONError(w, APIError{http.StatusBadRequest, "SerializationException", err.Error()})
		return
	}
	name := in.Name
	if op == "ListTargetsByRule" {
		name = in.Rule
	}
	if in.EventBusName != "" && in.EventBusName != "default" {
		name = in.EventBusName + "/" + name // rootguard's forwarders live on the default bus only
	}
	region := c.region
	if region == "" {
		region = s.opts.Region
	}
	r, ok := s.rules[ruleKey(c.account, region, name)]
	if !ok {
		s.noteError("ResourceNotFoundException")
		writeJSONError(w, APIError{http.StatusBadRequest, "ResourceNotFoundException", fmt.Sprintf("Rule %s does not exist on EventBus default.", name)})
		return
	}
	arn := fmt.Sprintf("arn:aws:events:%s:%s:rule/%s", region, c.account, r.Name)
	if op == "DescribeRule" {
		writeJSON(w, "application/x-amz-json-1.1", map[string]any{
			"Name": r.Name, "Arn": arn, "State": r.State, "EventBusName": "default", "CreatedBy": c.account,
		})
		return
	}
	targets := make([]map[string]string, 0, len(r.Targets))
	for i, t := range r.Targets {
		targets = append(targets, map[string]string{"Id": fmt.Sprintf("Target%d", i), "Arn": t})
	}
	writeJSON(w, "application/x-amz-json-1.1", map[string]any{"Targets": targets})
}

// isRuleRead reports whether an EventBridge operation is one serveRules answers.
func isRuleRead(op string) bool {
	return strings.EqualFold(op, "DescribeRule") || strings.EqualFold(op, "ListTargetsByRule")
}
