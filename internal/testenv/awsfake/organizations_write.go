package awsfake

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/rootguard/rootguard/internal/org"
)

// The Organizations write operations the fake accepts: the calls of rootguard's revert plan.
// They change the fake organization as AWS would, and are recorded in Writes.
var orgsWrites = []string{"AttachPolicy", "UpdatePolicy", "EnablePolicyType", "MoveAccount"}

func isOrgsWrite(op string) bool { return slices.Contains(orgsWrites, op) }

// Write is one successful Organizations write call the fake accepted.
type Write struct {
	// Operation is the API operation (AttachPolicy, ...).
	Operation string
	// Params are the request members the operation read (PolicyId, TargetId, ...).
	Params map[string]string
	// Account is the calling account and Role says whether the call was made with credentials
	// the fake STS issued for AssumeRole.
	Account string
	Role    bool
}

// Writes returns the write calls accepted so far, in order.
func (s *Server) Writes() []Write {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.writes)
}

// orgsWrite answers one write operation and changes the organization. Only an assumed-role
// session in the management account may write (rootguard writes only through its revert role).
// Called with s.mu held.
func (s *Server) orgsWrite(op string, in orgsInput, c caller) (any, *APIError) {
	x := s.idx
	if c.kind != kindRole || c.account != x.mgmt() {
		return nil, &APIError{http.StatusBadRequest, "AccessDeniedException",
			fmt.Sprintf("You don't have permissions to access this resource (organizations:%s by a %s session of %s).", op, c.kind, c.account)}
	}
	doc := cloneDoc(s.doc)
	params := map[string]string{}
	switch op {
	case "AttachPolicy":
		p := findPolicy(&doc, in.PolicyID)
		if p == nil {
			return nil, notFound("PolicyNotFoundException", "We can't find a policy with the PolicyId that you specified.")
		}
		if !x.known(in.TargetID) {
			return nil, notFound("TargetNotFoundException", "We can't find a root, OU, account, or policy with the TargetId that you specified.")
		}
		if policyType(p) == org.PolicyTypeSCP && !x.scpEnabled() {
			return nil, &APIError{http.StatusBadRequest, "PolicyTypeNotEnabledException", "The specified policy type isn't currently enabled in this root."}
		}
		if slices.Contains(p.Targets, in.TargetID) {
			return nil, &APIError{http.StatusBadRequest, "DuplicatePolicyAttachmentException", "The selected policy is already attached to the specified target."}
		}
		p.Targets = append(p.Targets, in.TargetID)
		params["PolicyId"], params["TargetId"] = in.PolicyID, in.TargetID
	case "UpdatePolicy":
		p := findPolicy(&doc, in.PolicyID)
		if p == nil {
			return nil, notFound("PolicyNotFoundException", "We can't find a policy with the PolicyId that you specified.")
		}
		if p.AWSManaged {
			return nil, &APIError{http.StatusBadRequest, "PolicyChangesInProgressException", "An AWS managed policy cannot be changed."}
		}
		params["PolicyId"] = in.PolicyID
		if in.Content != nil {
			c := *in.Content
			p.Content = &c
			params["Content"] = c
		}
		if in.Name != nil {
			p.Name = *in.Name
			params["Name"] = *in.Name
		}
	case "EnablePolicyType":
		if !x.isRoot(in.RootID) {
			return nil, notFound("RootNotFoundException", "We can't find a root with the RootId that you specified.")
		}
		if in.PolicyType != org.PolicyTypeSCP {
			return nil, invalidInput("INVALID_ENUM", "the fake enables only SERVICE_CONTROL_POLICY")
		}
		if x.scpEnabled() {
			return nil, &APIError{http.StatusBadRequest, "PolicyTypeAlreadyEnabledException", "The specified policy type is already enabled."}
		}
		t := true
		doc.Organization.SCPEnabled = &t
		// Enabling SCPs attaches FullAWSAccess to the root, every OU and every account (AWS does).
		for i := range doc.Policies {
			if p := &doc.Policies[i]; p.AWSManaged && p.Name == "FullAWSAccess" {
				p.Targets = []string{doc.Organization.RootID}
				for _, ou := range doc.OrganizationalUnits {
					p.Targets = append(p.Targets, ou.ID)
				}
				for _, a := range doc.Accounts {
					p.Targets = append(p.Targets, a.ID)
				}
			}
		}
		params["RootId"], params["PolicyType"] = in.RootID, in.PolicyType
	case "MoveAccount":
		var a *org.Account
		for i := range doc.Accounts {
			if doc.Accounts[i].ID == in.AccountID {
				a = &doc.Accounts[i]
			}
		}
		if a == nil {
			return nil, notFound("AccountNotFoundException", "You specified an account that doesn't exist.")
		}
		if !x.isRoot(in.DestinationParentID) && x.ous[in.DestinationParentID] == nil {
			return nil, notFound("DestinationParentNotFoundException", "We can't find the destination container (a root or OU) with the ParentId that you specified.")
		}
		if a.ParentID != in.SourceParentID {
			return nil, notFound("SourceParentNotFoundException", "We can't find a source root or OU with the ParentId that you specified.")
		}
		if a.ParentID == in.DestinationParentID {
			return nil, &APIError{http.StatusBadRequest, "DuplicateAccountException", "That account is already present in the specified destination."}
		}
		a.ParentID = in.DestinationParentID
		params["AccountId"], params["SourceParentId"], params["DestinationParentId"] = in.AccountID, in.SourceParentID, in.DestinationParentID
	}
	idx, err := newIndex(doc)
	if err != nil {
		return nil, invalidInput("INVALID_INPUT", err.Error())
	}
	s.doc, s.idx = doc, idx
	s.writes = append(s.writes, Write{Operation: op, Params: params, Account: c.account, Role: c.kind == kindRole})
	if op == "UpdatePolicy" {
		return map[string]any{"Policy": map[string]any{"PolicySummary": s.policySummary(findPolicy(&s.doc, in.PolicyID))}}, nil
	}
	return map[string]any{}, nil
}

func findPolicy(doc *org.SnapshotDoc, id string) *org.Policy {
	for i := range doc.Policies {
		if doc.Policies[i].ID == id {
			return &doc.Policies[i]
		}
	}
	return nil
}

// ResetWrites forgets the write calls recorded so far.
func (s *Server) ResetWrites() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes = nil
}
