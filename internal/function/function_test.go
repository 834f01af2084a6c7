package function

import (
	"slices"
	"strings"
	"testing"

	"github.com/rootguard/rootguard/internal/statekey"
)

func TestTable(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range Table {
		if seen[f.Name] {
			t.Errorf("%s: twice in the table", f.Name)
		}
		seen[f.Name] = true
		if f.Description == "" || f.MemoryMB == 0 || f.Timeout == 0 {
			t.Errorf("%s: no description, memory or timeout", f.Name)
		}
		if got, ok := Lookup(f.Name); !ok || got.Name != f.Name {
			t.Errorf("Lookup(%q) = %v, %v", f.Name, got.Name, ok)
		}
		names := map[string]bool{}
		for _, e := range f.Env {
			if _, ok := VariableOf(e.Name); !ok {
				t.Errorf("%s takes %s, which is not in Variables", f.Name, e.Name)
			}
			if names[e.Name] {
				t.Errorf("%s takes %s twice", f.Name, e.Name)
			}
			names[e.Name] = true
		}
		if f.UsesState() != f.Takes(EnvDedupTable) {
			t.Errorf("%s: uses the state table %v, takes %s %v", f.Name, f.UsesState(), EnvDedupTable, f.Takes(EnvDedupTable))
		}
		if (f.Bus != NoBus) != f.Takes(EnvEventBus) {
			t.Errorf("%s: bus %v, takes %s %v", f.Name, f.Bus, EnvEventBus, f.Takes(EnvEventBus))
		}
		for _, s := range slices.Concat(f.State, f.Response) {
			for _, k := range s.Keys {
				if !slices.ContainsFunc(statekey.All, func(p string) bool { return strings.HasPrefix(k, p) }) {
					t.Errorf("%s: state key %q starts with no statekey prefix", f.Name, k)
				}
			}
		}
	}
	if _, ok := Lookup("nope"); ok {
		t.Error(`Lookup("nope") found a function`)
	}
	if !slices.Equal(Names(), []string{RootActivity, SCPGuard, Onboarding, Audit, Notifier, Heartbeat}) {
		t.Errorf("Names() = %v", Names())
	}
}

func TestAccess(t *testing.T) {
	ra, _ := Lookup(RootActivity)
	if !ra.Reads(statekey.Grant) || ra.Writes(statekey.Grant) || !ra.Writes(statekey.Owner) || ra.Reads(statekey.Policy) {
		t.Errorf("root-activity: reads grant# only, writes owner#, no policy#: %+v", ra.State)
	}
	sg, _ := Lookup(SCPGuard)
	if !sg.Writes(statekey.Policy) || !sg.Writes(statekey.Grant) || !sg.Writes(statekey.Revert) || sg.Reads(statekey.Owner) {
		t.Errorf("scp-guard: writes policy# and grant#, no owner#: %+v", sg.State)
	}
}

func TestVariablesOnce(t *testing.T) {
	seen := map[string]bool{}
	for _, v := range Variables {
		if seen[v.Name] || !strings.HasPrefix(v.Name, "ROOTGUARD_") {
			t.Errorf("%s: twice, or not a ROOTGUARD_ name", v.Name)
		}
		seen[v.Name] = true
		taken := slices.ContainsFunc(Table, func(f Function) bool { return f.Takes(v.Name) })
		if !taken {
			t.Errorf("%s: no function takes it", v.Name)
		}
	}
}
