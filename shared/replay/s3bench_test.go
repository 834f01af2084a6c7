package replay

import (
	"context"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/rootguard/rootguard/shared/cloudtrail"
	"github.com/rootguard/rootguard/shared/finding"
	"github.com/rootguard/rootguard/shared/org"
	"github.com/rootguard/rootguard/shared/rule"
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
// runs in the same process; the peak heap is measured above the heap before the run (which
// holds the fake's stored archive).
//
//	go test ./shared/replay -run '^$' -bench ReplayS3 -benchtime 3x
func BenchmarkReplayS3(b *testing.B) {
	files := benchArchive.generate(7)
	fake := newFakeS3(b)
	fake.put(b, testBucket, files)
	dir := b.TempDir()
	writeArchive(b, dir, files)
	var size int64
	for _, f := range files {
		size += int64(len(f.data))
	}
	eng, err := rule.NewEngine(rule.Config{StaxDomains: []string{"stax.example"}})
	if err != nil {
		b.Fatal(err)
	}
	facts, err := org.LoadSnapshotFile("../../events/org.json")
	if err != nil {
		b.Fatal(err)
	}
	const n = 200_000
	for _, src := range []struct {
		name   string
		inputs []string
		s3     S3API
	}{
		{"disk", replayOrder(dir, files, nil), nil},
		{"s3", []string{"s3://" + testBucket + "/AWSLogs/"}, fake.client("us-east-1")},
	} {
		b.Run(src.name, func(b *testing.B) {
			var findings int
			opts := Options{
				Evaluate: func(ev *cloudtrail.Event) []finding.Finding { return eng.Evaluate(ev, facts) },
				Merge:    rule.Merge,
				Emit:     func(finding.Finding) { findings++ },
				S3:       src.s3,
			}
			var peak heapPeak
			runtime.GC()
			base := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
			metrics.Read(base) // the fake's stored archive is live heap: measure above it
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
			b.ReportMetric(float64(peak.max-base[0].Value.Uint64())/(1<<20), "peak-heap-over-base-MB")
			b.ReportMetric(float64(findings), "findings")
		})
	}
}
