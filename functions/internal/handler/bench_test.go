package handler

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rootguard/rootguard/events"
	"github.com/rootguard/rootguard/internal/cloudtrail"
	"github.com/rootguard/rootguard/internal/function"
	"github.com/rootguard/rootguard/internal/metric"
	"github.com/rootguard/rootguard/internal/routing"
)

// BenchmarkEvaluate measures the warm per-event latency of the evaluator handler with in-process
// fakes (the sample organization as facts, a publisher that keeps nothing; logs and metrics
// written to io.Discard): one op is one single-event sample routed to the function, in turn.
// p50-us and p99-us are the latency percentiles.
func BenchmarkEvaluate(b *testing.B) {
	byFn := map[string][][]byte{}
	files, err := events.Rules() // the forged samples are refused, not evaluated
	if err != nil {
		b.Fatal(err)
	}
	for _, f := range files {
		raw := f.Data
		if !strings.HasSuffix(f.Path, ".json") || !bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) || strings.Contains(string(raw[:min(len(raw), 40)]), "Records") {
			continue // single EventBridge events only
		}
		ev, err := cloudtrail.Decode(raw)
		if err != nil {
			continue
		}
		for _, fn := range routing.FunctionsFor(Fields(ev)) {
			byFn[fn] = append(byFn[fn], raw)
		}
	}
	for _, fn := range []string{function.RootActivity, function.SCPGuard, function.Onboarding} {
		b.Run(fn, func(b *testing.B) {
			events := byFn[fn]
			if len(events) == 0 {
				b.Fatal("no sample events")
			}
			h := &Evaluator{Function: fn, Engine: engine(b), Groups: groups[fn], Facts: sampleOrg(b), Out: discard{},
				Log: slog.New(slog.NewJSONHandler(io.Discard, nil)), Metrics: metric.New(io.Discard, fn)}
			ctx := context.Background()
			lat := make([]time.Duration, 0, b.N)
			i := 0
			for b.Loop() {
				start := time.Now()
				if err := h.Handle(ctx, events[i%len(events)]); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
				i++
			}
			slices.Sort(lat)
			pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Nanoseconds()) / 1000 }
			b.ReportMetric(pct(0.50), "p50-us")
			b.ReportMetric(pct(0.99), "p99-us")
		})
	}
}
