package handler

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/function"
	"github.com/rootguard/rootguard/internal/rule"
)

type fakeExec struct {
	calls []finding.RevertCall
	err   error
}

func (e *fakeExec) Do(_ context.Context, c finding.RevertCall) (string, error) {
	e.calls = append(e.calls, c)
	return "", e.err
}

type fakeCounter struct {
	n   map[string]int
	err error
}

func (c *fakeCounter) Admit(_ context.Context, res, _ string, _ time.Time) (bool, int, error) {
	if c.err != nil {
		return false, 0, c.err
	}
	if c.n[res] >= MaxRevertsPerHour {
		return false, c.n[res], nil
	}
	c.n[res]++
	return true, c.n[res], nil
}

type memOpen struct {
	m   map[string][]rule.Open
	err error
}

func (s *memOpen) Open(_ context.Context, k string) ([]rule.Open, error) { return s.m[k], s.err }
func (s *memOpen) Keep(_ context.Context, l []rule.Open) error {
	if s.err != nil {
		return s.err
	}
	for _, o := range l {
		s.m[o.Key] = append(s.m[o.Key], o)
	}
	return nil
}
func (s *memOpen) Drop(_ context.Context, k string, ids []string) error {
	s.m[k] = nil
	return nil
}

func TestRespond(t *testing.T) {
	detach := readSample(t, "SCP-DETACHED/CRITICAL.protection-detached-from-root.json")
	tests := []struct {
		name     string
		mode     string
		exec     *fakeExec
		counter  *fakeCounter
		open     *memOpen
		wantNote string // prefix
		wantErr  bool
		calls    int
	}{
		{"off plans nothing", RevertOff, &fakeExec{}, &fakeCounter{n: map[string]int{}}, &memOpen{m: map[string][]rule.Open{}}, "", false, 0},
		{"dry-run calls nothing", RevertDryRun, &fakeExec{}, &fakeCounter{n: map[string]int{}}, &memOpen{m: map[string][]rule.Open{}}, "dry-run at ", false, 0},
		{"on calls", RevertOn, &fakeExec{}, &fakeCounter{n: map[string]int{}}, &memOpen{m: map[string][]rule.Open{}}, "reverted by rootguard at ", false, 1},
		{"a failed call is told, not retried", RevertOn, &fakeExec{err: errors.New("AccessDenied")}, &fakeCounter{n: map[string]int{}}, &memOpen{m: map[string][]rule.Open{}}, "revert failed at ", false, 1},
		{"an unreadable count reverts nothing", RevertOn, &fakeExec{}, &fakeCounter{err: errors.New("throttled")}, &memOpen{m: map[string][]rule.Open{}}, "not reverted at ", false, 0},
		{"given up", RevertOn, &fakeExec{}, &fakeCounter{n: map[string]int{"detached/p-st4xprot01/r-st4x": 3}}, &memOpen{m: map[string][]rule.Open{}}, GaveUp, false, 0},
		{"an unavailable open set still publishes", RevertOn, &fakeExec{}, &fakeCounter{n: map[string]int{}}, &memOpen{m: map[string][]rule.Open{}, err: errors.New("down")}, "reverted by rootguard at ", false, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var log bytes.Buffer
			out := &publisher{}
			h := evaluator(t, function.SCPGuard, sampleOrg(t), out, &log)
			h.Respond = &Responder{Mode: tc.mode, Role: "arn:aws:iam::111111111111:role/rootguard-revert", Exec: tc.exec, Counter: tc.counter, Open: tc.open}
			err := h.Handle(context.Background(), detach)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Handle: %v, want error %v", err, tc.wantErr)
			}
			if tc.wantErr {
				if len(out.got) != 0 {
					t.Errorf("published %d findings although the open set could not be kept", len(out.got))
				}
				return
			}
			if len(out.got) != 1 || !strings.HasPrefix(out.got[0].Revert, tc.wantNote) || tc.wantNote == "" && out.got[0].Revert != "" {
				t.Fatalf("findings %+v, want one with a revert note starting %q", out.got, tc.wantNote)
			}
			if tc.wantNote != "" && !strings.Contains(out.got[0].Description, "Revert: "+out.got[0].Revert) {
				t.Errorf("the description does not tell the revert: %q", out.got[0].Description)
			}
			if len(tc.exec.calls) != tc.calls {
				t.Errorf("%d calls, want %d", len(tc.exec.calls), tc.calls)
			}
			if got := tc.open.m["detached/p-st4xprot01/r-st4x"]; tc.open.err == nil && (len(got) != 1 || got[0].Finding.ID != out.got[0].ID) {
				t.Errorf("open findings %+v", got)
			}
		})
	}
}
