package infra

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/rootguard/rootguard/events"
	"github.com/rootguard/rootguard/infra/eventpattern"
	"github.com/rootguard/rootguard/internal/aws/awsorg"
	"github.com/rootguard/rootguard/internal/function"
	"github.com/rootguard/rootguard/internal/org"
	"github.com/rootguard/rootguard/internal/route"
	"github.com/rootguard/rootguard/internal/routing"
	"github.com/rootguard/rootguard/internal/rule"
)

// sampleFile is one file under events/ and the EventBridge events it holds.
type sampleFile struct {
	Path   string // relative to events/
	Folder string // the rule id
	None   bool   // none.<slug>: the file must not raise its folder's rule
	Events []map[string]any
}

// loadSamples reads every sample of the events package (bare CloudTrail records wrapped as
// EventBridge delivers them in the account and region that recorded them).
func loadSamples(t *testing.T) []sampleFile {
	t.Helper()
	all, err := events.All()
	if err != nil {
		t.Fatalf("read the samples: %v", err)
	}
	var out []sampleFile
	for _, s := range all {
		raws, err := s.Events()
		if err != nil {
			t.Fatalf("read the samples: %v", err)
		}
		f := sampleFile{Path: filepath.FromSlash(s.Path), Folder: s.Folder, None: s.None()}
		for i, raw := range raws {
			var ev map[string]any
			if err := json.Unmarshal(raw, &ev); err != nil {
				t.Fatalf("%s event %d: %v", s.Path, i+1, err)
			}
			f.Events = append(f.Events, ev)
		}
		out = append(out, f)
	}
	return out
}

// mustHandle is which functions must receive an event: those the routing table derived from
// the rule catalogue sends it to (package routing), as the Go matcher of package route judges
// it. The synthesized patterns, matched by package eventpattern as EventBridge would, must agree.
func mustHandle(ev map[string]any) []string {
	str := func(path ...any) string { s, _ := get(ev, path...).(string); return s }
	out := routing.FunctionsFor(route.Fields{
		Source: str("source"), DetailType: str("detail-type"),
		EventSource: str("detail", "eventSource"), EventName: str("detail", "eventName"),
		UserIdentityType: str("detail", "userIdentity", "type"), RequestName: str("detail", "requestParameters", "name"),
	})
	slices.Sort(out)
	return slices.Compact(out)
}

// changesCachedFacts reports whether an event of this source, name and CloudTrail event type is
// one whose change the functions' cached organization facts drop.
func changesCachedFacts(source, name, kind string) bool {
	if kind != "AwsApiCall" && kind != "AwsServiceEvent" {
		return false
	}
	return slices.ContainsFunc(org.ChangeEvents(), func(ce org.ChangeEvent) bool {
		return ce.EventSource == source && ce.EventName == name && awsorg.Invalidates(ce.Kind)
	})
}

// folderOwners are the functions that raise a folder's rule (routing.Owners): one of them must
// receive some event of each sample that raises it.
func folderOwners(folder string) ([]string, error) {
	if folder == forgedFolder { // events AWS did not write: checkForged
		return nil, nil
	}
	r, ok := rule.ByID(folder)
	if !ok {
		return nil, fmt.Errorf("folder %s names no rule", folder)
	}
	return routing.Owners(r), nil
}

// noneMayReach is which functions a none. sample of a folder may legitimately reach (they
// discard it in code): its rule's owners, and the functions that take every event of its kind
// whatever it is: root calls that are not human root activity (invokedBy a service, centralised
// root sessions, a key created for an IAM user) reach root-activity, and any IAM change of a
// role or user reaches scp-guard, which compares it with the trusted principals.
func noneMayReach(folder string, ev map[string]any) []string {
	owners, _ := folderOwners(folder)
	if get(ev, "detail", "userIdentity", "type") == "Root" {
		owners = append(owners, function.RootActivity)
	}
	str := func(path ...any) string { s, _ := get(ev, path...).(string); return s }
	if changesCachedFacts(str("detail", "eventSource"), str("detail", "eventName"), str("detail", "eventType")) {
		owners = append(owners, function.RootActivity, function.SCPGuard, function.Onboarding) // to drop cached facts
	}
	trust, _ := rule.ByID("TRUSTED-PRINCIPAL-CHANGED")
	if name := str("detail", "eventName"); str("detail", "eventSource") == "iam.amazonaws.com" &&
		slices.ContainsFunc(trust.Events, func(e route.Event) bool { return slices.Contains(e.EventNames, name) }) {
		owners = append(owners, function.SCPGuard) // it may change a trusted principal: scp-guard looks
	}
	return owners
}

type compiledRule struct {
	function string
	pattern  map[string]any
}

// busRules returns the synthesized rules of a template that carry an event pattern, each with the
// function it feeds (central) or the route it forwards (forwarders, by construct id).
func busRules(t *testing.T, tpl map[string]any, fnIDs map[string]string) []compiledRule {
	t.Helper()
	var out []compiledRule
	for _, r := range resourcesOf(tpl, "AWS::Events::Rule") {
		if r.Props["EventPattern"] == nil {
			continue
		}
		b, _ := json.Marshal(r.Props["EventPattern"])
		p, err := eventpattern.Parse(b)
		if err != nil {
			t.Fatalf("rule %s: %v", r.ID, err)
		}
		fn := ""
		for name, id := range fnIDs {
			if ref(get(r.Props, "Targets", 0, "Arn")) == id {
				fn = name
			}
		}
		if fnIDs == nil {
			fn = r.ID
		}
		out = append(out, compiledRule{function: fn, pattern: p})
	}
	return out
}

func matching(rules []compiledRule, ev map[string]any) []string {
	var out []string
	for _, r := range rules {
		if eventpattern.Match(r.pattern, ev) {
			out = append(out, r.function)
		}
	}
	slices.Sort(out)
	return out
}

// TestSamplesReachExactlyTheirFunctions evaluates every sample event against the synthesized
// patterns: on the central bus it must match exactly the functions that must handle it, and where
// it is recorded (the management account or a member account, in its region) a forwarder must
// send it to the central bus.
func TestSamplesReachExactlyTheirFunctions(t *testing.T) {
	s := synth(t, auditRole)
	org := loadSampleOrg(t)
	central := busRules(t, s.central(), functionIDs(t, s.central()))
	var orgRules []compiledRule
	for _, r := range central {
		if r.function != function.Notifier {
			orgRules = append(orgRules, r)
		}
	}
	if len(orgRules) != len(routing.Table) {
		t.Fatalf("%d central rules with patterns, want %d", len(orgRules), len(routing.Table))
	}
	member := busRules(t, s.member(), nil)
	management := map[string][]compiledRule{}
	for _, region := range s.cfg.ForwardRegions {
		management[region] = busRules(t, s.management(region), nil)
	}

	files := loadSamples(t)
	if len(files) == 0 {
		t.Fatal("no sample event under events/")
	}
	events, reached := 0, map[string]int{}
	for _, f := range files {
		t.Run(f.Path, func(t *testing.T) {
			owners, err := folderOwners(f.Folder)
			if err != nil {
				t.Fatal(err)
			}
			var union []string
			for i, ev := range f.Events {
				events++
				want := mustHandle(ev)
				got := matching(orgRules, ev)
				union = append(union, got...)
				for _, fn := range got {
					reached[fn]++
				}
				at := fmt.Sprintf("event %d (%v %v by %v)", i, get(ev, "detail", "eventSource"), get(ev, "detail", "eventName"), get(ev, "detail", "userIdentity", "type"))
				if f.Folder == forgedFolder {
					checkForged(t, at, ev, got)
					continue
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s reaches %v on the central bus, want exactly %v", at, got, want)
				}
				if f.None {
					for _, fn := range got {
						if !slices.Contains(noneMayReach(f.Folder, ev), fn) {
							t.Errorf("%s: a none. sample of %s reaches %s", at, f.Folder, fn)
						}
					}
				}
				if len(want) == 0 {
					continue
				}
				account, _ := ev["account"].(string)
				region, _ := ev["region"].(string)
				var forwarders []compiledRule
				where := "member account " + account
				if account == org.Organization.ManagementAccountID {
					where = "management account"
					forwarders = management[region]
				} else if slices.Contains(s.cfg.ForwardRegions, region) {
					forwarders = member
				}
				if forwarders == nil {
					t.Errorf("%s is recorded in %s of the %s, where nothing forwards (regions %v)", at, region, where, s.cfg.ForwardRegions)
				} else if len(matching(forwarders, ev)) == 0 {
					t.Errorf("%s is recorded in %s of the %s, and no forwarding rule there sends it to the central bus", at, region, where)
				}
			}
			if !f.None && !slices.ContainsFunc(owners, func(o string) bool { return slices.Contains(union, o) }) {
				t.Errorf("raises %s, but none of its events reaches %v", f.Folder, owners)
			}
		})
	}
	t.Logf("%d sample files, %d events; events reaching each function: %v", len(files), events, reached)
	for _, r := range routing.Table {
		if r.Function == function.Heartbeat {
			continue // its own round-trip event only (TestRoundTripReachesOnlyTheHeartbeat)
		}
		if reached[r.Function] == 0 {
			t.Errorf("no sample reaches %s", r.Function)
		}
	}
}
