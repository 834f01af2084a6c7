package org

import (
	"encoding/json"

	"github.com/rootguard/rootguard/internal/cloudtrail"
)

// ChangeKind is what an event did to the organization.
type ChangeKind uint8

// The changes an event can make. Each names its ids in Change's fields, as listed.
const (
	// NoChange: the event changed nothing rootguard knows of the organization (any other event, a
	// failed call, an account creation that did not succeed).
	NoChange ChangeKind = iota
	// PolicyAttached: AttachPolicy (Policy, Target).
	PolicyAttached
	// PolicyDetached: DetachPolicy (Policy, Target).
	PolicyDetached
	// PolicyCreated: CreatePolicy (Created; Policy is its id).
	PolicyCreated
	// PolicyUpdated: UpdatePolicy (Policy, Name, Content).
	PolicyUpdated
	// PolicyDeleted: DeletePolicy (Policy).
	PolicyDeleted
	// PolicyTypeEnabled: EnablePolicyType (PolicyType).
	PolicyTypeEnabled
	// PolicyTypeDisabled: DisablePolicyType (PolicyType).
	PolicyTypeDisabled
	// AccountMoved: MoveAccount (Account, Source, Destination).
	AccountMoved
	// AccountJoined: a successful CreateAccountResult, a successful Control Tower
	// CreateManagedAccount (Parent: its OU), AcceptHandshake (the account that accepted). Account,
	// AccountName when the event says. InviteAccountToOrganization changes nothing: the account
	// joins when it accepts.
	AccountJoined
	// AccountLeft: RemoveAccountFromOrganization, LeaveOrganization (the account that left).
	AccountLeft
	// AccountClosed: Organizations CloseAccount (Account). A closed account stays a (suspended)
	// member until AWS removes it, so the replay keeps it; the live facts read it again.
	AccountClosed
	// OUDeleted: DeleteOrganizationalUnit (OU).
	OUDeleted
	// ResourceTagged: Organizations TagResource (Resource, Tags).
	ResourceTagged
	// ResourceUntagged: Organizations UntagResource (Resource, TagKeys).
	ResourceUntagged
	// RootEmailChanged: Account Management StartPrimaryEmailUpdate (requested) or
	// AcceptPrimaryEmailUpdate (done) (Email; Account is Email.AccountID).
	RootEmailChanged
)

var kindNames = [...]string{"NoChange", "PolicyAttached", "PolicyDetached", "PolicyCreated", "PolicyUpdated",
	"PolicyDeleted", "PolicyTypeEnabled", "PolicyTypeDisabled", "AccountMoved", "AccountJoined", "AccountLeft",
	"AccountClosed", "OUDeleted", "ResourceTagged", "ResourceUntagged", "RootEmailChanged"}

func (k ChangeKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "ChangeKind(?)"
}

// Tag is one tag a TagResource sets.
type Tag struct {
	Key, Value string
}

// Change is one event's effect on the organization, with the ids it names. An id the event does
// not carry is "": the readers of a change ignore what names nothing.
type Change struct {
	Kind ChangeKind
	// Account is the account moved, joined, left, closed or whose root email changes.
	Account string
	// AccountName is the joined account's name when the event gives it ("****" redacted is "").
	AccountName string
	// Policy and Target: the policy attached, detached, created, updated or deleted, and the
	// root, OU or account it was attached to or detached from.
	Policy, Target string
	// Created is the policy CreatePolicy made (CreatedPolicy).
	Created Policy
	// Name is UpdatePolicy's new name ("" when unchanged); Content its new content, nil when
	// the request carries none.
	Name    string
	Content *string
	// PolicyType is Enable/DisablePolicyType's policyType, "" when the request has none.
	PolicyType string
	// Source and Destination are MoveAccount's parents; Parent is the OU a Control Tower
	// account was created in.
	Source, Destination, Parent string
	// OU is the deleted organizational unit.
	OU string
	// Resource is the tagged or untagged root, OU, account or policy; Tags the tags set, in
	// request order; TagKeys the keys removed.
	Resource string
	Tags     []Tag
	TagKeys  []string
	// Email is the root email change.
	Email EmailChange
}

// ChangeEvent is an event that can change the organization, and the kind of change it makes.
type ChangeEvent struct {
	EventSource, EventName string
	Kind                   ChangeKind
}

// reader reads one event's change into c; false when the event changed nothing.
type reader struct {
	ChangeEvent
	read func(ev *cloudtrail.Event, c *Change) bool
}

func orgs(name string, kind ChangeKind, read func(ev *cloudtrail.Event, c *Change) bool) reader {
	return reader{ChangeEvent{cloudtrail.SourceOrganizations, name, kind}, read}
}

// readers are every event ChangeOf reads, in one place.
var readers = []reader{
	orgs("AttachPolicy", PolicyAttached, attachment),
	orgs("DetachPolicy", PolicyDetached, attachment),
	orgs("CreatePolicy", PolicyCreated, func(ev *cloudtrail.Event, c *Change) bool {
		p, ok := CreatedPolicy(ev)
		c.Created, c.Policy = p, p.ID
		return ok
	}),
	orgs("UpdatePolicy", PolicyUpdated, func(ev *cloudtrail.Event, c *Change) bool {
		c.Policy, c.Name = ev.Param("policyId"), ev.Param("name")
		if ev.HasParam("content") {
			v := ev.Param("content")
			c.Content = &v
		}
		return true
	}),
	orgs("DeletePolicy", PolicyDeleted, func(ev *cloudtrail.Event, c *Change) bool {
		c.Policy = ev.Param("policyId")
		return true
	}),
	orgs("EnablePolicyType", PolicyTypeEnabled, policyType),
	orgs("DisablePolicyType", PolicyTypeDisabled, policyType),
	orgs("MoveAccount", AccountMoved, func(ev *cloudtrail.Event, c *Change) bool {
		c.Account, c.Source, c.Destination = ev.Param("accountId"), ev.Param("sourceParentId"), ev.Param("destinationParentId")
		return true
	}),
	orgs("CreateAccountResult", AccountJoined, func(ev *cloudtrail.Event, c *Change) bool {
		d := ev.ServiceEventDetails
		if d == nil || d.CreateAccountStatus == nil || d.CreateAccountStatus.State != "SUCCEEDED" {
			return false
		}
		c.Account, c.AccountName = d.CreateAccountStatus.AccountID, d.CreateAccountStatus.AccountName
		return true
	}),
	orgs("AcceptHandshake", AccountJoined, recorder),
	orgs("RemoveAccountFromOrganization", AccountLeft, accountParam),
	orgs("LeaveOrganization", AccountLeft, recorder),
	orgs("CloseAccount", AccountClosed, accountParam),
	orgs("DeleteOrganizationalUnit", OUDeleted, func(ev *cloudtrail.Event, c *Change) bool {
		c.OU = ev.Param("organizationalUnitId")
		return true
	}),
	orgs("TagResource", ResourceTagged, func(ev *cloudtrail.Event, c *Change) bool {
		c.Resource = ev.Param("resourceId")
		var tags []struct {
			Key   string `json:"key"`
			Value string `json:"value"`
		}
		if json.Unmarshal(ev.RequestParameters["tags"], &tags) == nil {
			for _, t := range tags {
				c.Tags = append(c.Tags, Tag{Key: t.Key, Value: t.Value})
			}
		}
		return true
	}),
	orgs("UntagResource", ResourceUntagged, func(ev *cloudtrail.Event, c *Change) bool {
		c.Resource = ev.Param("resourceId")
		_ = json.Unmarshal(ev.RequestParameters["tagKeys"], &c.TagKeys) // not a list: no key removed
		return true
	}),
	{ChangeEvent{cloudtrail.SourceControlTower, "CreateManagedAccount", AccountJoined}, func(ev *cloudtrail.Event, c *Change) bool {
		d := ev.ServiceEventDetails
		if d == nil || d.CreateManagedAccountStatus == nil || d.CreateManagedAccountStatus.State != "SUCCEEDED" {
			return false
		}
		s := d.CreateManagedAccountStatus
		if s.Account != nil {
			c.Account, c.AccountName = s.Account.ID, s.Account.Name
		}
		if s.OrganizationalUnit != nil {
			c.Parent = s.OrganizationalUnit.ID
		}
		return true
	}},
	{ChangeEvent{cloudtrail.SourceAccount, "StartPrimaryEmailUpdate", RootEmailChanged}, emailChange},
	{ChangeEvent{cloudtrail.SourceAccount, "AcceptPrimaryEmailUpdate", RootEmailChanged}, emailChange},
}

func attachment(ev *cloudtrail.Event, c *Change) bool {
	c.Policy, c.Target = ev.Param("policyId"), ev.Param("targetId")
	return true
}

func policyType(ev *cloudtrail.Event, c *Change) bool {
	c.PolicyType = ev.Param("policyType")
	return true
}

func accountParam(ev *cloudtrail.Event, c *Change) bool {
	c.Account = ev.Param("accountId")
	return true
}

// recorder: the account that made the call (it accepted the invitation, or left).
func recorder(ev *cloudtrail.Event, c *Change) bool {
	c.Account = ev.AccountID()
	return true
}

func emailChange(ev *cloudtrail.Event, c *Change) bool {
	e, ok := EmailChangeOf(ev)
	c.Email, c.Account = e, e.AccountID
	return ok
}

// ChangeOf reads what an event did to the organization: the one interpretation of
// Organizations, Control Tower and Account Management events that the replay's overlay, the live
// facts' invalidation, onboarding and the functions share. A failed call changes nothing.
func ChangeOf(ev *cloudtrail.Event) Change {
	if ev == nil || ev.Failed() {
		return Change{}
	}
	for _, r := range readers {
		if r.EventSource != ev.EventSource || r.EventName != ev.EventName {
			continue
		}
		c := Change{Kind: r.Kind}
		if !r.read(ev, &c) {
			return Change{}
		}
		if c.AccountName == "****" {
			c.AccountName = ""
		}
		return c
	}
	return Change{}
}

// ChangeEvents lists every event ChangeOf can read a change from, with the kind of change it
// makes when it succeeds.
func ChangeEvents() []ChangeEvent {
	out := make([]ChangeEvent, len(readers))
	for i, r := range readers {
		out[i] = r.ChangeEvent
	}
	return out
}
