package rule_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/rootguard/rootguard/events"
	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/org"
	"github.com/rootguard/rootguard/internal/replay"
	"github.com/rootguard/rootguard/internal/rule"
)

// TestForgedSamples replays each forged sample as `rootguard replay` does: it is skipped (counted
// as not from AWS), raises nothing, and is not an input error. Each is a copy of a sample that
// raises a HIGH or CRITICAL finding in its genuine envelope.
func TestForgedSamples(t *testing.T) {
	// events/forged/ holds EventBridge events AWS did not write (events/README.md).
	files, err := events.Folder(events.Forged)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 3 {
		t.Fatalf("%d forged samples, want at least a custom source, a member's canary and an account mismatch", len(files))
	}
	facts, err := org.LoadSnapshot(bytes.NewReader(events.Org()))
	if err != nil {
		t.Fatal(err)
	}
	dir := copySamples(t)
	for _, f := range files {
		path := filepath.Join(dir, filepath.FromSlash(f.Path))
		t.Run(f.Name(), func(t *testing.T) {
			eng, err := rule.NewEngine(sampleConfig)
			if err != nil {
				t.Fatal(err)
			}
			var got []finding.Finding
			stats, err := replay.Run(context.Background(), []string{path}, replay.Options{
				Evaluate: eng.NewReplayer(facts).Evaluate, Merge: rule.Merge,
				Emit:         func(f finding.Finding) { got = append(got, f) },
				OnInputError: func(e replay.InputError) { t.Errorf("input error: %v", e) },
			})
			if err != nil {
				t.Fatal(err)
			}
			if stats.NotFromAWS != 1 || len(got) > 0 {
				t.Errorf("%d skipped as not from AWS, findings %s; want 1 skipped and none", stats.NotFromAWS, summary(got))
			}
		})
	}
}
