package org

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
)

// SnapshotDoc is the documented snapshot format (rules.md, "Organization facts").
type SnapshotDoc struct {
	Organization        Organization `json:"organization"`
	OrganizationalUnits []OU         `json:"organizationalUnits"`
	Accounts            []Account    `json:"accounts"`
	Policies            []Policy     `json:"policies"`
}

// Snapshot is Facts read from a snapshot document. It is immutable after loading and safe for
// concurrent use.
type Snapshot struct {
	doc      SnapshotDoc
	ous      map[string]*OU
	accounts map[string]*Account
	policies map[string]*Policy
	attached map[string][]string // target id -> policy ids
}

// LoadSnapshotFile reads and validates a snapshot file.
func LoadSnapshotFile(path string) (*Snapshot, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("organization snapshot: %w", err)
	}
	defer f.Close()
	s, err := LoadSnapshot(f)
	if err != nil {
		return nil, fmt.Errorf("organization snapshot %s: %w", path, err)
	}
	return s, nil
}

// LoadSnapshot reads and validates a snapshot document.
func LoadSnapshot(r io.Reader) (*Snapshot, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var doc SnapshotDoc
	if err := dec.Decode(&doc); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, fmt.Errorf("%s is a JSON %s where %s belongs", te.Field, te.Value, te.Type)
		}
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("not JSON: %v at byte %d", se, se.Offset)
		}
		return nil, err
	}
	return NewSnapshot(doc)
}

// NewSnapshot validates a snapshot document and indexes it.
func NewSnapshot(doc SnapshotDoc) (*Snapshot, error) {
	s := &Snapshot{
		doc:      doc,
		ous:      map[string]*OU{},
		accounts: map[string]*Account{},
		policies: map[string]*Policy{},
		attached: map[string][]string{},
	}
	o := doc.Organization
	var problems []error
	bad := func(format string, a ...any) { problems = append(problems, fmt.Errorf(format, a...)) }
	if o.RootID == "" {
		bad("organization.rootId is missing")
	} else if TargetKind(o.RootID) != "root" {
		bad("organization.rootId %q is not a root id (r-...)", o.RootID)
	}
	if o.ManagementAccountID != "" && !IsAccountID(o.ManagementAccountID) {
		bad("organization.managementAccountId %q is not a 12-digit account id", o.ManagementAccountID)
	}
	validateTrails(o.Trails, bad)
	for i := range doc.OrganizationalUnits {
		ou := &doc.OrganizationalUnits[i]
		if TargetKind(ou.ID) != "ou" {
			bad("organizationalUnits[%d].id %q is not an OU id (ou-...)", i, ou.ID)
			continue
		}
		if _, dup := s.ous[ou.ID]; dup {
			bad("organizationalUnits[%d].id %q appears twice", i, ou.ID)
		}
		s.ous[ou.ID] = ou
	}
	for i := range doc.Accounts {
		a := &doc.Accounts[i]
		if !IsAccountID(a.ID) {
			bad("accounts[%d].id %q is not a 12-digit account id", i, a.ID)
			continue
		}
		if _, dup := s.accounts[a.ID]; dup {
			bad("accounts[%d].id %q appears twice", i, a.ID)
		}
		s.accounts[a.ID] = a
		if err := checkRecordedOwnership(*a); err != nil {
			bad("accounts[%d] (%s): %v", i, a.ID, err)
		}
	}
	known := func(id string) bool {
		if id == o.RootID {
			return true
		}
		if _, ok := s.ous[id]; ok {
			return true
		}
		_, ok := s.accounts[id]
		return ok
	}
	for i, ou := range doc.OrganizationalUnits {
		if ou.ParentID != o.RootID {
			if _, ok := s.ous[ou.ParentID]; !ok {
				bad("organizationalUnits[%d] (%s): parentId %q is neither the root nor a known OU", i, ou.ID, ou.ParentID)
			}
		}
	}
	for i, a := range doc.Accounts {
		if a.ParentID == "" {
			bad("accounts[%d] (%s): parentId is missing", i, a.ID)
			continue
		}
		if a.ParentID != o.RootID {
			if _, ok := s.ous[a.ParentID]; !ok {
				bad("accounts[%d] (%s): parentId %q is neither the root nor a known OU", i, a.ID, a.ParentID)
			}
		}
	}
	if o.ManagementAccountID != "" && len(s.accounts) > 0 {
		if _, ok := s.accounts[o.ManagementAccountID]; !ok {
			bad("organization.managementAccountId %s is not among the accounts", o.ManagementAccountID)
		}
	}
	for i := range doc.Policies {
		p := &doc.Policies[i]
		if p.ID == "" {
			bad("policies[%d].id is missing", i)
			continue
		}
		if _, dup := s.policies[p.ID]; dup {
			bad("policies[%d].id %q appears twice", i, p.ID)
		}
		s.policies[p.ID] = p
		for _, t := range p.Targets {
			if !known(t) {
				bad("policies[%d] (%s %q): target %q is not the root, an OU or an account of the snapshot", i, p.ID, p.Name, t)
				continue
			}
			if !slices.Contains(s.attached[t], p.ID) {
				s.attached[t] = append(s.attached[t], p.ID)
			}
		}
	}
	// Detect cycles in the OU tree.
	for id := range s.ous {
		seen := map[string]bool{}
		for cur := id; cur != o.RootID; {
			if seen[cur] {
				bad("organizationalUnits: %s is its own ancestor", id)
				break
			}
			seen[cur] = true
			ou, ok := s.ous[cur]
			if !ok {
				break
			}
			cur = ou.ParentID
		}
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	return s, nil
}

// Doc returns the document the snapshot was built from.
func (s *Snapshot) Doc() SnapshotDoc { return s.doc }

// Organization implements Facts.
func (s *Snapshot) Organization() (Organization, error) { return s.doc.Organization, nil }

// Account implements Facts.
func (s *Snapshot) Account(id string) (Account, error) {
	a, ok := s.accounts[id]
	if !ok {
		return Account{}, fmt.Errorf("account %s: %w", id, ErrNotFound)
	}
	return *a, nil
}

// Parents implements Facts.
func (s *Snapshot) Parents(id string) ([]string, error) {
	root := s.doc.Organization.RootID
	var parent string
	if a, ok := s.accounts[id]; ok {
		parent = a.ParentID
	} else if ou, ok := s.ous[id]; ok {
		parent = ou.ParentID
	} else {
		return nil, fmt.Errorf("parents of %s: %w", id, ErrNotFound)
	}
	var chain []string
	for parent != "" {
		chain = append(chain, parent)
		if parent == root {
			return chain, nil
		}
		ou, ok := s.ous[parent]
		if !ok || len(chain) > 10 {
			break
		}
		parent = ou.ParentID
	}
	return chain, nil
}

// PoliciesFor implements Facts.
func (s *Snapshot) PoliciesFor(targetID string) ([]string, error) {
	return slices.Clone(s.attached[targetID]), nil
}

// Policy implements Facts.
func (s *Snapshot) Policy(id string) (Policy, error) {
	p, ok := s.policies[id]
	if !ok {
		return Policy{}, fmt.Errorf("policy %s: %w", id, ErrNotFound)
	}
	return *p, nil
}

// Tags implements Facts.
func (s *Snapshot) Tags(id string) (map[string]string, error) {
	switch {
	case id == s.doc.Organization.RootID:
		return s.doc.Organization.Tags, nil
	case s.ous[id] != nil:
		return s.ous[id].Tags, nil
	case s.accounts[id] != nil:
		return s.accounts[id].Tags, nil
	case s.policies[id] != nil:
		return s.policies[id].Tags, nil
	}
	return nil, fmt.Errorf("tags of %s: %w", id, ErrNotFound)
}

// RootCredentials implements Facts.
func (s *Snapshot) RootCredentials(accountID string) (*RootCredentials, error) {
	a, ok := s.accounts[accountID]
	if !ok {
		return nil, fmt.Errorf("account %s: %w", accountID, ErrNotFound)
	}
	return a.Root, nil
}

// Accounts implements Facts, in id order.
func (s *Snapshot) Accounts() ([]Account, error) {
	out := slices.Clone(s.doc.Accounts)
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Policies implements Facts, in id order.
func (s *Snapshot) Policies() ([]Policy, error) {
	out := slices.Clone(s.doc.Policies)
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Empty is Facts that know nothing: every account's ownership is unknown.
type Empty struct{}

// Organization implements Facts.
func (Empty) Organization() (Organization, error) { return Organization{}, ErrNotFound }

// Account implements Facts.
func (Empty) Account(id string) (Account, error) { return Account{}, ErrNotFound }

// Parents implements Facts.
func (Empty) Parents(id string) ([]string, error) { return nil, ErrNotFound }

// PoliciesFor implements Facts.
func (Empty) PoliciesFor(string) ([]string, error) { return nil, ErrNotFound }

// Policy implements Facts.
func (Empty) Policy(string) (Policy, error) { return Policy{}, ErrNotFound }

// Tags implements Facts.
func (Empty) Tags(string) (map[string]string, error) { return nil, ErrNotFound }

// RootCredentials implements Facts.
func (Empty) RootCredentials(string) (*RootCredentials, error) { return nil, ErrNotFound }

// Accounts implements Facts.
func (Empty) Accounts() ([]Account, error) { return nil, nil }

// Policies implements Facts.
func (Empty) Policies() ([]Policy, error) { return nil, nil }
