package replay

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rootguard/rootguard/internal/cloudtrail"
	"github.com/rootguard/rootguard/internal/routing"
)

// benchPrefilter is the prefilter of the routing table.
var benchPrefilter = cloudtrail.NewPrefilter(routing.Patterns())

// TestPrefilterKeepsFindings replays every sample event through the real rule engine with the
// routing table's prefilter and without one (every record decoded): the findings must be the
// same, so no rule reads an event that the routing patterns, and so the prefilter, leave out.
func TestPrefilterKeepsFindings(t *testing.T) {
	run := func(prefilter bool) (*engineRun, Stats) {
		er := newEngineRun(t)
		if !prefilter {
			er.opts.Patterns = nil
		}
		stats, err := Run(context.Background(), []string{"../../events"}, er.opts)
		if err != nil {
			t.Fatal(err)
		}
		return er, stats
	}
	with, withStats := run(true)
	all, allStats := run(false)
	if diff := cmp.Diff(all.findings, with.findings); diff != "" {
		t.Errorf("findings differ with the prefilter (-every record decoded +prefiltered):\n%s", diff)
	}
	if len(all.findings) < 50 {
		t.Errorf("%d findings from the samples; want the whole catalogue's", len(all.findings))
	}
	if withStats.Candidates >= allStats.Candidates {
		t.Errorf("the prefilter kept %d of %d records: it drops nothing", withStats.Candidates, allStats.Candidates)
	}
	t.Logf("%d records, %d candidates, %d findings", allStats.Records, withStats.Candidates, len(with.findings))
}
