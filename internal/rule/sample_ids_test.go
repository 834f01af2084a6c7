package rule_test

import (
	"context"
	"testing"

	"github.com/rootguard/rootguard/internal/cloudtrail"
	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/replay"
)

// TestSampleEventIDsName: two samples may carry the same event id only when it is the same event
// (a sequence repeating an earlier sample's event). The demo replays every sample in one run and
// de-duplicates by event id, so two different events sharing an id would silently hide one of
// them from the demo and from every test that replays the whole folder.
func TestSampleEventIDsNameOneEvent(t *testing.T) {
	type seen struct {
		what, path string
	}
	byID := map[string]seen{}
	for _, s := range samples(t) {
		_, err := replay.Run(context.Background(), []string{s.path}, replay.Options{
			Evaluate: func(ev *cloudtrail.Event) []finding.Finding {
				id := ev.ID()
				if id == "" {
					return nil
				}
				what := ev.EventSource + " " + ev.EventName + " " + ev.EventTime + " " + ev.RecipientAccountID
				if prev, ok := byID[id]; ok && prev.what != what {
					t.Errorf("event id %s names two events: %s (%s) and %s (%s)", id, prev.what, prev.path, what, s.name)
				}
				byID[id] = seen{what, s.name}
				return nil
			},
		})
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
	}
}
