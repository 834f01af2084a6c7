package awsorg

import (
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/rootguard/rootguard/internal/org"
)

// policyRec is what rootguard last recorded of a policy. Records are never evicted: a deleted
// policy answers from memory. The state is refreshed by DescribePolicy once older than the TTL.
type policyRec struct {
	p       org.Policy // Targets and Tags are not kept
	known   bool       // p holds a recorded state (else only a change is pending)
	full    bool       // p.Content is the recorded content (a listing gives only the summary)
	at      time.Time  // when p was recorded or confirmed
	deleted bool
	// change is set by Invalidate for the event being evaluated: until the next Invalidate the
	// record answers the state before it.
	change *policyChange
	// storedFP is the fingerprint of the state the Store is known to hold ("" when unknown).
	storedFP string
}

type policyChange struct {
	name, content *string
	deleted       bool
	eventID       string // the event that made the change
	persisted     bool   // the change was written to the Store
}

// Policy implements org.Facts: the last state rootguard recorded of the policy.
//
//   - A fresh record answers without a call; a policy seen only in a listing (PoliciesFor,
//     Policies) has its name and type but a nil Content until a DescribePolicy records it.
//   - An older record is refreshed by DescribePolicy; when the policy no longer exists the record
//     answers (the policy is remembered after deletion).
//   - While an event that changed the policy is evaluated (between Invalidate and the next
//     Invalidate), the state before the change answers. If memory has none, the Store's record
//     answers (the state before the event, when the record was written by an earlier attempt at
//     the same event); without one, DescribePolicy tells what the event left as it was: the
//     content is then nil when the event changed it, and a rename yields ErrPreviousUnknown (the
//     rules then fail closed). The state the event leaves is written to the Store.
//   - A policy that no longer exists and that memory does not know answers from the Store.
func (v *View) Policy(id string) (org.Policy, error) {
	f := v.f
	f.mu.Lock()
	rec := f.policies[id]
	var snap policyRec
	if rec != nil {
		snap = *rec
		snap.p = clonePolicy(rec.p)
	}
	f.mu.Unlock()

	if rec != nil && snap.change != nil {
		ch := snap.change // the pinned change itself (a pointer: its persisted flag is shared)
		if snap.known {
			before := snap.p
			if !snap.full && before.Content == nil && v.f.cfg.Store != nil {
				// Memory has the policy from a listing only: its content comes from the Store.
				c, err := v.storedContent(id, ch)
				if err != nil {
					return org.Policy{}, err
				}
				if c != nil {
					before.Content = c
					f.mu.Lock()
					if r := f.policies[id]; r != nil && r.change == ch && !r.full {
						r.p.Content, r.full = clonePolicy(before).Content, true
					}
					f.mu.Unlock()
				}
			}
			v.persistEvent(id, ch, &before, snap.change.apply(before))
			return clonePolicy(before), nil
		}
		if p, ok, err := v.storedBefore(id, ch); err != nil || ok {
			return p, err
		}
		p, err := v.describePolicy(id)
		if err != nil {
			return org.Policy{}, err
		}
		after := snap.change.apply(p)
		if snap.change.name != nil {
			v.persistEvent(id, ch, nil, after)
			return org.Policy{}, fmt.Errorf("policy %s: the event being evaluated renamed it: %w", id, ErrPreviousUnknown)
		}
		if snap.change.content != nil {
			p.Content = nil
		}
		f.mu.Lock()
		if r := f.policies[id]; r != nil && r.change != nil && !r.known {
			r.p, r.known, r.full, r.at = clonePolicy(p), true, p.Content != nil, f.cfg.Now()
		}
		f.mu.Unlock()
		before := p
		v.persistEvent(id, ch, &before, after)
		return p, nil
	}
	if rec != nil && snap.known && (snap.deleted || f.fresh(snap.at)) {
		return snap.p, nil
	}
	p, err := v.describePolicy(id)
	if err != nil {
		if rec != nil && snap.known && isNotFound(err) {
			f.mu.Lock()
			if r := f.policies[id]; r != nil {
				r.deleted = true
			}
			f.mu.Unlock()
			v.persist(snap.p, true)
			return snap.p, nil
		}
		if isNotFound(err) {
			if st, found, serr := v.load(id); serr == nil && found {
				f.recordStored(st.Policy, true)
				return st.Policy, nil
			}
		}
		return org.Policy{}, err
	}
	f.recordFull(p)
	v.persist(p, false)
	return p, nil
}

// storedBefore answers, from the Store, the state of a policy before the event being evaluated
// changed it: the record's Before when the record was written for this very event (a retry),
// else the record's state. ok is false when the Store has no usable record; an unreadable
// Store is an error (the rules fail closed rather than take the policy for unknown).
func (v *View) storedBefore(id string, ch *policyChange) (org.Policy, bool, error) {
	st, found, err := v.load(id)
	if err != nil {
		return org.Policy{}, false, fmt.Errorf("policy %s: read its recorded state: %w", id, err)
	}
	if !found {
		return org.Policy{}, false, nil
	}
	before, retry := st.Policy, false
	if st.EventID != "" && st.EventID == ch.eventID {
		if st.Before == nil {
			return org.Policy{}, false, nil
		}
		before, retry = *st.Before, true
	}
	if before.ID == "" {
		before.ID = id
	}
	f := v.f
	f.mu.Lock()
	if r := f.policies[id]; r != nil && r.change == ch && !r.known {
		r.p, r.known, r.full, r.at = clonePolicy(before), true, before.Content != nil, f.cfg.Now()
		r.storedFP = fingerprint(st.Policy, st.Deleted)
	}
	if retry {
		ch.persisted = true // the record is this event's already
	}
	f.mu.Unlock()
	if !retry {
		v.persistEvent(id, ch, &before, ch.apply(before))
	}
	return clonePolicy(before), true, nil
}

// describePolicy reads a policy with its content; a policy that does not exist is
// org.ErrNotFound.
func (v *View) describePolicy(id string) (org.Policy, error) {
	out, err := v.f.clients.Organizations.DescribePolicy(v.ctx, &organizations.DescribePolicyInput{PolicyId: aws.String(id)})
	v.count(svcOrganizations, "DescribePolicy", err)
	if err != nil {
		if isCode(err, "PolicyNotFoundException") {
			return org.Policy{}, notFound("policy "+id, err)
		}
		return org.Policy{}, fmt.Errorf("describe policy %s: %w", id, err)
	}
	p := summaryPolicy(out.Policy.PolicySummary)
	if out.Policy.Content != nil {
		c := aws.ToString(out.Policy.Content)
		p.Content = &c
	}
	if p.ID == "" {
		p.ID = id
	}
	return p, nil
}

func summaryPolicy(s *types.PolicySummary) org.Policy {
	if s == nil {
		return org.Policy{}
	}
	return org.Policy{ID: aws.ToString(s.Id), Name: aws.ToString(s.Name), Type: string(s.Type), AWSManaged: s.AwsManaged}
}

// recordSummary records what a listing tells of a policy. A record pinned for the event being
// evaluated is left alone; a recorded content is dropped when the name has changed since.
func (f *Facts) recordSummary(s types.PolicySummary) {
	p := summaryPolicy(&s)
	if p.ID == "" {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	rec := f.policyRecLocked(p.ID)
	if rec.change != nil {
		return
	}
	content := rec.p.Content
	if !rec.full || rec.p.Name != p.Name {
		content, rec.full, rec.at = nil, false, f.cfg.Now()
	}
	p.Content = content
	rec.p, rec.known, rec.deleted = p, true, false
}

// recordFull records a policy read with DescribePolicy.
func (f *Facts) recordFull(p org.Policy) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rec := f.policyRecLocked(p.ID)
	if rec.change != nil {
		return
	}
	p.Targets, p.Tags = nil, nil
	rec.p, rec.known, rec.full, rec.at, rec.deleted = clonePolicy(p), true, p.Content != nil, f.cfg.Now(), false
}

// storedContent is the content the Store recorded for a policy before the event being
// evaluated (nil when it has none).
func (v *View) storedContent(id string, ch *policyChange) (*string, error) {
	st, found, err := v.load(id)
	if err != nil {
		return nil, fmt.Errorf("policy %s: read its recorded state: %w", id, err)
	}
	if !found {
		return nil, nil
	}
	src := st.Policy
	if st.EventID != "" && st.EventID == ch.eventID {
		if st.Before == nil {
			return nil, nil
		}
		src = *st.Before
	}
	return clonePolicy(src).Content, nil
}

// recordStored records a policy's state read from the Store.
func (f *Facts) recordStored(p org.Policy, deleted bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rec := f.policyRecLocked(p.ID)
	if rec.change != nil {
		return
	}
	rec.p, rec.known, rec.full, rec.at, rec.deleted = clonePolicy(p), true, p.Content != nil, f.cfg.Now(), deleted
	rec.storedFP = fingerprint(p, deleted)
}

func clonePolicy(p org.Policy) org.Policy {
	if p.Content != nil {
		c := *p.Content
		p.Content = &c
	}
	return p
}

func isNotFound(err error) bool { return errors.Is(err, org.ErrNotFound) }

// policyRecLocked returns the record of a policy, creating an empty one; f.mu must be held.
func (f *Facts) policyRecLocked(id string) *policyRec {
	rec := f.policies[id]
	if rec == nil {
		rec = &policyRec{}
		f.policies[id] = rec
	}
	return rec
}
