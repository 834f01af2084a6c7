package awsorg

import (
	"errors"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rootguard/rootguard/internal/cloudtrail"
	"github.com/rootguard/rootguard/internal/org"
	"github.com/rootguard/rootguard/internal/testenv/awsfake"
)

const (
	weak   = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"StringLike":{"aws:PrincipalArn":["arn:aws:iam::*:root"]}}}]}`
	strong = `{"Version":"2012-10-17","Statement":[{"Sid":"DenyRoot","Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringLike":{"aws:PrincipalArn":["arn:aws:iam::*:root"]}}}]}`
)

// req returns a check of a read's result: req(v.Parents(id))(t) fails the test on an error.
func req[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func update(t *testing.T, e *env, change func(*org.SnapshotDoc)) {
	t.Helper()
	if err := e.fake.Update(change); err != nil {
		t.Fatal(err)
	}
}

func policyIn(d *org.SnapshotDoc, id string) *org.Policy {
	for i := range d.Policies {
		if d.Policies[i].ID == id {
			return &d.Policies[i]
		}
	}
	return nil
}

func accountIn(d *org.SnapshotDoc, id string) *org.Account {
	for i := range d.Accounts {
		if d.Accounts[i].ID == id {
			return &d.Accounts[i]
		}
	}
	return nil
}

func TestInvalidateMoveAccount(t *testing.T) {
	e := setup(t, awsfake.Sample(), Config{})
	v := e.view(t)
	req(v.Parents("333333333333"))(t)
	req(v.Account("222222222222"))(t) // its path tells the chain of the Web OU
	update(t, e, func(d *org.SnapshotDoc) { accountIn(d, "333333333333").ParentID = "ou-ab12-web00001" })

	e.fake.ResetCalls()
	e.facts.Invalidate(orgEvent(t, "MoveAccount", map[string]any{"accountId": "333333333333", "sourceParentId": "ou-ab12-sand0001", "destinationParentId": "ou-ab12-web00001"}))
	got := req(e.view(t).Parents("333333333333"))(t)
	if want := []string{"ou-ab12-web00001", "ou-ab12-prod0001", "r-ab12"}; !slices.Equal(got, want) {
		t.Errorf("Parents after the move = %v, want %v", got, want)
	}
	a := req(e.view(t).Account("333333333333"))(t)
	if a.ParentID != "ou-ab12-web00001" || a.Name != "sandbox" {
		t.Errorf("Account after the move = %+v", a)
	}
	if n := e.orgCalls(); n != 0 {
		t.Errorf("%d calls: the destination's chain was known, want the move re-seeded from the event", n)
	}

	// A destination whose chain is not known: the account is read again.
	e = setup(t, awsfake.Sample(), Config{})
	req(e.view(t).Parents("333333333333"))(t)
	update(t, e, func(d *org.SnapshotDoc) { accountIn(d, "333333333333").ParentID = "ou-ab12-web00001" })
	e.facts.Invalidate(orgEvent(t, "MoveAccount", map[string]any{"accountId": "333333333333", "sourceParentId": "ou-ab12-sand0001", "destinationParentId": "ou-ab12-web00001"}))
	e.fake.ResetCalls()
	got = req(e.view(t).Parents("333333333333"))(t)
	if want := []string{"ou-ab12-web00001", "ou-ab12-prod0001", "r-ab12"}; !slices.Equal(got, want) || e.orgCalls() != 1 {
		t.Errorf("Parents = %v with %d calls, want %v with one DescribeAccount", got, e.orgCalls(), want)
	}
}

func TestInvalidateAttachmentsAndPolicyType(t *testing.T) {
	e := setup(t, awsfake.Sample(), Config{})
	v := e.view(t)
	req(v.PoliciesFor("r-ab12"))(t)
	req(v.Organization())(t)
	update(t, e, func(d *org.SnapshotDoc) {
		p := policyIn(d, "p-staxprot1")
		p.Targets = nil
	})
	if got := req(e.view(t).PoliciesFor("r-ab12"))(t); !slices.Contains(got, "p-staxprot1") {
		t.Fatalf("without an event the cache still answers (got %v): the test proves nothing otherwise", got)
	}
	e.facts.Invalidate(orgEvent(t, "DetachPolicy", map[string]any{"policyId": "p-staxprot1", "targetId": "r-ab12"}))
	if got := req(e.view(t).PoliciesFor("r-ab12"))(t); slices.Contains(got, "p-staxprot1") {
		t.Errorf("PoliciesFor(root) after DetachPolicy = %v", got)
	}

	f := false
	update(t, e, func(d *org.SnapshotDoc) {
		d.Organization.SCPEnabled = &f
		for i := range d.Policies {
			d.Policies[i].Targets = nil
		}
	})
	req(e.view(t).PoliciesFor("222222222222"))(t)
	e.facts.Invalidate(orgEvent(t, "DisablePolicyType", map[string]any{"rootId": "r-ab12", "policyType": org.PolicyTypeSCP}))
	o := req(e.view(t).Organization())(t)
	if o.SCPEnabled == nil || *o.SCPEnabled {
		t.Errorf("SCPEnabled after DisablePolicyType = %v", o.SCPEnabled)
	}
	if got := req(e.view(t).PoliciesFor("222222222222"))(t); len(got) != 0 {
		t.Errorf("attachments after DisablePolicyType = %v, want none (every attachment is lost)", got)
	}
}

func TestInvalidateFailedEventDropsNothing(t *testing.T) {
	e := setup(t, awsfake.Sample(), Config{})
	req(e.view(t).PoliciesFor("r-ab12"))(t)
	ev := record(t, map[string]any{"eventName": "DetachPolicy", "errorCode": "AccessDeniedException", "requestParameters": map[string]any{"policyId": "p-staxprot1", "targetId": "r-ab12"}})
	e.facts.Invalidate(ev)
	e.fake.ResetCalls()
	req(e.view(t).PoliciesFor("r-ab12"))(t)
	if n := e.orgCalls(); n != 0 {
		t.Errorf("a failed DetachPolicy dropped the attachments (%d calls)", n)
	}
}

func TestInvalidateUpdatePolicyKeepsThePreviousState(t *testing.T) {
	e := setup(t, awsfake.Sample(), Config{})
	before := req(e.view(t).Policy("p-staxprot1"))(t)
	update(t, e, func(d *org.SnapshotDoc) { w := weak; policyIn(d, "p-staxprot1").Content = &w })

	ev := orgEvent(t, "UpdatePolicy", map[string]any{"policyId": "p-staxprot1", "content": weak})
	e.facts.Invalidate(ev)
	e.facts.Invalidate(ev) // twice: harmless
	e.fake.ResetCalls()
	during := req(e.view(t).Policy("p-staxprot1"))(t)
	if diff := cmp.Diff(before, during); diff != "" {
		t.Errorf("while the update is evaluated the previous state answers (-before +during):\n%s", diff)
	}
	// The next event records the change from the event itself.
	e.facts.Invalidate(orgEvent(t, "CreateOrganizationalUnit", map[string]any{"name": "x", "parentId": "r-ab12"}))
	after := req(e.view(t).Policy("p-staxprot1"))(t)
	if after.ContentText() != weak || after.Name != "Stax-Protection" {
		t.Errorf("after the next event: %+v, want the new content", after)
	}
	if n := e.orgCalls(); n != 0 {
		t.Errorf("%d calls, want none: the change came from the event", n)
	}
}

func TestInvalidateUpdatePolicyCold(t *testing.T) {
	t.Run("content changed: unknown", func(t *testing.T) {
		e := setup(t, awsfake.Sample(), Config{})
		update(t, e, func(d *org.SnapshotDoc) { w := weak; policyIn(d, "p-staxprot1").Content = &w })
		e.facts.Invalidate(orgEvent(t, "UpdatePolicy", map[string]any{"policyId": "p-staxprot1", "content": weak}))
		p := req(e.view(t).Policy("p-staxprot1"))(t)
		if p.Content != nil || p.Name != "Stax-Protection" {
			t.Errorf("Policy = %+v: want the name (unchanged) and no content (the previous one was never recorded)", p)
		}
	})
	t.Run("name only: the content read is the previous one", func(t *testing.T) {
		e := setup(t, awsfake.Sample(), Config{})
		e.facts.Invalidate(orgEvent(t, "UpdatePolicy", map[string]any{"policyId": "p-custdeny1", "description": "x"}))
		p := req(e.view(t).Policy("p-custdeny1"))(t)
		if p.Content == nil {
			t.Errorf("Policy = %+v: the event changed no content, so the content read is the previous one", p)
		}
	})
	t.Run("renamed: previous name unknown", func(t *testing.T) {
		e := setup(t, awsfake.Sample(), Config{})
		update(t, e, func(d *org.SnapshotDoc) { policyIn(d, "p-staxprot1").Name = "harmless" })
		e.facts.Invalidate(orgEvent(t, "UpdatePolicy", map[string]any{"policyId": "p-staxprot1", "name": "harmless"}))
		_, err := e.view(t).Policy("p-staxprot1")
		if !errors.Is(err, ErrPreviousUnknown) || isNotFoundErr(err) {
			t.Errorf("err = %v, want ErrPreviousUnknown (not ErrNotFound: the rules must fail closed)", err)
		}
	})
}

func TestPolicyFromListingHasNoContent(t *testing.T) {
	e := setup(t, awsfake.Sample(), Config{})
	req(e.view(t).PoliciesFor("r-ab12"))(t)
	e.fake.ResetCalls()
	p := req(e.view(t).Policy("p-staxprot1"))(t)
	if p.Name != "Stax-Protection" || p.Type != org.PolicyTypeSCP || p.Content != nil || e.orgCalls() != 0 {
		t.Errorf("Policy = %+v after %d calls: want the listed summary, no content, no call", p, e.orgCalls())
	}
	e.clock.Advance(DefaultTTL)
	p = req(e.view(t).Policy("p-staxprot1"))(t)
	if p.Content == nil {
		t.Errorf("after the TTL the policy is described: %+v", p)
	}
}

func TestDeletedPolicyIsRemembered(t *testing.T) {
	e := setup(t, awsfake.Sample(), Config{})
	before := req(e.view(t).Policy("p-custdeny1"))(t)
	update(t, e, func(d *org.SnapshotDoc) {
		d.Policies = slices.DeleteFunc(d.Policies, func(p org.Policy) bool { return p.ID == "p-custdeny1" })
	})
	e.facts.Invalidate(orgEvent(t, "DeletePolicy", map[string]any{"policyId": "p-custdeny1"}))
	for _, step := range []string{"during", "after the next event", "after the TTL"} {
		switch step {
		case "after the next event":
			e.facts.Invalidate(orgEvent(t, "CreateOrganizationalUnit", map[string]any{"name": "x", "parentId": "r-ab12"}))
		case "after the TTL":
			e.clock.Advance(2 * DefaultTTL)
		}
		got, err := e.view(t).Policy("p-custdeny1")
		if diff := cmp.Diff(before, got); err != nil || diff != "" {
			t.Errorf("%s: %v (-before +got):\n%s", step, err, diff)
		}
	}

	// Deleted while nobody watched: once stale, DescribePolicy finds nothing and the record answers.
	req(e.view(t).Policy("p-staxprot1"))(t)
	update(t, e, func(d *org.SnapshotDoc) {
		d.Policies = slices.DeleteFunc(d.Policies, func(p org.Policy) bool { return p.ID == "p-staxprot1" })
	})
	e.clock.Advance(2 * DefaultTTL)
	if p, err := e.view(t).Policy("p-staxprot1"); err != nil || p.Name != "Stax-Protection" || p.Content == nil {
		t.Errorf("Policy of a deleted policy = %+v, %v; want the last recorded state", p, err)
	}
	if _, err := e.view(t).Policy("p-neverseen"); !isNotFoundErr(err) {
		t.Errorf("a policy never recorded: err = %v, want ErrNotFound", err)
	}
}

func TestInvalidateAccountEvents(t *testing.T) {
	e := setup(t, awsfake.Sample(), Config{})
	v := e.view(t)
	req(v.Account("333333333333"))(t)
	req(v.Tags("222222222222"))(t)
	req(v.RootCredentials("222222222222"))(t)

	update(t, e, func(d *org.SnapshotDoc) {
		d.Accounts = slices.DeleteFunc(d.Accounts, func(a org.Account) bool { return a.ID == "333333333333" })
		for i := range d.Policies {
			d.Policies[i].Targets = slices.DeleteFunc(d.Policies[i].Targets, func(t string) bool { return t == "333333333333" })
		}
		a := accountIn(d, "222222222222")
		a.Tags = map[string]string{"app": "web", "rootguard:exception": "CHG-1;expires=2026-11-27T00:00:00Z"}
		tr := true
		a.Root.AccessKeysPresent = &tr
	})
	leave := record(t, map[string]any{"eventName": "LeaveOrganization", "recipientAccountId": "333333333333",
		"userIdentity": map[string]any{"type": "Root", "arn": "arn:aws:iam::333333333333:root", "accountId": "333333333333"}})
	e.facts.Invalidate(leave)
	if _, err := e.view(t).Account("333333333333"); !isNotFoundErr(err) {
		t.Errorf("Account after LeaveOrganization: err = %v, want ErrNotFound", err)
	}

	e.facts.Invalidate(orgEvent(t, "TagResource", map[string]any{"resourceId": "222222222222", "tags": []any{}}))
	if tags := req(e.view(t).Tags("222222222222"))(t); tags["rootguard:exception"] == "" {
		t.Errorf("Tags after TagResource = %v", tags)
	}

	userKey := record(t, map[string]any{"eventSource": cloudtrail.SourceIAM, "eventName": "CreateAccessKey", "recipientAccountId": "222222222222",
		"requestParameters": map[string]any{"userName": "deploy"},
		"userIdentity":      map[string]any{"type": "Root", "arn": "arn:aws:iam::222222222222:root", "accountId": "222222222222"}})
	e.facts.Invalidate(userKey)
	if rc := req(e.view(t).RootCredentials("222222222222"))(t); *rc.AccessKeysPresent {
		t.Errorf("a key for an IAM user dropped the root credential state")
	}
	rootKey := record(t, map[string]any{"eventSource": cloudtrail.SourceIAM, "eventName": "CreateAccessKey", "recipientAccountId": "222222222222",
		"userIdentity": map[string]any{"type": "Root", "arn": "arn:aws:iam::222222222222:root", "accountId": "222222222222"}})
	e.facts.Invalidate(rootKey)
	if rc := req(e.view(t).RootCredentials("222222222222"))(t); !*rc.AccessKeysPresent {
		t.Errorf("RootCredentials after root CreateAccessKey = %+v, want keys present", rc)
	}
}

func TestParentsWithoutPaths(t *testing.T) {
	e := setupFake(t, awsfake.Sample(), Config{}, awsfake.Options{RoleName: auditRole, NoPaths: true})
	v := e.view(t)
	doc := e.ref.Doc()
	for _, a := range doc.Accounts {
		want, _ := e.ref.Parents(a.ID)
		if got, err := v.Parents(a.ID); err != nil || !slices.Equal(got, want) {
			t.Errorf("Parents(%s) = %v, %v; want %v", a.ID, got, err, want)
		}
	}
	for _, ou := range doc.OrganizationalUnits {
		want, _ := e.ref.Parents(ou.ID)
		if got, err := v.Parents(ou.ID); err != nil || !slices.Equal(got, want) {
			t.Errorf("Parents(%s) = %v, %v; want %v", ou.ID, got, err, want)
		}
	}
	if n := e.fake.Calls(awsfake.Organizations, "ListParents"); n == 0 {
		t.Error("no ListParents call: the fallback was not exercised")
	}
}
