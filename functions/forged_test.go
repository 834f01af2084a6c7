package functions

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rootguard/rootguard/shared/route"
)

// forgedDir holds the sample events AWS did not write (events/README.md): the evaluators refuse
// them, so they are not replayed as samples.
const forgedDir = "forged"

// centralAccount is the account the harness's canaries come from (the management account of the
// sample organization doubles as the central account here): ROOTGUARD_CENTRAL_ACCOUNT.
const centralAccount = "111111111111"

// isForged reports whether a sample file is one of the forged events.
func isForged(path string) bool { return filepath.Base(filepath.Dir(path)) == forgedDir }

// forged: every forged sample, handed straight to the evaluators (as if a rule had matched it),
// is refused by each with the reason "not from AWS", and nothing reaches the findings bus.
func (h *e2e) forged(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	h.stopEvaluators()
	files, err := filepath.Glob(filepath.Join(eventsDir, forgedDir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no forged sample: %v", err)
	}
	busStart := len(h.fake.Events())
	for _, f := range files {
		for i, raw := range readEvents(t, f) {
			for _, fn := range []string{route.RootActivity, route.SCPGuard} {
				err := h.evaluator(t, fn).invoke(ctx, raw)
				if err == nil || !strings.Contains(err.Error(), "event not from AWS") {
					t.Errorf("%s event %d through %s: %v, want a refusal: event not from AWS", filepath.Base(f), i+1, fn, err)
				}
			}
		}
	}
	if got := h.fake.Events()[busStart:]; len(got) > 0 {
		t.Errorf("forged events put %d findings on the bus", len(got))
	}
	for _, fn := range []string{route.RootActivity, route.SCPGuard} {
		if log := h.evaluator(t, fn).proc.out.String(); !strings.Contains(log, `"reason":"not from AWS"`) {
			t.Errorf("%s logged no refusal reason:\n%s", fn, log)
		}
	}
}
