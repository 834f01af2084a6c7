package canary

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/rootguard/rootguard/internal/cloudtrail"
	"github.com/rootguard/rootguard/internal/function"
	"github.com/rootguard/rootguard/internal/route"
	"github.com/rootguard/rootguard/internal/routing"
	"github.com/rootguard/rootguard/internal/rule"
)

// TestEveryCanaryRaisesItsRule: each canary names a catalogue rule of a group its function
// evaluates (the package names the rule by its id, as it must not link the rule engine), decodes,
// is routed to exactly its function, and the engine, evaluating that function's rule groups over
// the canary facts, raises its rule, marked as a canary.
func TestEveryCanaryRaisesItsRule(t *testing.T) {
	eng, err := rule.NewEngine(rule.Config{StaxDomains: []string{"stax.example"}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	events := Events(now)
	if len(events) != len(Kinds) {
		t.Fatalf("%d events for %d kinds", len(events), len(Kinds))
	}
	for _, c := range events {
		t.Run(c.Kind.Name, func(t *testing.T) {
			r, ok := rule.ByID(c.Kind.Rule)
			if !ok {
				t.Fatalf("rule %q is not in the catalogue", c.Kind.Rule)
			}
			fn, ok := function.Lookup(c.Kind.Function)
			if !ok {
				t.Fatalf("function %q is not in the function table", c.Kind.Function)
			}
			var groups []rule.Group
			for _, g := range fn.Groups {
				groups = append(groups, rule.Group(g))
			}
			if !slices.Contains(groups, r.Group) {
				t.Errorf("rule %s (group %s) is not evaluated by %s (groups %v)", r.ID, r.Group, fn.Name, fn.Groups)
			}
			ev, err := cloudtrail.Decode(c.Envelope("999988887777", "eu-west-1", now))
			if err != nil {
				t.Fatal(err)
			}
			if !ev.Canary {
				t.Fatal("not decoded as a canary")
			}
			uit := ""
			if ev.UserIdentity != nil {
				uit = ev.UserIdentity.Type
			}
			fns := routing.FunctionsFor(route.Fields{Source: c.Source, DetailType: c.DetailType, EventSource: ev.EventSource, EventName: ev.EventName, UserIdentityType: uit})
			if !slices.Equal(fns, []string{c.Kind.Function}) {
				t.Errorf("routed to %v, want [%s]", fns, c.Kind.Function)
			}
			fs := eng.Evaluate(ev, Facts("stax.example", "Stax-Protection*"), groups...)
			found := false
			for _, f := range fs {
				if f.Rule == c.Kind.Rule {
					found = true
					if !f.Canary {
						t.Errorf("%s is not marked as a canary", f.Rule)
					}
				}
			}
			if !found {
				t.Errorf("no %s among %+v", c.Kind.Rule, fs)
			}
		})
	}
	if Events(now)[0].Detail == nil || string(Events(now)[0].Detail) != string(Events(now)[0].Detail) {
		t.Error("canary events are not deterministic")
	}
	if string(Events(now.Add(time.Hour))[0].Detail) == string(events[0].Detail) {
		t.Error("two heartbeats share an event id")
	}
}

// TestForgedCanaryMark: the mark on an event of another source is not honoured, so a real event
// cannot be hidden as a canary.
func TestForgedCanaryMark(t *testing.T) {
	c := Events(time.Now())[0]
	var env map[string]any
	if err := json.Unmarshal(c.Envelope("111111111111", "us-east-1", time.Now()), &env); err != nil {
		t.Fatal(err)
	}
	env["source"] = "aws.signin"
	raw, _ := json.Marshal(env)
	ev, err := cloudtrail.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Canary {
		t.Error("a canary mark on an aws.signin event was honoured")
	}
	if cloudtrail.CanarySource != route.CanarySource {
		t.Error("cloudtrail and route disagree on the canary source")
	}
}

// TestCanaryOrganizationIsProtected: the canary organization is compliant: its protection SCP is
// root-guarding, so the account-creation canary raises no SCP-NOT-EFFECTIVE beside its report.
func TestCanaryOrganizationIsProtected(t *testing.T) {
	eng, err := rule.NewEngine(rule.Config{StaxDomains: []string{"stax.example"}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	for _, c := range Events(now) {
		ev, err := cloudtrail.Decode(c.Envelope("999988887777", "eu-west-1", now))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range eng.Evaluate(ev, Facts("stax.example", "Stax-Protection*")) {
			if f.Rule == "SCP-NOT-EFFECTIVE" {
				t.Errorf("%s canary: %s %s", c.Kind.Name, f.Rule, f.Description)
			}
		}
	}
}
