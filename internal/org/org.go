// Package org holds the organization facts the rules read: the management account, account
// emails, the OU tree, SCP attachments and content, root credential state and tags. Facts is the
// interface; Snapshot implements it from the documented JSON snapshot format, and the live
// implementation reads the same facts from AWS.
package org

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ErrNotFound: the organization facts do not know the id (not an error of reading them).
var ErrNotFound = errors.New("not in the organization facts")

// PolicyTypeSCP is the Organizations policy type of service control policies.
const PolicyTypeSCP = "SERVICE_CONTROL_POLICY"

// Facts is what the rules know of the organization. Every method returns ErrNotFound (wrapped
// or not) when the organization has no such thing, and another error when the facts could not
// be read; the rules then fail closed.
type Facts interface {
	// Organization returns the organization's id, management account, root and SCP state.
	Organization() (Organization, error)
	// Account returns one account.
	Account(id string) (Account, error)
	// Parents returns the chain of parents of an account or OU, nearest first, ending with the root id.
	Parents(id string) ([]string, error)
	// PoliciesFor returns the ids of the SCPs attached directly to a root, OU or account.
	PoliciesFor(targetID string) ([]string, error)
	// Policy returns one policy, also after it was deleted or renamed when the facts remember it.
	Policy(id string) (Policy, error)
	// Tags returns the tags of a root, OU, account or policy.
	Tags(id string) (map[string]string, error)
	// RootCredentials returns the root user's credential state read inside the account; nil with
	// no error when it is unknown (the snapshot's null).
	RootCredentials(accountID string) (*RootCredentials, error)
	// Accounts lists every account (for the audit).
	Accounts() ([]Account, error)
	// Policies lists every SCP (for the audit).
	Policies() ([]Policy, error)
}

// Organization is the organization-level facts.
type Organization struct {
	ID                  string            `json:"id"`
	ManagementAccountID string            `json:"managementAccountId"`
	RootID              string            `json:"rootId"`
	SCPEnabled          *bool             `json:"scpEnabled"`
	Tags                map[string]string `json:"tags"`
	// Features are the organization's IAM features (iam:ListOrganizationsFeatures), such as
	// RootCredentialsManagement; nil (null or absent) when unknown.
	Features []string `json:"features,omitzero"`
	// Trails are the management account's CloudTrail trails; nil (null or absent) when unknown.
	Trails []Trail `json:"trails,omitzero"`
}

// OU is an organizational unit.
type OU struct {
	ID       string            `json:"id"`
	Name     string            `json:"name"`
	ParentID string            `json:"parentId"`
	Tags     map[string]string `json:"tags"`
}

// Account is a member or management account.
type Account struct {
	ID       string            `json:"id"`
	Name     string            `json:"name"`
	Email    *string           `json:"email"`
	ParentID string            `json:"parentId"`
	Root     *RootCredentials  `json:"rootCredentials"`
	Tags     map[string]string `json:"tags"`
	// RecordedOwnership is the ownership rootguard last recorded for the account (live: the state
	// table; snapshot: `recordedOwnership`): "stax-owned", "customer-owned", or "" when unknown.
	// Ownership is sticky: the rules use the strictest of it and the current root email.
	RecordedOwnership string `json:"recordedOwnership,omitempty"`
	// RootEmailChangedAt is when rootguard saw the root email move off the Stax-managed domains
	// while the recorded ownership stayed stax-owned (RFC 3339; "" when it did not).
	RootEmailChangedAt string `json:"rootEmailChangedAt,omitempty"`
}

// EmailAddress returns the root email, "" when unknown.
func (a Account) EmailAddress() string {
	if a.Email == nil {
		return ""
	}
	return *a.Email
}

// RootCredentials is the root user's credential state read inside the account. A nil field is
// explicitly unknown (null); an omitted field counts as false.
type RootCredentials struct {
	MFAEnabled                 *bool `json:"mfaEnabled"`
	PasswordPresent            *bool `json:"passwordPresent"`
	AccessKeysPresent          *bool `json:"accessKeysPresent"`
	SigningCertificatesPresent *bool `json:"signingCertificatesPresent"`
}

// Policy is an Organizations policy.
type Policy struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	Type       string            `json:"type"`
	AWSManaged bool              `json:"awsManaged"`
	Content    *string           `json:"content"`
	Targets    []string          `json:"targets"`
	Tags       map[string]string `json:"tags"`
}

// ContentText returns the policy document, "" when unknown.
func (p Policy) ContentText() string {
	if p.Content == nil {
		return ""
	}
	return *p.Content
}

// TargetKind classifies an Organizations id by its prefix: "root", "ou", "account" or "".
func TargetKind(id string) string {
	switch {
	case strings.HasPrefix(id, "r-"):
		return "root"
	case strings.HasPrefix(id, "ou-"):
		return "ou"
	case isAccountID(id):
		return "account"
	}
	return ""
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// IsAccountID reports whether s is a 12-digit AWS account id.
func IsAccountID(s string) bool { return isAccountID(s) }

// UnmarshalJSON reads a rootCredentials object: an omitted field counts as false, an explicit
// null as unknown.
func (r *RootCredentials) UnmarshalJSON(data []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	f := false
	*r = RootCredentials{}
	for name, dst := range map[string]**bool{
		"mfaEnabled":                 &r.MFAEnabled,
		"passwordPresent":            &r.PasswordPresent,
		"accessKeysPresent":          &r.AccessKeysPresent,
		"signingCertificatesPresent": &r.SigningCertificatesPresent,
	} {
		raw, ok := m[name]
		if !ok {
			v := f
			*dst = &v
			continue
		}
		if string(raw) == "null" {
			continue
		}
		var b bool
		if err := json.Unmarshal(raw, &b); err != nil {
			return fmt.Errorf("rootCredentials.%s: %s is not a boolean", name, raw)
		}
		*dst = &b
	}
	return nil
}
