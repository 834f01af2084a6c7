//go:build linux

package perf

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rootguard/rootguard/events"
	"github.com/rootguard/rootguard/functions/internal/handler"
	"github.com/rootguard/rootguard/internal/cloudtrail"
	"github.com/rootguard/rootguard/internal/function"
	"github.com/rootguard/rootguard/internal/org"
	"github.com/rootguard/rootguard/internal/routing"
	"github.com/rootguard/rootguard/internal/testenv/awsfake"
)

// builds holds the host binaries (the functions and the hello baseline), built once per run.
var builds struct {
	once sync.Once
	dir  string
	bins map[string]string
	err  error
}

const hello = "hello"

func binaries(b *testing.B) map[string]string {
	b.Helper()
	builds.once.Do(func() {
		builds.dir, builds.err = os.MkdirTemp("", "rootguard-perf-")
		if builds.err != nil {
			return
		}
		builds.bins = map[string]string{}
		pkgs := []string{"./testdata/hello"}
		for _, fn := range function.Names() {
			pkgs = append(pkgs, "../../"+fn)
		}
		builds.err = goBuild(builds.dir, "", pkgs)
		for _, fn := range append([]string{hello}, function.Names()...) {
			builds.bins[fn] = filepath.Join(builds.dir, fn)
		}
	})
	if builds.err != nil {
		b.Fatal(builds.err)
	}
	return builds.bins
}

// goBuild builds packages into dir as the Makefile does (goarch "" = the host's).
func goBuild(dir, goarch string, pkgs []string) error {
	args := append([]string{"build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", dir + string(os.PathSeparator)}, pkgs...)
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if goarch != "" {
		cmd.Env = append(cmd.Env, "GOARCH="+goarch)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, out)
	}
	return nil
}

// runtimeAPI is a minimal Lambda Runtime API: it hands out the queued events one by one and
// records when the first request for work arrived and what each invocation answered.
type runtimeAPI struct {
	srv       *httptest.Server
	mu        sync.Mutex
	queue     [][]byte
	firstNext chan time.Time
	drained   chan struct{}
	once      sync.Once
	answers   []string // "" for a success, else the error body
	next      int
}

func newRuntimeAPI(events [][]byte) *runtimeAPI {
	r := &runtimeAPI{queue: events, firstNext: make(chan time.Time, 1), drained: make(chan struct{})}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	return r
}

func (r *runtimeAPI) addr() string { return strings.TrimPrefix(r.srv.URL, "http://") }

func (r *runtimeAPI) serve(w http.ResponseWriter, req *http.Request) {
	const prefix = "/2018-06-01/runtime/"
	path := strings.TrimPrefix(req.URL.Path, prefix)
	switch {
	case req.Method == http.MethodGet && path == "invocation/next":
		select {
		case r.firstNext <- time.Now():
		default:
		}
		r.mu.Lock()
		if r.next >= len(r.queue) {
			r.mu.Unlock()
			r.once.Do(func() { close(r.drained) })
			<-req.Context().Done() // no more work: the process waits here until it is stopped
			return
		}
		ev := r.queue[r.next]
		r.next++
		id := strconv.Itoa(r.next)
		r.mu.Unlock()
		h := w.Header()
		h.Set("Lambda-Runtime-Aws-Request-Id", id)
		h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(30*time.Second).UnixMilli(), 10))
		h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:111111111111:function:perf")
		h.Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
		_, _ = w.Write(ev)
	case req.Method == http.MethodPost && strings.HasPrefix(path, "invocation/"):
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		if strings.HasSuffix(path, "/error") {
			r.answers = append(r.answers, string(body))
		} else {
			r.answers = append(r.answers, "")
		}
		r.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	default:
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.answers = append(r.answers, req.URL.Path+": "+string(body))
		r.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}
}

// snsStub answers every SNS Publish with success.
func snsStub() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprint(w, `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>m-1</MessageId></PublishResult><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></PublishResponse>`)
	}))
}

// environment is the function configuration the benchmarks run with: the awsfake endpoints,
// an SNS stub, and the sample organization's settings.
type environment struct {
	fake *awsfake.Server
	sns  *httptest.Server
	env  []string
}

func newEnvironment(b *testing.B) *environment {
	b.Helper()
	snap, err := org.LoadSnapshot(bytes.NewReader(events.Org()))
	if err != nil {
		b.Fatal(err)
	}
	fake, err := awsfake.New(snap.Doc(), awsfake.Options{RoleName: "rootguard-audit"})
	if err != nil {
		b.Fatal(err)
	}
	e := &environment{fake: fake, sns: snsStub()}
	b.Cleanup(func() { e.fake.Close(); e.sns.Close() })
	vars := map[string]string{
		"PATH": os.Getenv("PATH"), "HOME": b.TempDir(), "AWS_ENDPOINT_URL_SNS": e.sns.URL,
		"ROOTGUARD_STAX_DOMAINS": "stax.example", "ROOTGUARD_EVENT_BUS": "rootguard",
		"ROOTGUARD_TRUSTED_PRINCIPALS": "arn:aws:iam::111111111111:role/stax-guardrail-automation",
		"ROOTGUARD_AUDIT_ROLE_NAME":    "rootguard-audit", "ROOTGUARD_ONBOARDING_WAIT": "1ms",
		"ROOTGUARD_ALERTS_TOPIC_ARN": "arn:aws:sns:us-east-1:111111111111:alerts",
		"ROOTGUARD_CHAT_TOPIC_ARN":   "arn:aws:sns:us-east-1:111111111111:chat", "ROOTGUARD_SECURITYHUB": "true",
		"ROOTGUARD_MIN_SEVERITY_EMAIL": "INFORMATIONAL", "ROOTGUARD_MIN_SEVERITY_CHAT": "INFORMATIONAL",
		"AWS_LAMBDA_FUNCTION_NAME": "perf", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
	}
	for k, v := range fake.Env() {
		vars[k] = v
	}
	for k, v := range vars {
		e.env = append(e.env, k+"="+v)
	}
	return e
}

// BenchmarkColdStart measures each bootstrap from exec to its first request for work from the
// Runtime API (ms/start, the median of the iterations), with the aws-lambda-go "hello" baseline
// first; x-hello is a function's median over the baseline's.
func BenchmarkColdStart(b *testing.B) {
	bins := binaries(b)
	env := newEnvironment(b)
	var baseline float64
	for _, name := range append([]string{hello}, function.Names()...) {
		b.Run(name, func(b *testing.B) {
			var starts []time.Duration
			for b.Loop() {
				d, err := coldStart(bins[name], env.env)
				if err != nil {
					b.Fatal(err)
				}
				starts = append(starts, d)
			}
			med := median(starts)
			ms := float64(med.Microseconds()) / 1000
			b.ReportMetric(ms, "ms/start")
			b.ReportMetric(0, "ns/op")
			if name == hello {
				baseline = ms
			} else if baseline > 0 {
				b.ReportMetric(ms/baseline, "x-hello")
			}
		})
	}
}

func coldStart(bin string, env []string) (time.Duration, error) {
	api := newRuntimeAPI(nil)
	defer api.srv.Close()
	cmd := exec.Command(bin)
	cmd.Env = append(slices.Clone(env), "AWS_LAMBDA_RUNTIME_API="+api.addr())
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	select {
	case t := <-api.firstNext:
		return t.Sub(start), nil
	case <-time.After(10 * time.Second):
		return 0, fmt.Errorf("%s: no request for work within 10s:\n%s", bin, out.String())
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkBinarySize reports each function's size built for AWS (linux/arm64, stripped).
func BenchmarkBinarySize(b *testing.B) {
	dir := b.TempDir()
	var pkgs []string
	for _, fn := range function.Names() {
		pkgs = append(pkgs, "../../"+fn)
	}
	if err := goBuild(dir, "arm64", pkgs); err != nil {
		b.Fatal(err)
	}
	for _, fn := range function.Names() {
		b.Run(fn, func(b *testing.B) {
			st, err := os.Stat(filepath.Join(dir, fn))
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
			}
			b.ReportMetric(float64(st.Size())/1e6, "MB")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// BenchmarkPeakMemory runs each function as a process under the fake Runtime API, serves it
// every sample event routed to it (the audit: one scheduled event; the notifier: the findings
// the evaluators put on the bus), and reports the process's peak resident memory (VmHWM).
func BenchmarkPeakMemory(b *testing.B) {
	bins := binaries(b)
	env := newEnvironment(b)
	routed := routedSamples(b)
	sched, _ := json.Marshal(map[string]any{"version": "0", "id": "perf-audit", "detail-type": handler.ScheduledDetailType,
		"source": handler.ScheduledSource, "account": "111111111111", "time": "2026-11-20T00:00:00Z", "region": "us-east-1", "detail": map[string]any{}})
	routed[function.Audit] = [][]byte{sched}
	for _, fn := range function.Names() {
		b.Run(fn, func(b *testing.B) {
			events := routed[fn]
			if fn == function.Notifier { // every distinct finding the evaluators put on the bus
				seen := map[string]bool{}
				for i, e := range env.fake.Events() {
					if seen[e.Detail] {
						continue
					}
					seen[e.Detail] = true
					raw, _ := json.Marshal(map[string]any{"version": "0", "id": fmt.Sprintf("bus-%d", i), "detail-type": e.DetailType,
						"source": e.Source, "account": e.Account, "time": e.Time.UTC().Format(time.RFC3339), "region": "us-east-1", "detail": json.RawMessage(e.Detail)})
					events = append(events, raw)
				}
			}
			var peak int64
			for b.Loop() {
				kb, failed, err := peakMemory(bins[fn], env.env, events)
				if err != nil {
					b.Fatal(err)
				}
				if failed > 0 {
					b.Logf("%s: %d of %d invocations returned an error", fn, failed, len(events))
				}
				peak = max(peak, kb)
			}
			b.ReportMetric(float64(peak)/1024, "MB-peak")
			b.ReportMetric(float64(len(events)), "invocations")
			b.ReportMetric(0, "ns/op")
		})
	}
}

func peakMemory(bin string, env []string, events [][]byte) (kb int64, failed int, err error) {
	api := newRuntimeAPI(events)
	defer api.srv.Close()
	cmd := exec.Command(bin)
	cmd.Env = append(slices.Clone(env), "AWS_LAMBDA_RUNTIME_API="+api.addr())
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = io.Discard, &out
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	select {
	case <-api.drained:
	case <-ctx.Done():
		return 0, 0, fmt.Errorf("%s: not done within 2 minutes:\n%s", bin, out.String())
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
	if err != nil {
		return 0, 0, err
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ = strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		}
	}
	api.mu.Lock()
	for _, a := range api.answers {
		if a != "" {
			failed++
		}
	}
	api.mu.Unlock()
	return kb, failed, nil
}

// routedSamples returns every sample event of a rule (not the forged ones, which the functions
// refuse), grouped by the functions the routing table sends it to.
func routedSamples(b *testing.B) map[string][][]byte {
	b.Helper()
	files, err := events.Rules()
	if err != nil {
		b.Fatal(err)
	}
	routed := map[string][][]byte{}
	for _, f := range files {
		evs, err := f.Events()
		if err != nil {
			b.Fatal(err)
		}
		for _, raw := range evs {
			ev, err := cloudtrail.Decode(raw)
			if err != nil {
				b.Fatal(err)
			}
			for _, fn := range routing.FunctionsFor(handler.Fields(ev)) {
				routed[fn] = append(routed[fn], raw)
			}
		}
	}
	return routed
}
