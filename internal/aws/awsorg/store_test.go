package awsorg

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/rootguard/rootguard/internal/org"
	"github.com/rootguard/rootguard/internal/testenv/awsfake"
)

// memStore is an in-memory Store that keeps what the state table keeps
// (internal/aws/dynamostore, whose round trip is tested there against dynalite): a copy of each
// record, its time in UTC, and Before under the policy's id.
type memStore struct {
	mu   sync.Mutex
	recs map[string]StoredPolicy
}

func (m *memStore) Get(_ context.Context, id string) (StoredPolicy, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.recs[id]
	return copyRecord(r), ok, nil
}

func (m *memStore) Put(_ context.Context, r StoredPolicy) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.recs == nil {
		m.recs = map[string]StoredPolicy{}
	}
	m.recs[r.Policy.ID] = copyRecord(r)
	return nil
}

func copyRecord(r StoredPolicy) StoredPolicy {
	r.Policy = stored(r.Policy)
	r.RecordedAt = r.RecordedAt.UTC()
	if r.Before != nil {
		b := stored(*r.Before)
		b.ID = r.Policy.ID
		r.Before = &b
	}
	return r
}

// countingStore wraps a Store, counts its calls and can fail them.
type countingStore struct {
	Store
	mu         sync.Mutex
	gets, puts int
	err        error
}

func (c *countingStore) Get(ctx context.Context, id string) (StoredPolicy, bool, error) {
	c.mu.Lock()
	c.gets++
	err := c.err
	c.mu.Unlock()
	if err != nil {
		return StoredPolicy{}, false, err
	}
	return c.Store.Get(ctx, id)
}

func (c *countingStore) Put(ctx context.Context, r StoredPolicy) error {
	c.mu.Lock()
	c.puts++
	err := c.err
	c.mu.Unlock()
	if err != nil {
		return err
	}
	return c.Store.Put(ctx, r)
}

func newStore(t *testing.T) *countingStore {
	t.Helper()
	return &countingStore{Store: &memStore{}}
}

func isProtection(name string) bool {
	return strings.HasPrefix(strings.ToLower(name), "stax-protection")
}

// process is a fresh function process (cold memory) over the same fake AWS and state table.
func process(t *testing.T, fake *awsfake.Server, st Store) *Facts {
	t.Helper()
	cfg := Config{RoleName: auditRole, Store: st, Remember: isProtection}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return New(cfg, testClients(fake, 3))
}

func TestStoreGivesAFreshProcessThePreviousState(t *testing.T) {
	st := newStore(t)
	fake, err := awsfake.New(awsfake.Sample(), awsfake.Options{RoleName: auditRole})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	ctx := t.Context()
	const prot = "p-staxprot1"

	// The audit lists every SCP: the protection SCP is recorded, the customer's is not.
	audit := process(t, fake, st)
	if _, err := audit.For(ctx).Policies(); err != nil {
		t.Fatal(err)
	}
	original := req(process(t, fake, nil).For(ctx).Policy(prot))(t)
	if r, found, _ := st.Get(ctx, prot); !found || r.Policy.ContentText() != original.ContentText() || r.Policy.Name != "Stax-Protection" {
		t.Fatalf("after the audit the table holds %+v (found %v), want the protection SCP's state", r, found)
	}
	if _, found, _ := st.Get(ctx, "p-custdeny1"); found {
		t.Error("the table holds the customer's SCP: only protection SCPs are kept")
	}

	// A fresh scp-guard evaluates an UpdatePolicy that weakened it: the previous content answers.
	update(t, &env{fake: fake}, func(d *org.SnapshotDoc) { w := weak; policyIn(d, prot).Content = &w })
	ev := orgEvent(t, "UpdatePolicy", map[string]any{"policyId": prot, "content": weak})
	guard := process(t, fake, st)
	guard.Invalidate(ev)
	got := req(guard.For(ctx).Policy(prot))(t)
	if got.ContentText() != original.ContentText() {
		t.Errorf("a fresh process during the update answers content %q, want the recorded %q", got.ContentText(), original.ContentText())
	}
	r, _, _ := st.Get(ctx, prot)
	if r.Policy.ContentText() != weak || r.EventID != ev.ID() || r.Before == nil || r.Before.ContentText() != original.ContentText() {
		t.Errorf("after the update the table holds %+v, want the new content, the event and the content before it", r)
	}

	// A retry of the same event, in yet another process, is evaluated as the first attempt was.
	retry := process(t, fake, st)
	retry.Invalidate(ev)
	if got := req(retry.For(ctx).Policy(prot))(t); got.ContentText() != original.ContentText() {
		t.Errorf("a retry of the event answers content %q, want the state before it", got.ContentText())
	}

	// The next change, in a fresh process, is compared with the weakened content.
	update(t, &env{fake: fake}, func(d *org.SnapshotDoc) { s := strong; policyIn(d, prot).Content = &s })
	next := process(t, fake, st)
	next.Invalidate(orgEvent(t, "UpdatePolicy", map[string]any{"policyId": prot, "content": strong}))
	if got := req(next.For(ctx).Policy(prot))(t); got.ContentText() != weak {
		t.Errorf("the next update answers content %q, want the weakened one", got.ContentText())
	}

	// A rename out of the protection names: the previous name answers, and the record follows.
	update(t, &env{fake: fake}, func(d *org.SnapshotDoc) { policyIn(d, prot).Name = "harmless" })
	renameEv := orgEvent(t, "UpdatePolicy", map[string]any{"policyId": prot, "name": "harmless"})
	ren := process(t, fake, st)
	ren.Invalidate(renameEv)
	if got := req(ren.For(ctx).Policy(prot))(t); got.Name != "Stax-Protection" {
		t.Errorf("during the rename the name is %q, want the recorded Stax-Protection", got.Name)
	}
	if r, _, _ := st.Get(ctx, prot); r.Policy.Name != "harmless" || r.Before == nil || r.Before.Name != "Stax-Protection" {
		t.Errorf("after the rename the table holds %+v", r)
	}

	// Deleted: the event's process and a later one both answer the last recorded state.
	update(t, &env{fake: fake}, func(d *org.SnapshotDoc) {
		d.Policies = slices.DeleteFunc(d.Policies, func(p org.Policy) bool { return p.ID == prot })
	})
	del := process(t, fake, st)
	del.Invalidate(orgEvent(t, "DeletePolicy", map[string]any{"policyId": prot}))
	if got, err := del.For(ctx).Policy(prot); err != nil || got.Name != "harmless" || got.ContentText() != strong {
		t.Errorf("during the deletion: %+v, %v; want the recorded state", got, err)
	}
	if r, _, _ := st.Get(ctx, prot); !r.Deleted {
		t.Errorf("after the deletion the record is %+v, want deleted", r)
	}
	later := process(t, fake, st)
	if got, err := later.For(ctx).Policy(prot); err != nil || got.Name != "harmless" {
		t.Errorf("a later process reads the deleted policy: %+v, %v; want the recorded state", got, err)
	}
}

func TestStoreWritesOnlyChanges(t *testing.T) {
	st := newStore(t)
	fake, err := awsfake.New(awsfake.Sample(), awsfake.Options{RoleName: auditRole})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	ctx := t.Context()
	f := process(t, fake, st)
	for range 3 {
		if _, err := f.For(ctx).Policies(); err != nil {
			t.Fatal(err)
		}
	}
	if st.puts != 1 {
		t.Errorf("%d writes after three audits of an unchanged organization, want 1", st.puts)
	}
	// Another process finds the same state stored: it reads, and writes nothing.
	st.puts = 0
	if _, err := process(t, fake, st).For(ctx).Policies(); err != nil {
		t.Fatal(err)
	}
	if st.puts != 0 {
		t.Errorf("%d writes by a second process, want 0", st.puts)
	}
}

func TestStoreUnreadableFailsClosed(t *testing.T) {
	st := newStore(t)
	fake, err := awsfake.New(awsfake.Sample(), awsfake.Options{RoleName: auditRole})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	st.err = errors.New("table unreachable (injected)")
	f := process(t, fake, st)
	f.Invalidate(orgEvent(t, "UpdatePolicy", map[string]any{"policyId": "p-staxprot1", "content": weak}))
	_, err = f.For(t.Context()).Policy("p-staxprot1")
	if err == nil || isNotFoundErr(err) || errors.Is(err, ErrPreviousUnknown) || !strings.Contains(err.Error(), "injected") {
		t.Errorf("Policy with the table unreachable = %v, want its error (the rules fail closed)", err)
	}
	// Writes that fail change no answer outside an event.
	f2 := process(t, fake, st)
	if p, err := f2.For(t.Context()).Policy("p-staxprot1"); err != nil || p.Content == nil {
		t.Errorf("Policy outside an event with the table unreachable = %+v, %v; want the described policy", p, err)
	}
}

// TestStoreGivesContentToAListedPolicy: a warm process that knows the protection SCP only from a
// listing (name and type, no content) takes its content before an update from the Store.
func TestStoreGivesContentToAListedPolicy(t *testing.T) {
	st := newStore(t)
	fake, err := awsfake.New(awsfake.Sample(), awsfake.Options{RoleName: auditRole})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	ctx := t.Context()
	const prot = "p-staxprot1"
	if _, err := process(t, fake, st).For(ctx).Policies(); err != nil { // the audit
		t.Fatal(err)
	}
	original := req(process(t, fake, nil).For(ctx).Policy(prot))(t)

	guard := process(t, fake, st)
	req(guard.For(ctx).PoliciesFor("r-ab12"))(t) // a listing: the SCP is known without content
	if p := req(guard.For(ctx).Policy(prot))(t); p.Content != nil {
		t.Fatalf("after a listing the policy has content %q: the test needs a summary only", p.ContentText())
	}
	update(t, &env{fake: fake}, func(d *org.SnapshotDoc) { w := weak; policyIn(d, prot).Content = &w })
	guard.Invalidate(orgEvent(t, "UpdatePolicy", map[string]any{"policyId": prot, "content": weak}))
	got := req(guard.For(ctx).Policy(prot))(t)
	if got.ContentText() != original.ContentText() || got.Name != "Stax-Protection" {
		t.Errorf("during the update: %+v, want the listed name with the recorded content", got)
	}

	// The same, with the table unreachable: the rules fail closed.
	st.err = errors.New("table unreachable (injected)")
	guard2 := process(t, fake, st)
	req(guard2.For(ctx).PoliciesFor("r-ab12"))(t)
	guard2.Invalidate(orgEvent(t, "UpdatePolicy", map[string]any{"policyId": prot, "content": strong}))
	if _, err := guard2.For(ctx).Policy(prot); err == nil || !strings.Contains(err.Error(), "injected") {
		t.Errorf("with the table unreachable: err = %v, want its error", err)
	}
}
