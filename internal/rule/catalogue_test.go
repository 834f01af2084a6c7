package rule_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rootguard/rootguard/events"
	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/org"
	"github.com/rootguard/rootguard/internal/replay"
	"github.com/rootguard/rootguard/internal/routing"
	"github.com/rootguard/rootguard/internal/rule"
)

// sampleConfig is the configuration the samples are written for (events/README.md).
var sampleConfig = rule.Config{
	StaxDomains:        []string{"stax.example"},
	TrustedPrincipals:  []string{"arn:aws:iam::111111111111:role/stax-guardrail-automation"},
	ExceptionApprovers: []string{"arn:aws:iam::111111111111:role/stax-exception-approver"},
}

// replayFile replays one sample file alone against events/org.json, with an audit afterwards
// when audit is set, as `rootguard replay --org events/org.json --stax-domains stax.example` does.
func replayFile(t *testing.T, path string, audit bool) []finding.Finding {
	t.Helper()
	facts, err := org.LoadSnapshot(bytes.NewReader(events.Org()))
	if err != nil {
		t.Fatal(err)
	}
	eng, err := rule.NewEngine(sampleConfig)
	if err != nil {
		t.Fatal(err)
	}
	rep := eng.NewReplayer(facts)
	var out []finding.Finding
	_, err = replay.Run(context.Background(), []string{path}, replay.Options{
		Evaluate:     rep.Evaluate,
		Merge:        rule.Merge,
		Emit:         func(f finding.Finding) { out = append(out, f) },
		OnInputError: func(e replay.InputError) { t.Errorf("input error: %v", e) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if audit {
		more, err := rep.Audit(time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, more...)
	}
	return out
}

type sample struct {
	rule, severity string // severity "none" for a non-matching sample
	name           string // the file, relative to events/
	path           string // the file, copied for the replay (which reads files)
}

// samples returns the samples of every rule (events/forged/ aside: TestForgedSamples), copied
// from the events package into a temporary folder.
func samples(t *testing.T) []sample {
	t.Helper()
	all, err := events.Rules()
	if err != nil {
		t.Fatal(err)
	}
	dir := copySamples(t)
	var out []sample
	for _, s := range all {
		out = append(out, sample{rule: s.Folder, severity: s.Severity, name: s.Path, path: filepath.Join(dir, filepath.FromSlash(s.Path))})
	}
	return out
}

// copySamples writes the events/ folder of the events package into a temporary folder.
func copySamples(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := events.CopyTo(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestSamples replays every sample alone and checks it does what its name says:
// events/<RULE>/<SEVERITY>.<slug>.json raises RULE at SEVERITY; none.<slug>.json does not raise RULE.
func TestSamples(t *testing.T) {
	for _, s := range samples(t) {
		t.Run(s.name, func(t *testing.T) {
			r, ok := rule.ByID(s.rule)
			if !ok {
				t.Fatalf("folder %s is not a rule id", s.rule)
			}
			got := replayFile(t, s.path, r.AuditOnly)
			var sevs []string
			for _, f := range got {
				if f.Rule == s.rule {
					sevs = append(sevs, f.Severity.String())
				}
			}
			if s.severity == "none" {
				if len(sevs) > 0 {
					t.Errorf("raised %s %v; the sample says it must not", s.rule, sevs)
				}
				return
			}
			if _, err := finding.ParseSeverity(s.severity); err != nil {
				t.Fatalf("file name: %v", err)
			}
			if !slices.Contains(sevs, s.severity) {
				t.Errorf("want %s at %s, got %v; all findings: %s", s.rule, s.severity, sevs, summary(got))
			}
		})
	}
}

func summary(fs []finding.Finding) string {
	var parts []string
	for _, f := range fs {
		parts = append(parts, fmt.Sprintf("%s/%s/%s", f.Rule, f.Severity, f.AccountID))
	}
	return strings.Join(parts, ", ")
}

// TestCatalogue checks the catalogue's metadata and that every rule has at least one matching and
// one non-matching sample.
func TestCatalogue(t *testing.T) {
	if err := rule.Validate(); err != nil {
		t.Fatal(err)
	}
	pos, neg := map[string]int{}, map[string]int{}
	for _, s := range samples(t) {
		if s.severity == "none" {
			neg[s.rule]++
		} else {
			pos[s.rule]++
		}
	}
	seen := map[string]bool{}
	for _, r := range rule.Catalogue() {
		if seen[r.ID] {
			t.Errorf("duplicate rule id %s", r.ID)
		}
		seen[r.ID] = true
		if pos[r.ID] == 0 {
			t.Errorf("rule %s has no matching sample under events/%s/", r.ID, r.ID)
		}
		if neg[r.ID] == 0 {
			t.Errorf("rule %s has no non-matching (none.) sample under events/%s/", r.ID, r.ID)
		}
	}
	for id := range pos {
		if !seen[id] {
			t.Errorf("events/%s/ names no rule", id)
		}
	}
}

// TestRootRulesAtMostOne: no event raises more than one root rule.
func TestRootRulesAtMostOne(t *testing.T) {
	root := map[string]bool{}
	for _, r := range rule.Catalogue() {
		if r.Group == rule.GroupRoot {
			root[r.ID] = true
		}
	}
	for _, s := range samples(t) {
		byEvent := map[string][]string{}
		for _, f := range replayFile(t, s.path, false) {
			if root[f.Rule] && f.EventID != "" {
				byEvent[f.EventID] = append(byEvent[f.EventID], f.Rule)
			}
		}
		for ev, rules := range byEvent {
			if len(rules) > 1 {
				t.Errorf("%s: event %s raised %v", s.name, ev, rules)
			}
		}
	}
}

// TestDemoCoversEveryRule replays the whole events/ folder with an audit, as `make demo` does,
// and checks every rule id appears.
func TestDemoCoversEveryRule(t *testing.T) {
	var paths []string
	for _, s := range samples(t) {
		paths = append(paths, s.path)
	}
	slices.Sort(paths)
	facts, err := org.LoadSnapshot(bytes.NewReader(events.Org()))
	if err != nil {
		t.Fatal(err)
	}
	eng, _ := rule.NewEngine(sampleConfig)
	rep := eng.NewReplayer(facts)
	got := map[string]bool{}
	_, err = replay.Run(context.Background(), paths, replay.Options{
		Evaluate: rep.Evaluate, Merge: rule.Merge,
		Emit: func(f finding.Finding) { got[f.Rule] = true },
	})
	if err != nil {
		t.Fatal(err)
	}
	audit, err := rep.Audit(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range audit {
		got[f.Rule] = true
	}
	for _, r := range rule.Catalogue() {
		if !got[r.ID] {
			t.Errorf("the demo raises no %s", r.ID)
		}
	}
}

// TestCatalogueRouted: every event a rule declares is taken by a function that evaluates the
// rule's group, and every rule raised by events has a function that takes them.
func TestCatalogueRouted(t *testing.T) {
	for _, err := range routing.Check(rule.Catalogue(), routing.Table) {
		t.Error(err)
	}
}

// TestSampleNotes: a rule folder's README.md links only samples that are there.
func TestSampleNotes(t *testing.T) {
	notes, err := filepath.Glob(filepath.Join("..", "..", "events", "*", "README.md")) // documentation, beside the samples
	if err != nil {
		t.Fatal(err)
	}
	link := regexp.MustCompile(`\]\(([^)#]+)\)`)
	for _, n := range notes {
		data, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range link.FindAllStringSubmatch(string(data), -1) {
			if strings.Contains(m[1], "://") {
				continue
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(n), m[1])); err != nil {
				t.Errorf("%s links %s: %v", n, m[1], err)
			}
		}
	}
}
