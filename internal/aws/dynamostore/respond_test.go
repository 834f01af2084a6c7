package dynamostore

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/rule"
	"github.com/rootguard/rootguard/internal/testenv/dynalite"
)

func TestRespondAdmit(t *testing.T) {
	dyn := dynalite.Start(t)
	table := dynalite.TableName(t.Name())
	dyn.CreateTable(t, table)
	s := &Respond{API: dyn.Client(), Table: table, Window: time.Hour, Max: 3}
	ctx := context.Background()
	at := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	res := "detached/p-1/r-1"
	for i, want := range []struct {
		ev       string
		offset   time.Duration
		admitted bool
		n        int
	}{
		{"e1", 0, true, 1},
		{"e1", time.Minute, true, 1}, // a retry of the same event counts once
		{"e2", 10 * time.Minute, true, 2},
		{"e3", 20 * time.Minute, true, 3},
		{"e4", 30 * time.Minute, false, 3}, // the fourth within the hour gives up
		{"e5", 61 * time.Minute, true, 3},  // e1 left the window
	} {
		ok, n, err := s.Admit(ctx, res, want.ev, at.Add(want.offset))
		if err != nil || ok != want.admitted || n != want.n {
			t.Errorf("step %d (%s): admitted %v, n %d, err %v; want %v, %d", i+1, want.ev, ok, n, err, want.admitted, want.n)
		}
	}
	// Another resource has its own count.
	if ok, n, err := s.Admit(ctx, "modified/p-1", "e4", at.Add(30*time.Minute)); err != nil || !ok || n != 1 {
		t.Errorf("other resource: %v %d %v", ok, n, err)
	}
	// Concurrent events on a fresh resource: exactly Max admitted.
	var wg sync.WaitGroup
	var mu sync.Mutex
	admitted := 0
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, _, err := s.Admit(ctx, "account/1", "c"+string(rune('a'+i)), at)
			mu.Lock()
			defer mu.Unlock()
			if err == nil && ok {
				admitted++
			}
		}()
	}
	wg.Wait()
	if admitted > 3 {
		t.Errorf("%d concurrent reverts admitted, at most 3", admitted)
	}
}

func TestRespondOpenFindings(t *testing.T) {
	dyn := dynalite.Start(t)
	table := dynalite.TableName(t.Name())
	dyn.CreateTable(t, table)
	s := &Respond{API: dyn.Client(), Table: table, Window: time.Hour, Max: 3}
	ctx := context.Background()
	base := "content"
	open := []rule.Open{
		{Key: "modified/p-1", Finding: finding.Finding{ID: "f-1", Rule: "SCP-MODIFIED", Severity: finding.Critical, Title: "a <b> \"c\""}, Baseline: &base},
		{Key: "modified/p-1", Finding: finding.Finding{ID: "f-2", Rule: "SCP-MODIFIED", Severity: finding.High}},
		{Key: "detached/p-1/r-1", Finding: finding.Finding{ID: "f-3", Rule: "SCP-DETACHED", Severity: finding.Critical}},
	}
	if err := s.Keep(ctx, open); err != nil {
		t.Fatal(err)
	}
	got, err := s.Open(ctx, "modified/p-1")
	if err != nil || len(got) != 2 || got[0].Finding.ID != "f-1" || got[0].Finding.Title != `a <b> "c"` || got[0].Baseline == nil || *got[0].Baseline != base || got[1].Baseline != nil {
		t.Fatalf("Open = %+v, %v", got, err)
	}
	if err := s.Drop(ctx, "modified/p-1", []string{"f-1"}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Open(ctx, "modified/p-1"); err != nil || len(got) != 1 || got[0].Finding.ID != "f-2" {
		t.Errorf("after Drop: %+v, %v", got, err)
	}
	if got, err := s.Open(ctx, "policy-type/r-none"); err != nil || len(got) != 0 {
		t.Errorf("nothing kept: %+v, %v", got, err)
	}
}

func TestRespondAuditOpen(t *testing.T) {
	dyn := dynalite.Start(t)
	table := dynalite.TableName(t.Name())
	dyn.CreateTable(t, table)
	s := &Respond{API: dyn.Client(), Table: table}
	ctx := context.Background()
	if got, err := s.LoadAudit(ctx); err != nil || len(got) != 0 {
		t.Fatalf("empty: %v, %v", got, err)
	}
	open := []finding.Finding{{ID: "posture-root-mfa-1", Rule: "POSTURE-ROOT-MFA", Severity: finding.Medium, AccountID: "333333333334", Title: "x & <y>"}}
	if err := s.SaveAudit(ctx, open); err != nil {
		t.Fatal(err)
	}
	if got, err := s.LoadAudit(ctx); err != nil || len(got) != 1 || got[0].ID != open[0].ID || got[0].Title != open[0].Title || got[0].Severity != finding.Medium {
		t.Errorf("LoadAudit = %+v, %v", got, err)
	}
}
