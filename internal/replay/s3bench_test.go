package replay

import (
	"bytes"
	"context"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3/backend/s3afero"
	"github.com/spf13/afero"

	"github.com/rootguard/rootguard/events"
	"github.com/rootguard/rootguard/internal/cloudtrail"
	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/org"
	"github.com/rootguard/rootguard/internal/routing"
	"github.com/rootguard/rootguard/internal/rule"
)

// benchArchive is 200,000 records, as BenchmarkReplay, in 100 log files of 2,000 (five
// accounts, two regions, two days, five files a day): about the size of real log files.
var benchArchive = archive{
	accounts: []string{"111111111111", "222222222222", "333333333333", "444444444444", "555555555555"},
	regions:  []string{"eu-west-1", "us-east-1"},
	days:     []time.Time{time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 5, 2, 0, 0, 0, 0, time.UTC)},
	hours:    []time.Duration{3 * time.Minute, 5 * time.Hour, 10 * time.Hour, 15 * time.Hour, 20 * time.Hour},
	records:  2000,
}

// BenchmarkReplayS3 replays the same archive from disk and from an in-process S3 (gofakes3
// over httptest on the loopback, S3Parallel GETs at once), through the whole pipeline and the
// real rule engine, in the same run. The S3 figures include the fake server's own work, which
// runs in the same process (its objects are files on disk, github.com/spf13/afero); the peak
// heap is the whole process's, fake server included.
//
//	go test ./internal/replay -run '^$' -bench ReplayS3 -benchtime 3x
func BenchmarkReplayS3(b *testing.B) {
	// Both stores are on disk, so that the heap holds only what the replay holds.
	dir := b.TempDir()
	store, err := s3afero.MultiBucket(afero.NewBasePathFs(afero.NewOsFs(), filepath.Join(dir, "s3")))
	if err != nil {
		b.Fatal(err)
	}
	fake := newFakeS3On(b, store)
	files := benchArchive.generate(7)
	fake.put(b, testBucket, files)
	writeArchive(b, filepath.Join(dir, "disk"), files)
	var size int64
	for _, f := range files {
		size += int64(len(f.data))
	}
	inDiskOrder := replayOrder(filepath.Join(dir, "disk"), files, nil)
	files = nil
	eng, err := rule.NewEngine(rule.Config{StaxDomains: []string{"stax.example"}})
	if err != nil {
		b.Fatal(err)
	}
	facts, err := org.LoadSnapshot(bytes.NewReader(events.Org()))
	if err != nil {
		b.Fatal(err)
	}
	const n = 200_000
	for _, src := range []struct {
		name   string
		inputs []string
		s3     S3API
	}{
		{"disk", inDiskOrder, nil},
		{"s3", []string{"s3://" + testBucket + "/AWSLogs/"}, fake.client("us-east-1")},
	} {
		b.Run(src.name, func(b *testing.B) {
			var findings int
			opts := Options{
				Evaluate: func(ev *cloudtrail.Event) []finding.Finding { return eng.Evaluate(ev, facts) },
				Merge:    rule.Merge,
				Emit:     func(finding.Finding) { findings++ },
				S3:       src.s3,
				Patterns: routing.Patterns(),
			}
			var peak heapPeak
			runtime.GC()
			cpu0 := cpuTime()
			for b.Loop() {
				findings = 0
				stop := peak.sample()
				stats, err := Run(context.Background(), src.inputs, opts)
				stop()
				if err != nil || stats.Records != n || stats.Errors != 0 || stats.Files != 100 {
					b.Fatalf("%+v, %v: want 100 files, %d records, no errors", stats, err, n)
				}
			}
			cpu := cpuTime() - cpu0
			events := float64(n) * float64(b.N)
			b.ReportMetric(events/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(events/cpu.Seconds(), "cpu-events/s")
			b.ReportMetric(float64(size)*float64(b.N)/b.Elapsed().Seconds()/1e6, "in-MB/s")
			b.ReportMetric(float64(peak.max)/(1<<20), "peak-heap-MB")
			b.ReportMetric(float64(findings), "findings")
		})
	}
}
