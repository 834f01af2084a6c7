//go:build linux

package perf

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/rootguard/rootguard/functions/internal/wire/evaluator"
	"github.com/rootguard/rootguard/internal/function"
)

// BenchmarkWarmHandler measures the warm per-event latency of each evaluator's handler as wired
// for Lambda (live organization facts with their cache, the real SDK clients) against the
// in-process awsfake endpoints: one op is one sample event routed to the function, after a
// warm-up pass over all of them. p50-us and p99-us are the latency percentiles of the measured
// events. Logs and metrics go to /dev/null.
func BenchmarkWarmHandler(b *testing.B) {
	env := newEnvironment(b)
	for _, kv := range env.env {
		k, v, _ := strings.Cut(kv, "=")
		b.Setenv(k, v)
	}
	routed := routedSamples(b)
	for _, fn := range []string{function.RootActivity, function.SCPGuard, function.Onboarding} {
		b.Run(fn, func(b *testing.B) {
			devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
			if err != nil {
				b.Fatal(err)
			}
			defer devnull.Close()
			stdout := os.Stdout
			os.Stdout = devnull
			h, err := evaluator.New(context.Background(), fn, nil) // the rule groups of function.Table
			os.Stdout = stdout
			if err != nil {
				b.Fatal(err)
			}
			ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "perf"})
			events := routed[fn]
			run := func(raw []byte) time.Duration {
				start := time.Now()
				if err := h.Handle(ctx, json.RawMessage(raw)); err != nil {
					b.Fatal(err)
				}
				return time.Since(start)
			}
			for _, raw := range events { // warm-up: cold caches, connections
				run(raw)
			}
			var lat []time.Duration
			i := 0
			for b.Loop() {
				lat = append(lat, run(events[i%len(events)]))
				i++
			}
			slices.Sort(lat)
			pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Nanoseconds()) / 1000 }
			b.ReportMetric(pct(0.50), "p50-us")
			b.ReportMetric(pct(0.99), "p99-us")
		})
	}
}
