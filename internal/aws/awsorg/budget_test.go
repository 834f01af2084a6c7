package awsorg

import (
	"slices"
	"strings"
	"testing"

	"github.com/rootguard/rootguard/internal/org"
	"github.com/rootguard/rootguard/internal/testenv/awsfake"
)

// The reads below replay, in the same order, what internal/rule asks of the facts (Subject and
// protectionState in internal/rule/subject.go): the budgets are measured on the access pattern the
// functions really have, without depending on the rule package.

// subjectReads resolves an account's name, ownership and role.
func subjectReads(f org.Facts, id string) {
	_, _ = f.Organization()
	_, _ = f.Account(id)
}

// protectionReads decides whether the protection SCP is effective on an account, walking from
// parent (or the account's own parents), stopping at the first protection SCP found.
func protectionReads(f org.Facts, account, parent string) {
	o, err := f.Organization()
	if err != nil || o.ManagementAccountID == account {
		return
	}
	chain := []string{account}
	var up []string
	if parent != "" {
		chain = append(chain, parent)
		up, _ = f.Parents(parent)
	} else {
		up, _ = f.Parents(account)
	}
	chain = append(chain, up...)
	if !slices.Contains(chain, o.RootID) {
		chain = append(chain, o.RootID)
	}
	for _, node := range chain {
		ids, _ := f.PoliciesFor(node)
		for _, id := range ids {
			if p, err := f.Policy(id); err == nil && strings.HasPrefix(strings.ToLower(p.Name), "stax-protection") {
				return
			}
		}
	}
}

// everythingReads is the brief's list for a root event: Organization(), Account(id),
// Parents(id), PoliciesFor(each node), Policy(each attached id), without stopping early.
func everythingReads(f org.Facts, id string) {
	_, _ = f.Organization()
	_, _ = f.Account(id)
	up, _ := f.Parents(id)
	for _, node := range append([]string{id}, up...) {
		ids, _ := f.PoliciesFor(node)
		for _, p := range ids {
			_, _ = f.Policy(p)
		}
	}
}

// TestBudgetRootEventWarm: a root event for a known account on a warm cache makes no
// Organizations call (nor any other).
func TestBudgetRootEventWarm(t *testing.T) {
	e := setup(t, awsfake.Sample(), Config{})
	for _, a := range e.ref.Doc().Accounts {
		t.Run(a.ID, func(t *testing.T) {
			root := func() {
				v := e.view(t)
				subjectReads(v, a.ID)
				protectionReads(v, a.ID, "")
				everythingReads(v, a.ID)
			}
			root() // an earlier invocation warmed the cache
			e.fake.ResetCalls()
			root()
			if n := len(e.fake.CallLog()); n != 0 {
				t.Errorf("warm root event made %d AWS calls %v, want 0", n, e.fake.CallCounts())
			}
		})
	}
}

// TestBudgetSCPEventCold: each SCP event, on a cold cache (a new process), makes at most
// depth+3 Organizations calls for what the SCP rules read, depth being the number of parents of
// the account concerned (1 when the event concerns no member account: the management account
// sits under the root).
func TestBudgetSCPEventCold(t *testing.T) {
	const (
		mgmt       = "111111111111"
		protection = "p-staxprot1"
		customer   = "p-custdeny1"
	)
	dropTarget := func(policy, target string) func(*org.SnapshotDoc) {
		return func(d *org.SnapshotDoc) {
			for i := range d.Policies {
				if d.Policies[i].ID == policy {
					d.Policies[i].Targets = slices.DeleteFunc(d.Policies[i].Targets, func(t string) bool { return t == target })
				}
			}
		}
	}
	move := func(account, dest string) func(*org.SnapshotDoc) {
		return func(d *org.SnapshotDoc) {
			for i := range d.Accounts {
				if d.Accounts[i].ID == account {
					d.Accounts[i].ParentID = dest
				}
			}
		}
	}
	tests := []struct {
		name    string
		change  func(*org.SnapshotDoc) // what AWS did before the event arrived
		event   map[string]any         // eventName and requestParameters
		account string                 // the member account concerned, "" for none
		reads   func(f org.Facts)
	}{
		{
			name:    "MoveAccount sandbox to a nested OU",
			change:  move("333333333333", "ou-ab12-web00001"),
			event:   map[string]any{"eventName": "MoveAccount", "requestParameters": map[string]any{"accountId": "333333333333", "sourceParentId": "ou-ab12-sand0001", "destinationParentId": "ou-ab12-web00001"}},
			account: "333333333333",
			reads: func(f org.Facts) {
				subjectReads(f, "333333333333")
				protectionReads(f, "333333333333", "ou-ab12-web00001")
			},
		},
		{
			name:    "MoveAccount to the root",
			change:  move("222222222222", "r-ab12"),
			event:   map[string]any{"eventName": "MoveAccount", "requestParameters": map[string]any{"accountId": "222222222222", "sourceParentId": "ou-ab12-web00001", "destinationParentId": "r-ab12"}},
			account: "222222222222",
			reads: func(f org.Facts) {
				subjectReads(f, "222222222222")
				protectionReads(f, "222222222222", "r-ab12")
			},
		},
		{
			name:    "MoveAccount of the management account",
			change:  nil,
			event:   map[string]any{"eventName": "MoveAccount", "requestParameters": map[string]any{"accountId": mgmt, "sourceParentId": "r-ab12", "destinationParentId": "r-ab12"}},
			account: "",
			reads:   func(f org.Facts) { subjectReads(f, mgmt) },
		},
		{
			name:   "DetachPolicy of the protection SCP from the root",
			change: dropTarget(protection, "r-ab12"),
			event:  map[string]any{"eventName": "DetachPolicy", "requestParameters": map[string]any{"policyId": protection, "targetId": "r-ab12"}},
			reads: func(f org.Facts) {
				_, _ = f.Policy(protection)
				subjectReads(f, mgmt)
			},
		},
		{
			name:    "DetachPolicy from an account",
			change:  dropTarget(customer, "333333333333"),
			event:   map[string]any{"eventName": "DetachPolicy", "requestParameters": map[string]any{"policyId": customer, "targetId": "333333333333"}},
			account: "333333333333",
			reads: func(f org.Facts) {
				_, _ = f.Policy(customer)
				subjectReads(f, mgmt)
				subjectReads(f, "333333333333")
			},
		},
		{
			name:  "UpdatePolicy of the protection SCP",
			event: map[string]any{"eventName": "UpdatePolicy", "requestParameters": map[string]any{"policyId": protection, "content": `{"Version":"2012-10-17","Statement":[]}`}},
			reads: func(f org.Facts) {
				_, _ = f.Policy(protection)
				subjectReads(f, mgmt)
			},
		},
		{
			name: "DeletePolicy",
			change: func(d *org.SnapshotDoc) {
				d.Policies = slices.DeleteFunc(d.Policies, func(p org.Policy) bool { return p.ID == customer })
			},
			event: map[string]any{"eventName": "DeletePolicy", "requestParameters": map[string]any{"policyId": customer}},
			reads: func(f org.Facts) {
				_, _ = f.Policy(customer)
				subjectReads(f, mgmt)
			},
		},
		{
			name:  "DisablePolicyType",
			event: map[string]any{"eventName": "DisablePolicyType", "requestParameters": map[string]any{"rootId": "r-ab12", "policyType": org.PolicyTypeSCP}},
			reads: func(f org.Facts) { subjectReads(f, mgmt) },
		},
		{
			name:    "the brief's list: Organization, Parents(account), PoliciesFor(each node), then Policy(id) of an attached SCP",
			event:   map[string]any{"eventName": "AttachPolicy", "requestParameters": map[string]any{"policyId": protection, "targetId": "r-ab12"}},
			account: "222222222222",
			reads: func(f org.Facts) {
				_, _ = f.Organization()
				up, _ := f.Parents("222222222222")
				for _, node := range append([]string{"222222222222"}, up...) {
					_, _ = f.PoliciesFor(node)
				}
				_, _ = f.Policy(protection)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t, awsfake.Sample(), Config{})
			if tt.change != nil {
				if err := e.fake.Update(tt.change); err != nil {
					t.Fatal(err)
				}
			}
			after, err := org.NewSnapshot(e.fake.Doc())
			if err != nil {
				t.Fatal(err)
			}
			depth := 1
			if tt.account != "" {
				up, _ := after.Parents(tt.account)
				depth = len(up)
			}
			v := e.view(t)
			e.facts.Invalidate(record(t, tt.event))
			tt.reads(v)
			calls := e.orgCalls()
			t.Logf("depth %d: %d Organizations calls (budget %d): %v", depth, calls, depth+3, e.fake.CallCounts())
			if calls > depth+3 {
				t.Errorf("%d Organizations calls on a cold cache, budget depth+3 = %d", calls, depth+3)
			}
		})
	}
}

// TestBudgetBriefOrder measures the brief's list in its literal order, Policy(id) first: the
// event's policy must be described (its content recorded) before the tree is read, so this order
// costs one call more than the rules' order when the policy is attached on the path.
func TestBudgetBriefOrder(t *testing.T) {
	for _, a := range awsfake.Sample().Accounts {
		t.Run(a.ID, func(t *testing.T) {
			e := setup(t, awsfake.Sample(), Config{})
			v := e.view(t)
			_, _ = v.Policy("p-staxprot1")
			_, _ = v.Organization()
			up, _ := v.Parents(a.ID)
			for _, node := range append([]string{a.ID}, up...) {
				_, _ = v.PoliciesFor(node)
			}
			want, _ := e.ref.Parents(a.ID)
			depth := len(want)
			calls := e.orgCalls()
			t.Logf("depth %d: %d Organizations calls", depth, calls)
			if calls > depth+4 {
				t.Errorf("%d calls, want at most depth+4 = %d", calls, depth+4)
			}
		})
	}
}

// BenchmarkWarmRootEvent measures the facts a root event reads on a warm cache.
func BenchmarkWarmRootEvent(b *testing.B) {
	fake, err := awsfake.New(awsfake.Sample(), awsfake.Options{RoleName: auditRole})
	if err != nil {
		b.Fatal(err)
	}
	defer fake.Close()
	f := New(Config{RoleName: auditRole}, testClients(fake, 3))
	warm := f.For(b.Context())
	everythingReads(warm, "222222222222")
	b.ReportAllocs()
	for b.Loop() {
		v := f.For(b.Context())
		subjectReads(v, "222222222222")
		protectionReads(v, "222222222222", "")
	}
	if n := fake.Calls(awsfake.Organizations, ""); n == 0 {
		b.Fatal("the warm-up made no call")
	}
}
