package org

import (
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/rootguard/rootguard/internal/cloudtrail"
)

// Overlay is Facts over a base (a snapshot) that applies the effect of each successful
// Organizations event it is shown, so that a replay sees the organization as the events leave
// it: detached and attached policies, renamed or rewritten policies (remembered after deletion),
// the SCP policy type state, tags, moved, created, joined and departed accounts, root emails. It is not safe for
// concurrent use.
type Overlay struct {
	base       Facts
	scpEnabled *bool
	parents    map[string]string          // account -> new parent
	attached   map[string]map[string]bool // target -> policy -> attached (true) / detached (false)
	policies   map[string]Policy          // updated policies
	deleted    map[string]bool
	added      map[string]Account // accounts that joined
	gone       map[string]bool    // accounts that left
	scpCleared bool               // every SCP attachment lost (DisablePolicyType)

	// owners: root email changes and recorded ownership (ownership.go).
	owners map[string]*ownerState
	// tags: resource -> key -> value set (nil: removed); see overlay_tags.go.
	tags map[string]map[string]*string
}

// NewOverlay returns an overlay over base.
func NewOverlay(base Facts) *Overlay {
	return &Overlay{
		base:     base,
		parents:  map[string]string{},
		attached: map[string]map[string]bool{},
		policies: map[string]Policy{},
		deleted:  map[string]bool{},
		added:    map[string]Account{},
		gone:     map[string]bool{},
	}
}

// Apply records the effect of one event on the organization (ChangeOf). Failed calls change
// nothing.
func (o *Overlay) Apply(ev *cloudtrail.Event) {
	c := ChangeOf(ev)
	switch c.Kind {
	case PolicyDetached:
		o.setAttached(c.Target, c.Policy, false)
	case PolicyAttached:
		o.setAttached(c.Target, c.Policy, true)
	case PolicyDeleted:
		o.deleted[c.Policy] = true
	case PolicyUpdated:
		pol, err := o.Policy(c.Policy)
		if err != nil {
			pol = Policy{ID: c.Policy, Type: PolicyTypeSCP}
		}
		if c.Name != "" {
			pol.Name = c.Name
		}
		if c.Content != nil && *c.Content != "" {
			pol.Content = c.Content
		}
		o.policies[pol.ID] = pol
	case PolicyCreated:
		o.policies[c.Policy] = c.Created
		delete(o.deleted, c.Policy)
	case PolicyTypeDisabled:
		if c.PolicyType == PolicyTypeSCP {
			f := false
			o.scpEnabled = &f
			o.scpCleared = true
			o.attached = map[string]map[string]bool{}
		}
	case PolicyTypeEnabled:
		if c.PolicyType == PolicyTypeSCP {
			t := true
			o.scpEnabled = &t
		}
	case ResourceTagged, ResourceUntagged:
		o.applyTags(c)
	case AccountMoved:
		o.parents[c.Account] = c.Destination
	case AccountLeft:
		o.gone[c.Account] = true
	case AccountJoined:
		o.join(c.Account, c.AccountName, c.Parent)
	case RootEmailChanged:
		o.applyEmail(c.Email)
	}
}

func (o *Overlay) join(id, name, parent string) {
	if id == "" {
		return
	}
	delete(o.gone, id)
	if _, err := o.base.Account(id); err == nil {
		if parent != "" {
			o.parents[id] = parent
		}
		return
	}
	if parent == "" {
		if org, err := o.base.Organization(); err == nil {
			parent = org.RootID
		}
	}
	o.added[id] = Account{ID: id, Name: name, ParentID: parent}
}

func (o *Overlay) setAttached(target, policy string, on bool) {
	if target == "" || policy == "" {
		return
	}
	m := o.attached[target]
	if m == nil {
		m = map[string]bool{}
		o.attached[target] = m
	}
	m[policy] = on
}

// Organization implements Facts.
func (o *Overlay) Organization() (Organization, error) {
	org, err := o.base.Organization()
	if err != nil {
		return org, err
	}
	if o.scpEnabled != nil {
		v := *o.scpEnabled
		org.SCPEnabled = &v
	}
	return org, nil
}

// Account implements Facts.
func (o *Overlay) Account(id string) (Account, error) {
	if o.gone[id] {
		return Account{}, fmt.Errorf("account %s left the organization: %w", id, ErrNotFound)
	}
	if a, ok := o.added[id]; ok {
		if p, ok := o.parents[id]; ok {
			a.ParentID = p
		}
		return o.withOwner(a), nil
	}
	a, err := o.base.Account(id)
	if err == nil {
		if p, ok := o.parents[id]; ok {
			a.ParentID = p
		}
		a = o.withOwner(a)
	}
	return a, err
}

// Parents implements Facts.
func (o *Overlay) Parents(id string) ([]string, error) {
	if o.gone[id] {
		return nil, fmt.Errorf("parents of %s: left the organization: %w", id, ErrNotFound)
	}
	parent, moved := o.parents[id]
	if a, ok := o.added[id]; ok && !moved {
		parent, moved = a.ParentID, true
	}
	if !moved {
		return o.base.Parents(id)
	}
	org, err := o.base.Organization()
	if err != nil {
		return nil, err
	}
	if parent == org.RootID {
		return []string{parent}, nil
	}
	up, err := o.base.Parents(parent)
	if err != nil {
		return nil, err
	}
	return append([]string{parent}, up...), nil
}

// PoliciesFor implements Facts.
func (o *Overlay) PoliciesFor(target string) ([]string, error) {
	base, err := o.base.PoliciesFor(target)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	var ids []string
	for _, id := range base {
		// DisablePolicyType loses every SCP attachment; other policy types keep theirs.
		if o.scpCleared {
			if p, err := o.Policy(id); err != nil || p.Type == "" || p.Type == PolicyTypeSCP {
				continue
			}
		}
		ids = append(ids, id)
	}
	for id, on := range o.attached[target] {
		if on && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	ids = slices.DeleteFunc(ids, func(id string) bool {
		on, set := o.attached[target][id]
		return o.deleted[id] || (set && !on)
	})
	sort.Strings(ids)
	return ids, nil
}

// Policy implements Facts; a deleted policy is still known.
func (o *Overlay) Policy(id string) (Policy, error) {
	if p, ok := o.policies[id]; ok {
		return p, nil
	}
	return o.base.Policy(id)
}

// Tags implements Facts.
func (o *Overlay) Tags(id string) (map[string]string, error) {
	if _, ok := o.added[id]; ok {
		return o.withTags(id, nil), nil
	}
	base, err := o.base.Tags(id)
	if err != nil && o.tags[id] == nil {
		return nil, err
	}
	return o.withTags(id, base), nil
}

// RootCredentials implements Facts.
func (o *Overlay) RootCredentials(id string) (*RootCredentials, error) {
	if o.gone[id] {
		return nil, fmt.Errorf("account %s: %w", id, ErrNotFound)
	}
	if _, ok := o.added[id]; ok {
		return nil, nil
	}
	return o.base.RootCredentials(id)
}

// Accounts implements Facts.
func (o *Overlay) Accounts() ([]Account, error) {
	base, err := o.base.Accounts()
	if err != nil {
		return nil, err
	}
	var out []Account
	for _, a := range base {
		if o.gone[a.ID] {
			continue
		}
		if p, ok := o.parents[a.ID]; ok {
			a.ParentID = p
		}
		out = append(out, o.withOwner(a))
	}
	for _, a := range o.added {
		if !o.gone[a.ID] {
			out = append(out, o.withOwner(a))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Policies implements Facts: deleted policies are left out; targets reflect the attachments.
func (o *Overlay) Policies() ([]Policy, error) {
	base, err := o.base.Policies()
	if err != nil {
		return nil, err
	}
	var out []Policy
	seen := map[string]bool{}
	for _, p := range base {
		seen[p.ID] = true
		if o.deleted[p.ID] {
			continue
		}
		if u, ok := o.policies[p.ID]; ok {
			u.Targets, u.Tags, u.AWSManaged = p.Targets, p.Tags, p.AWSManaged
			p = u
		}
		out = append(out, p)
	}
	for id, p := range o.policies {
		if !seen[id] && !o.deleted[id] {
			out = append(out, p)
		}
	}
	for i := range out {
		out[i].Targets = o.targets(out[i])
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (o *Overlay) targets(p Policy) []string {
	var ts []string
	if !o.scpCleared || p.Type != PolicyTypeSCP {
		for _, t := range p.Targets {
			if on, set := o.attached[t][p.ID]; set && !on {
				continue
			}
			ts = append(ts, t)
		}
	}
	for t, m := range o.attached {
		if m[p.ID] && !slices.Contains(ts, t) {
			ts = append(ts, t)
		}
	}
	sort.Strings(ts)
	return ts
}
