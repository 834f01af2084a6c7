package awsfake

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/rootguard/rootguard/internal/org"
)

const orgsTargetPrefix = "AWSOrganizationsV20161128."

// joined is the JoinedTimestamp every fake account reports (2020-01-01T00:00:00Z).
const joined = 1577836800

// orgsInput is the union of the request members the fake reads (AWS JSON 1.1 member names).
type orgsInput struct {
	AccountID  string `json:"AccountId"`
	ChildID    string `json:"ChildId"`
	ParentID   string `json:"ParentId"`
	ChildType  string `json:"ChildType"`
	TargetID   string `json:"TargetId"`
	PolicyID   string `json:"PolicyId"`
	OUID       string `json:"OrganizationalUnitId"`
	ResourceID string `json:"ResourceId"`
	Filter     string `json:"Filter"`
	NextToken  string `json:"NextToken"`
	MaxResults int    `json:"MaxResults"`
	// The write operations' members (AttachPolicy, UpdatePolicy, EnablePolicyType, MoveAccount).
	Content             *string `json:"Content"`
	Name                *string `json:"Name"`
	RootID              string  `json:"RootId"`
	PolicyType          string  `json:"PolicyType"`
	SourceParentID      string  `json:"SourceParentId"`
	DestinationParentID string  `json:"DestinationParentId"`
}

func (s *Server) serveOrganizations(w http.ResponseWriter, r *http.Request) {
	c := s.callerOf(r)
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), orgsTargetPrefix)
	body, _ := io.ReadAll(r.Body)
	if ok && !s.wait(r, Organizations, op) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !ok || r.Method != http.MethodPost {
		s.admit(Organizations, "Unknown", c)
		s.noteError("UnknownOperationException")
		writeJSONError(w, APIError{http.StatusBadRequest, "UnknownOperationException", "unknown target " + r.Header.Get("X-Amz-Target")})
		return
	}
	if e := s.admit(Organizations, op, c); e != nil {
		writeJSONError(w, *e)
		return
	}
	var in orgsInput
	if len(body) > 0 {
		if err := json.Unmarshal(body, &in); err != nil {
			s.noteError("SerializationException")
			writeJSONError(w, APIError{http.StatusBadRequest, "SerializationException", err.Error()})
			return
		}
	}
	var out any
	var apiErr *APIError
	if isOrgsWrite(op) {
		out, apiErr = s.orgsWrite(op, in, c)
	} else {
		out, apiErr = s.orgsOperation(op, in)
	}
	if apiErr != nil {
		s.noteError(apiErr.Code)
		writeJSONError(w, *apiErr)
		return
	}
	writeJSON(w, "application/x-amz-json-1.1", out)
}

// orgsOperation answers one Organizations operation from the index. Called with s.mu held.
func (s *Server) orgsOperation(op string, in orgsInput) (any, *APIError) {
	x := s.idx
	switch op {
	case "DescribeOrganization":
		o := map[string]any{
			"Id":               x.org.ID,
			"Arn":              fmt.Sprintf("arn:aws:organizations::%s:organization/%s", x.mgmt(), x.org.ID),
			"FeatureSet":       "ALL",
			"MasterAccountId":  x.mgmt(),
			"MasterAccountArn": x.accountARN(x.mgmt()),
		}
		if a := x.accounts[x.mgmt()]; a != nil && a.Email != nil {
			o["MasterAccountEmail"] = *a.Email
		}
		return map[string]any{"Organization": o}, nil

	case "DescribeAccount":
		a := x.accounts[in.AccountID]
		if a == nil {
			return nil, notFound("AccountNotFoundException", "You specified an account that doesn't exist.")
		}
		return map[string]any{"Account": s.accountJSON(a)}, nil

	case "ListAccounts":
		items := make([]any, 0, len(x.accOrder))
		for _, id := range x.accOrder {
			items = append(items, s.accountJSON(x.accounts[id]))
		}
		return s.page(op, "", in, "Accounts", items)

	case "ListRoots":
		root := map[string]any{
			"Id":          x.org.RootID,
			"Arn":         x.rootARN(),
			"Name":        "Root",
			"PolicyTypes": []any{},
		}
		var enabled []any
		for _, typ := range x.policyTypes() {
			enabled = append(enabled, map[string]any{"Type": typ, "Status": "ENABLED"})
		}
		if enabled != nil {
			root["PolicyTypes"] = enabled
		}
		return s.page(op, "", in, "Roots", []any{root})

	case "ListParents":
		if x.isRoot(in.ChildID) || !x.known(in.ChildID) {
			return nil, notFound("ChildNotFoundException", "We can't find an organizational unit (OU) or AWS account with the ChildId that you specified.")
		}
		parent := x.parentOf(in.ChildID)
		typ := "ORGANIZATIONAL_UNIT"
		if x.isRoot(parent) {
			typ = "ROOT"
		}
		return s.page(op, in.ChildID, in, "Parents", []any{map[string]any{"Id": parent, "Type": typ}})

	case "ListChildren":
		if !x.isRoot(in.ParentID) && x.ous[in.ParentID] == nil {
			return nil, notFound("ParentNotFoundException", "We can't find a root or OU with the ParentId that you specified.")
		}
		var ids []string
		var typ string
		switch in.ChildType {
		case "ACCOUNT":
			ids, typ = x.childAcc[in.ParentID], "ACCOUNT"
		case "ORGANIZATIONAL_UNIT":
			ids, typ = x.childOUs[in.ParentID], "ORGANIZATIONAL_UNIT"
		default:
			return nil, invalidInput("INVALID_ENUM", "ChildType must be ACCOUNT or ORGANIZATIONAL_UNIT")
		}
		items := make([]any, 0, len(ids))
		for _, id := range ids {
			items = append(items, map[string]any{"Id": id, "Type": typ})
		}
		return s.page(op, in.ParentID+"|"+in.ChildType, in, "Children", items)

	case "DescribeOrganizationalUnit":
		ou := x.ous[in.OUID]
		if ou == nil {
			return nil, notFound("OrganizationalUnitNotFoundException", "We can't find an OU with the OrganizationalUnitId that you specified.")
		}
		m := map[string]any{"Id": ou.ID, "Arn": x.ouARN(ou.ID), "Name": ou.Name}
		if !s.opts.NoPaths {
			m["Path"] = x.path(ou.ID)
		}
		return map[string]any{"OrganizationalUnit": m}, nil

	case "ListOrganizationalUnitsForParent":
		if !x.isRoot(in.ParentID) && x.ous[in.ParentID] == nil {
			return nil, notFound("ParentNotFoundException", "We can't find a root or OU with the ParentId that you specified.")
		}
		items := make([]any, 0)
		for _, id := range x.childOUs[in.ParentID] {
			ou := x.ous[id]
			m := map[string]any{"Id": ou.ID, "Arn": x.ouARN(ou.ID), "Name": ou.Name}
			if !s.opts.NoPaths {
				m["Path"] = x.path(ou.ID)
			}
			items = append(items, m)
		}
		return s.page(op, in.ParentID, in, "OrganizationalUnits", items)

	case "ListPoliciesForTarget":
		if in.Filter == "" {
			return nil, invalidInput("MISSING_REQUIRED_PARAMETER", "Filter is required")
		}
		if !x.known(in.TargetID) {
			return nil, notFound("TargetNotFoundException", "We can't find a root, OU, account, or policy with the TargetId that you specified.")
		}
		items := make([]any, 0)
		for _, id := range x.attached[in.TargetID] {
			if p := x.policies[id]; policyType(p) == in.Filter {
				items = append(items, s.policySummary(p))
			}
		}
		return s.page(op, in.TargetID+"|"+in.Filter, in, "Policies", items)

	case "ListPolicies":
		if in.Filter == "" {
			return nil, invalidInput("MISSING_REQUIRED_PARAMETER", "Filter is required")
		}
		items := make([]any, 0)
		for _, id := range x.polOrder {
			if p := x.policies[id]; policyType(p) == in.Filter {
				items = append(items, s.policySummary(p))
			}
		}
		return s.page(op, in.Filter, in, "Policies", items)

	case "DescribePolicy":
		p := x.policies[in.PolicyID]
		if p == nil {
			return nil, notFound("PolicyNotFoundException", "We can't find a policy with the PolicyId that you specified.")
		}
		pol := map[string]any{"PolicySummary": s.policySummary(p)}
		if p.Content != nil {
			pol["Content"] = *p.Content
		}
		return map[string]any{"Policy": pol}, nil

	case "ListTargetsForPolicy":
		p := x.policies[in.PolicyID]
		if p == nil {
			return nil, notFound("PolicyNotFoundException", "We can't find a policy with the PolicyId that you specified.")
		}
		items := make([]any, 0, len(p.Targets))
		for _, t := range p.Targets {
			items = append(items, s.targetSummary(t))
		}
		return s.page(op, in.PolicyID, in, "Targets", items)

	case "ListTagsForResource":
		var tags map[string]string
		switch {
		case x.isRoot(in.ResourceID):
			tags = x.org.Tags
		case x.ous[in.ResourceID] != nil:
			tags = x.ous[in.ResourceID].Tags
		case x.accounts[in.ResourceID] != nil:
			tags = x.accounts[in.ResourceID].Tags
		case x.policies[in.ResourceID] != nil:
			tags = x.policies[in.ResourceID].Tags
		default:
			return nil, notFound("TargetNotFoundException", "We can't find a root, OU, account, or policy with the TargetId that you specified.")
		}
		keys := make([]string, 0, len(tags))
		for k := range tags {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		items := make([]any, 0, len(keys))
		for _, k := range keys {
			items = append(items, map[string]any{"Key": k, "Value": tags[k]})
		}
		return s.page(op, in.ResourceID, in, "Tags", items)
	}
	return nil, &APIError{http.StatusBadRequest, "UnknownOperationException", "The fake does not implement " + op}
}

func (s *Server) accountJSON(a *org.Account) map[string]any {
	m := map[string]any{
		"Id":              a.ID,
		"Arn":             s.idx.accountARN(a.ID),
		"Name":            a.Name,
		"Status":          "ACTIVE",
		"State":           "ACTIVE",
		"JoinedMethod":    "CREATED",
		"JoinedTimestamp": joined,
	}
	if !s.opts.NoPaths {
		m["Paths"] = []string{s.idx.path(a.ID)}
	}
	if a.ID == s.idx.mgmt() {
		m["JoinedMethod"] = "INVITED"
	}
	if a.Email != nil {
		m["Email"] = *a.Email
	}
	return m
}

func (s *Server) policySummary(p *org.Policy) map[string]any {
	return map[string]any{
		"Id":          p.ID,
		"Arn":         s.idx.policyARN(p),
		"Name":        p.Name,
		"Description": "",
		"Type":        policyType(p),
		"AwsManaged":  p.AWSManaged,
	}
}

func (s *Server) targetSummary(id string) map[string]any {
	x := s.idx
	switch {
	case x.isRoot(id):
		return map[string]any{"TargetId": id, "Arn": x.rootARN(), "Name": "Root", "Type": "ROOT"}
	case x.ous[id] != nil:
		return map[string]any{"TargetId": id, "Arn": x.ouARN(id), "Name": x.ous[id].Name, "Type": "ORGANIZATIONAL_UNIT"}
	}
	name := ""
	if a := x.accounts[id]; a != nil {
		name = a.Name
	}
	return map[string]any{"TargetId": id, "Arn": x.accountARN(id), "Name": name, "Type": "ACCOUNT"}
}

// page answers one page of a List operation. The token names the operation and its key
// parameters, so a token replayed on another request is refused as AWS does.
func (s *Server) page(op, key string, in orgsInput, member string, items []any) (any, *APIError) {
	size := s.opts.PageSize
	if in.MaxResults > 0 && in.MaxResults < size {
		size = in.MaxResults
	}
	start := 0
	if in.NextToken != "" {
		raw, err := base64.RawURLEncoding.DecodeString(in.NextToken)
		prefix := op + "|" + key + "|"
		if err != nil || !strings.HasPrefix(string(raw), prefix) {
			return nil, invalidInput("INVALID_PAGINATION_TOKEN", "You specified an invalid value for the NextToken parameter.")
		}
		n, err := strconv.Atoi(strings.TrimPrefix(string(raw), prefix))
		if err != nil || n < 0 || n > len(items) {
			return nil, invalidInput("INVALID_PAGINATION_TOKEN", "You specified an invalid value for the NextToken parameter.")
		}
		start = n
	}
	end := min(start+size, len(items))
	out := map[string]any{member: slices.Clone(items[start:end])}
	if end < len(items) {
		out["NextToken"] = base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%s|%s|%d", op, key, end))
	}
	return out, nil
}

func notFound(code, msg string) *APIError {
	return &APIError{http.StatusBadRequest, code, msg}
}

// invalidInput is Organizations' InvalidInputException; reason is one of its Reason values.
func invalidInput(reason, msg string) *APIError {
	return &APIError{http.StatusBadRequest, "InvalidInputException", msg + " (" + reason + ")"}
}

// writeJSONError writes an AWS JSON protocol error: the type in __type and X-Amzn-ErrorType.
func writeJSONError(w http.ResponseWriter, e APIError) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-RequestId", requestID())
	w.Header().Set("X-Amzn-ErrorType", e.Code)
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": e.Code, "Message": e.Message})
}

func writeJSON(w http.ResponseWriter, contentType string, v any) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Amzn-RequestId", requestID())
	_ = json.NewEncoder(w).Encode(v)
}
