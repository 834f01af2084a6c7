package awsorg

import (
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/rootguard/rootguard/shared/org"
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
}

type policyChange struct {
	name, content *string
	deleted       bool
}

// Policy implements org.Facts: the last state rootguard recorded of the policy.
//
//   - A fresh record answers without a call; a policy seen only in a listing (PoliciesFor,
//     Policies) has its name and type but a nil Content until a DescribePolicy records it.
//   - An older record is refreshed by DescribePolicy; when the policy no longer exists the record
//     answers (the policy is remembered after deletion).
//   - While an event that changed the policy is evaluated (between Invalidate and the next
//     Invalidate), the state before the change answers. If none was recorded, DescribePolicy
//     tells what the event left as it was: the content is then nil when the event changed it, and
//     a rename yields ErrPreviousUnknown (the rules then fail closed).
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
		if snap.known {
			return snap.p, nil
		}
		p, err := v.describePolicy(id)
		if err != nil {
			return org.Policy{}, err
		}
		if snap.change.name != nil {
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
			return snap.p, nil
		}
		return org.Policy{}, err
	}
	f.recordFull(p)
	return p, nil
}

// describePolicy reads a policy with its content; a policy that does not exist is
// org.ErrNotFound.
func (v *View) describePolicy(id string) (org.Policy, error) {
	out, err := v.f.clients.Policies.DescribePolicy(v.ctx, &organizations.DescribePolicyInput{PolicyId: aws.String(id)})
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
	rec := f.policies[p.ID]
	if rec == nil {
		rec = &policyRec{}
		f.policies[p.ID] = rec
	}
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
	rec := f.policies[p.ID]
	if rec == nil {
		rec = &policyRec{}
		f.policies[p.ID] = rec
	}
	if rec.change != nil {
		return
	}
	p.Targets, p.Tags = nil, nil
	rec.p, rec.known, rec.full, rec.at, rec.deleted = clonePolicy(p), true, p.Content != nil, f.cfg.Now(), false
}

func clonePolicy(p org.Policy) org.Policy {
	if p.Content != nil {
		c := *p.Content
		p.Content = &c
	}
	return p
}

func isNotFound(err error) bool { return errors.Is(err, org.ErrNotFound) }
