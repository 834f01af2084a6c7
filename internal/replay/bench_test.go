package replay

import (
	"bufio"
	"bytes"
	stdgzip "compress/gzip"
	"context"
	"io"
	"os"
	"os/exec"
	"runtime"
	"runtime/metrics"
	"syscall"
	"testing"
	"time"

	"github.com/rootguard/rootguard/events"
	"github.com/rootguard/rootguard/internal/cloudtrail"
	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/org"
	"github.com/rootguard/rootguard/internal/routing"
	"github.com/rootguard/rootguard/internal/rule"
)

// Run the benchmarks with:
//
//	go test ./internal/replay -run '^$' -bench 'Replay|JQ' -cpu 1 -benchtime 3x
//
// The first run generates the input files under os.TempDir()/rootguard-bench (about 50 MB for
// 200,000 records and 250 MB for 1,000,000) and later runs reuse them.

// BenchmarkReplay replays a gzipped CloudTrail log file of 200,000 records through the whole
// pipeline (gunzip, scan, prefilter, decode, the real rule engine, merge).
func BenchmarkReplay(b *testing.B) { benchReplay(b, 200_000) }

// BenchmarkReplay1M is BenchmarkReplay with 1,000,000 records, to show that memory stays flat.
func BenchmarkReplay1M(b *testing.B) { benchReplay(b, 1_000_000) }

func benchReplay(b *testing.B, n int) {
	path := benchFile(b, n)
	eng, err := rule.NewEngine(rule.Config{StaxDomains: []string{"stax.example"}})
	if err != nil {
		b.Fatalf("rule engine: %v", err)
	}
	facts, err := org.LoadSnapshot(bytes.NewReader(events.Org()))
	if err != nil {
		b.Fatalf("organization facts: %v", err)
	}
	byRule := map[string]int{}
	opts := Options{
		Evaluate: func(ev *cloudtrail.Event) []finding.Finding { return eng.Evaluate(ev, facts) },
		Merge:    rule.Merge,
		Emit:     func(f finding.Finding) { byRule[f.Rule]++ },
		Patterns: routing.Patterns(),
	}
	var peak heapPeak
	var stats Stats
	runtime.GC()
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	cpu0 := cpuTime()
	b.ResetTimer()
	for b.Loop() {
		stop := peak.sample()
		stats, err = Run(context.Background(), []string{path}, opts)
		stop()
		if err != nil {
			b.Fatal(err)
		}
		if stats.Records != n || stats.Errors != 0 {
			b.Fatalf("read %d records with %d errors, want %d and none", stats.Records, stats.Errors, n)
		}
	}
	cpu := cpuTime() - cpu0
	runtime.ReadMemStats(&ms1)
	events := float64(n) * float64(b.N)
	b.ReportMetric(events/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(events/cpu.Seconds(), "cpu-events/s")
	b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/events, "allocs/event")
	b.ReportMetric(float64(peak.max)/(1<<20), "peak-heap-MB")
	b.Logf("%d records: %d candidates, %d decoded, %d findings (by rule, over %d runs: %v)", stats.Records, stats.Candidates, stats.Decoded, stats.Findings, b.N, byRule)
}

// cpuTime is the CPU time the process has used (all threads).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// heapPeak samples the runtime's heap (bytes of heap objects, live or not yet swept) and keeps
// the largest value seen.
type heapPeak struct {
	max uint64
}

// sample starts sampling every millisecond until the returned function is called.
func (h *heapPeak) sample() (stop func()) {
	done, finished := make(chan struct{}), make(chan struct{})
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() {
		metrics.Read(s)
		if v := s[0].Value.Uint64(); v > h.max {
			h.max = v
		}
	}
	go func() {
		defer close(finished)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			read()
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() {
		close(done)
		<-finished
		read()
	}
}

// BenchmarkJQBaseline runs the usual shell answer on the same file:
// gzip -dc FILE | jq -c '.Records[] | select(.userIdentity.type=="Root")' > /dev/null
func BenchmarkJQBaseline(b *testing.B) {
	const n = 200_000
	if _, err := exec.LookPath("jq"); err != nil {
		b.Fatalf("BenchmarkJQBaseline needs jq on the PATH (apt-get install jq): %v", err)
	}
	if _, err := exec.LookPath("gzip"); err != nil {
		b.Fatalf("BenchmarkJQBaseline needs gzip on the PATH: %v", err)
	}
	path := benchFile(b, n)
	b.ResetTimer()
	for b.Loop() {
		cmd := exec.Command("bash", "-c", `set -o pipefail; gzip -dc "$1" | jq -c '.Records[] | select(.userIdentity.type=="Root")' > /dev/null`, "bash", path)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("gzip | jq: %v\n%s", err, out)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkGunzip compares the gunzippers on the benchmark file: the standard library's and
// github.com/klauspost/compress's (which gzipReader uses).
func BenchmarkGunzip(b *testing.B) {
	path := benchFile(b, 200_000)
	info, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 256<<10)
	for _, impl := range []struct {
		name string
		open func(io.Reader) (io.Reader, error)
	}{
		{"stdlib", func(r io.Reader) (io.Reader, error) { return stdGunzip(r) }},
		{"klauspost", func(r io.Reader) (io.Reader, error) {
			var g gzipReader
			if err := g.Reset(r); err != nil {
				return nil, err
			}
			return g.Reader(), nil
		}},
	} {
		b.Run(impl.name, func(b *testing.B) {
			var out int64
			for b.Loop() {
				f, err := os.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				z, err := impl.open(bufio.NewReaderSize(f, 64<<10))
				if err != nil {
					b.Fatal(err)
				}
				n, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{z}, buf)
				if err != nil {
					b.Fatal(err)
				}
				out += n
				f.Close()
			}
			b.ReportMetric(float64(info.Size())*float64(b.N)/b.Elapsed().Seconds()/1e6, "in-MB/s")
			b.ReportMetric(float64(out)/b.Elapsed().Seconds()/1e6, "out-MB/s")
		})
	}
}

// stdGunzip is the standard library's gunzipper, for comparison.
func stdGunzip(r io.Reader) (io.Reader, error) { return stdgzip.NewReader(r) }
