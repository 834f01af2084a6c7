package rule_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/rootguard/rootguard/events"
	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/org"
	"github.com/rootguard/rootguard/internal/rule"
)

func TestResolveAudit(t *testing.T) {
	eng, err := rule.NewEngine(sampleConfig)
	if err != nil {
		t.Fatal(err)
	}
	facts, err := org.LoadSnapshot(bytes.NewReader(events.Org()))
	if err != nil {
		t.Fatal(err)
	}
	day1 := time.Date(2026, 11, 28, 6, 0, 0, 0, time.UTC)
	first, err := eng.Audit(facts, day1)
	if err != nil || len(first) == 0 {
		t.Fatalf("audit: %d findings, %v", len(first), err)
	}
	resolved, open := rule.ResolveAudit(nil, first, day1)
	if len(resolved) != 0 || len(open) != len(first) {
		t.Fatalf("first audit: %d resolved, %d open; want 0, %d", len(resolved), len(open), len(first))
	}
	if open[0].Description != "" || open[0].ID != first[0].ID {
		t.Errorf("open findings are not trimmed: %+v", open[0])
	}
	// The next day every check still fails but one: the legacy account's root access keys are gone.
	day2 := day1.Add(24 * time.Hour)
	second, err := eng.Audit(facts, day2)
	if err != nil {
		t.Fatal(err)
	}
	var fixed finding.Finding
	var rest []finding.Finding
	for _, f := range second {
		if f.Rule == "POSTURE-ROOT-ACCESS-KEYS" && f.AccountID == "555555555555" {
			fixed = f
			continue
		}
		rest = append(rest, f)
	}
	if fixed.ID == "" {
		t.Fatal("the sample organization has no POSTURE-ROOT-ACCESS-KEYS finding for 555555555555")
	}
	resolved, open = rule.ResolveAudit(open, rest, day2)
	if len(resolved) != 1 || resolved[0].Rule != "POSTURE-ROOT-ACCESS-KEYS" || resolved[0].AccountID != "555555555555" {
		t.Fatalf("resolved %+v, want the day-1 root access keys finding", resolved)
	}
	r := resolved[0]
	if r.Status != finding.StatusResolved || r.ResolvedBy != finding.ResolvedByAudit || r.ResolvedAt != "2026-11-29T06:00:00Z" || r.ID == fixed.ID {
		t.Errorf("resolution %q %q %q id %s (day-2 id %s)", r.Status, r.ResolvedBy, r.ResolvedAt, r.ID, fixed.ID)
	}
	// Still failing checks keep both days' findings; once they pass, both are resolved.
	if want := 2*len(rest) - 0; len(open) != want {
		t.Errorf("%d open after day 2, want %d (two days of %d failing checks)", len(open), want, len(rest))
	}
	resolved, open = rule.ResolveAudit(open, nil, day2.Add(24*time.Hour))
	if len(resolved) != 2*len(rest) || len(open) != 0 {
		t.Errorf("all passing: %d resolved, %d open", len(resolved), len(open))
	}
}
