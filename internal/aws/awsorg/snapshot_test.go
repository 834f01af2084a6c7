package awsorg

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/rootguard/rootguard/events"
	"github.com/rootguard/rootguard/internal/org"
	"github.com/rootguard/rootguard/internal/testenv/awsfake"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata")

// seeds are the organizations the snapshot round trip is tested with.
func seeds(t *testing.T) map[string]org.SnapshotDoc {
	t.Helper()
	out := map[string]org.SnapshotDoc{"inline sample": awsfake.Sample()}
	s, err := org.LoadSnapshot(bytes.NewReader(events.Org()))
	if err != nil {
		t.Fatalf("the bundled organization does not load: %v", err)
	}
	out["events/org.json"] = s.Doc()
	return out
}

// normalize puts a document in a canonical order: lists sorted by id, a null SCP state as the
// fake reports it (disabled), a policy without type as an SCP.
func normalize(d org.SnapshotDoc) org.SnapshotDoc {
	d = cloneDoc(d)
	if d.Organization.SCPEnabled == nil {
		f := false
		d.Organization.SCPEnabled = &f
	}
	sort.Slice(d.OrganizationalUnits, func(i, j int) bool { return d.OrganizationalUnits[i].ID < d.OrganizationalUnits[j].ID })
	sort.Slice(d.Accounts, func(i, j int) bool { return d.Accounts[i].ID < d.Accounts[j].ID })
	sort.Slice(d.Policies, func(i, j int) bool { return d.Policies[i].ID < d.Policies[j].ID })
	for i := range d.Policies {
		sort.Strings(d.Policies[i].Targets)
		if d.Policies[i].Type == "" {
			d.Policies[i].Type = org.PolicyTypeSCP
		}
	}
	return d
}

func cloneDoc(d org.SnapshotDoc) org.SnapshotDoc {
	data, _ := json.Marshal(d)
	var out org.SnapshotDoc
	_ = json.Unmarshal(data, &out)
	return out
}

// TestSnapshotRoundTrip: the fake seeded with an organization yields, through Snapshot, a
// document that org.NewSnapshot accepts and that equals the seed.
func TestSnapshotRoundTrip(t *testing.T) {
	for name, seed := range seeds(t) {
		for _, mode := range modes {
			t.Run(name+"/"+string(mode), func(t *testing.T) {
				e := setup(t, seed, Config{Mode: mode, RoleName: auditRole})
				doc, err := Snapshot(t.Context(), e.facts)
				if err != nil {
					t.Fatalf("Snapshot: %v", err)
				}
				if _, err := org.NewSnapshot(doc); err != nil {
					t.Fatalf("org.NewSnapshot refuses the snapshot: %v", err)
				}
				if diff := cmp.Diff(normalize(seed), normalize(doc), cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("snapshot differs from the seed (-seed +snapshot):\n%s", diff)
				}
				// The document survives its own JSON encoding (what `rootguard snapshot` writes).
				data, err := json.Marshal(doc)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := org.LoadSnapshot(bytes.NewReader(data)); err != nil {
					t.Errorf("LoadSnapshot of the written snapshot: %v", err)
				}
			})
		}
	}
}

// TestSnapshotGolden pins the written format of the inline sample's snapshot.
func TestSnapshotGolden(t *testing.T) {
	e := setup(t, awsfake.Sample(), Config{})
	doc, err := Snapshot(t.Context(), e.facts)
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	got, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "sample.snapshot.json")
	if *updateGolden {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("snapshot of the sample differs from %s (-want +got):\n%s", path, diff)
	}
}

// TestSnapshotUnreadableCredentialsAreNull: an account whose root state cannot be read is null,
// not an error of the snapshot.
func TestSnapshotUnreadableCredentialsAreNull(t *testing.T) {
	e := setup(t, awsfake.Sample(), Config{})
	doc, err := Snapshot(t.Context(), e.facts)
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	i := slices.IndexFunc(doc.Accounts, func(a org.Account) bool { return a.ID == "444444444444" })
	if i < 0 || doc.Accounts[i].Root != nil {
		t.Errorf("account 444444444444: %+v, want rootCredentials null", doc.Accounts)
	}
}

func TestSnapshotFailsOnOrganizationsErrors(t *testing.T) {
	e := setup(t, awsfake.Sample(), Config{})
	e.fake.Fail(awsfake.Organizations, "ListChildren", awsfake.APIError{Status: 400, Code: "AccessDeniedException", Message: "no"}, -1)
	if _, err := Snapshot(t.Context(), e.facts); err == nil {
		t.Error("Snapshot succeeded without being able to list accounts")
	}
}
