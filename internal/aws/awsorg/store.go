package awsorg

import (
	"context"
	"time"

	"github.com/rootguard/rootguard/internal/org"
	"github.com/rootguard/rootguard/internal/statekey"
)

// Store keeps the last recorded state of protection SCPs beyond the process (the state table:
// internal/aws/dynamostore), so that a freshly started function knows a policy's content from before the
// event it evaluates, and remembers a deleted or renamed protection SCP. Facts writes to it
// whenever it records a policy: a DescribePolicy answer, the audit's full policy listing, and the
// state an UpdatePolicy or DeletePolicy event leaves (with the state before it, for a retry of the
// same event); Policy reads it when memory has no state from before the event being evaluated,
// and when a policy no longer exists. A Store that cannot be read makes that Policy call fail
// (the rules then fail closed); a failed write is logged and changes no answer.
type Store interface {
	// Get returns the record of a policy; found is false when none is kept.
	Get(ctx context.Context, policyID string) (rec StoredPolicy, found bool, err error)
	// Put replaces the record of rec.Policy.ID.
	Put(ctx context.Context, rec StoredPolicy) error
}

// StoredPolicy is what the Store keeps of one policy.
type StoredPolicy struct {
	// Policy is the last recorded state: id, name, type, AWS-managed and content (nil when
	// unknown). Targets and tags are not kept.
	Policy org.Policy
	// Deleted: the policy was deleted (DeletePolicy, or DescribePolicy found it gone).
	Deleted bool
	// RecordedAt is when the state was recorded.
	RecordedAt time.Time
	// EventID is the last event whose change rootguard recorded, and Before the state just
	// before it (nil when unknown, Before.Content nil when its content was unknown): a retry of
	// that event is evaluated against Before, as the first attempt was.
	EventID string
	Before  *org.Policy
}

// fingerprint identifies a recorded state, to skip writing what the Store already holds.
func fingerprint(p org.Policy, deleted bool) string {
	c := "\x00unknown"
	if p.Content != nil {
		c = *p.Content
	}
	d := "live"
	if deleted {
		d = "deleted"
	}
	m := "custom"
	if p.AWSManaged {
		m = "aws"
	}
	return p.Name + "\x00" + p.Type + "\x00" + m + "\x00" + d + "\x00" + c
}

// stored strips what the Store does not keep.
func stored(p org.Policy) org.Policy {
	p = clonePolicy(p)
	p.Targets, p.Tags = nil, nil
	return p
}

// remembers reports whether the Store keeps a policy named name: an SCP whose name the
// configuration remembers (every SCP when Config.Remember is nil).
func (f *Facts) remembers(p org.Policy) bool {
	if p.Type != "" && p.Type != org.PolicyTypeSCP {
		return false
	}
	return f.cfg.Remember == nil || f.cfg.Remember(p.Name)
}

// load reads a policy's record from the Store; found is false without a Store.
func (v *View) load(id string) (StoredPolicy, bool, error) {
	st := v.f.cfg.Store
	if st == nil {
		return StoredPolicy{}, false, nil
	}
	return st.Get(v.ctx, id)
}

// persist keeps a policy's state read from AWS in the Store, unless the Store holds it already
// or does not keep this policy. The event fields already stored are kept.
func (v *View) persist(p org.Policy, deleted bool) {
	f := v.f
	st := f.cfg.Store
	if st == nil || p.ID == "" || p.Type != "" && p.Type != org.PolicyTypeSCP {
		return
	}
	fp := fingerprint(p, deleted)
	f.mu.Lock()
	rec := f.policies[p.ID]
	skip := rec == nil || rec.change != nil || rec.storedFP == fp
	f.mu.Unlock()
	if skip {
		return
	}
	cur, found, err := st.Get(v.ctx, p.ID)
	if err != nil {
		v.warn("policy state not recorded in the state table", p.ID, err)
		return
	}
	if found && fingerprint(cur.Policy, cur.Deleted) == fp {
		f.setStored(p.ID, fp)
		return
	}
	if !found && !f.remembers(p) {
		return
	}
	r := StoredPolicy{Policy: stored(p), Deleted: deleted, RecordedAt: f.cfg.Now().UTC()}
	if found {
		r.EventID, r.Before = cur.EventID, cur.Before
	}
	if err := st.Put(v.ctx, r); err != nil {
		v.warn("policy state not recorded in the state table", p.ID, err)
		return
	}
	f.setStored(p.ID, fp)
}

// persistEvent keeps the state an event left, with the state before it, once per event.
func (v *View) persistEvent(id string, ch *policyChange, before *org.Policy, after org.Policy) {
	f := v.f
	st := f.cfg.Store
	if st == nil {
		return
	}
	f.mu.Lock()
	done := ch.persisted
	ch.persisted = true
	kept := f.policies[id] != nil && f.policies[id].storedFP != "" // the Store holds it: follow it
	f.mu.Unlock()
	if done || !kept && !f.remembers(after) && (before == nil || !f.remembers(*before)) {
		return
	}
	r := StoredPolicy{Policy: stored(after), Deleted: ch.deleted, RecordedAt: f.cfg.Now().UTC(), EventID: ch.eventID}
	if before != nil {
		b := stored(*before)
		r.Before = &b
	}
	if err := st.Put(v.ctx, r); err != nil {
		v.warn("policy change not recorded in the state table", id, err)
		return
	}
	f.setStored(id, fingerprint(after, ch.deleted))
}

// apply returns the state a change leaves.
func (ch *policyChange) apply(p org.Policy) org.Policy {
	p = clonePolicy(p)
	if ch.name != nil {
		p.Name = *ch.name
	}
	if ch.content != nil {
		c := *ch.content
		p.Content = &c
	}
	return p
}

func (f *Facts) setStored(id, fp string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r := f.policies[id]; r != nil {
		r.storedFP = fp
	}
}

func (v *View) warn(msg, policyID string, err error) {
	if l := v.f.cfg.Logger; l != nil {
		l.Warn(msg, "policyId", policyID, "error", err.Error())
	}
}

// PolicyKeyPrefix starts the id of every policy record in the state table (see
// internal/aws/dynamostore); scp-guard's and the audit's IAM policies are limited to these items
// (dynamodb:LeadingKeys).
const PolicyKeyPrefix = statekey.Policy
