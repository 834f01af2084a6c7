package replay

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rootguard/rootguard/events"
)

// TestForgedEnvelopesSkipped: EventBridge events AWS did not write are skipped and counted, not
// evaluated and not input errors; a forged copy that comes first does not hide the genuine
// event of the same id; bare CloudTrail records (log files) have no envelope and are evaluated.
func TestForgedEnvelopesSkipped(t *testing.T) {
	custom := strings.Replace(envelope("eb-f1", rootRecord("r-1")), `"source":"aws.iam"`, `"source":"acme.forged"`, 1)
	mismatch := strings.Replace(envelope("eb-f2", rootRecord("r-2")), `"account":"444455556666"`, `"account":"111122223333"`, 1)
	canary := strings.Replace(envelope("eb-f3", rootRecord("r-3")), `"source":"aws.iam"`, `"source":"rootguard.canary"`, 1)
	input := strings.Join([]string{
		custom, mismatch, canary,
		envelope("eb-1", rootRecord("r-1")), // the genuine event the first forgery copied
		rootRecord("r-4"),                   // a bare record: no envelope to check
	}, "\n")
	dir := writeFiles(t, map[string][]byte{"mixed.jsonl": []byte(input)})
	rec := &recorder{}
	stats, err := Run(context.Background(), []string{filepath.Join(dir, "mixed.jsonl")}, rec.options())
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"r-1", "r-4"}; !slices.Equal(rec.seen, want) {
		t.Errorf("evaluated %v, want %v", rec.seen, want)
	}
	if stats.NotFromAWS != 3 || stats.Errors != 0 || stats.Duplicates != 0 || len(rec.errors) > 0 {
		t.Errorf("stats %+v, errors %v: want 3 skipped as not from AWS, no input error, no duplicate", stats, rec.errors)
	}
}

// TestForgedSamplesSkipped: every sample under events/forged/ is skipped.
func TestForgedSamplesSkipped(t *testing.T) {
	dir := t.TempDir()
	if err := events.CopyTo(dir); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	stats, err := Run(context.Background(), []string{filepath.Join(dir, events.Forged)}, rec.options())
	if err != nil {
		t.Fatal(err)
	}
	if stats.Files == 0 || stats.NotFromAWS != stats.Files || len(rec.seen) > 0 || stats.Errors > 0 {
		t.Errorf("stats %+v, evaluated %v: want every forged sample skipped", stats, rec.seen)
	}
}
