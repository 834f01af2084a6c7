package metric

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestFlush(t *testing.T) {
	var buf bytes.Buffer
	r := New(&buf, "scp-guard")
	r.SetClock(func() time.Time { return time.UnixMilli(1795718912308) })
	r.Add(Findings, 1, Dim{"Rule", "SCP-DETACHED"}, Dim{"Severity", "CRITICAL"})
	r.Add(Findings, 2, Dim{"Rule", "SCP-DETACHED"}, Dim{"Severity", "CRITICAL"})
	r.AWSCall("organizations", "DescribePolicy", nil)
	r.AWSCall("organizations", "DescribePolicy", errors.New("throttled"))
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	var got []map[string]any
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		got = append(got, m)
	}
	directive := func(dims []any, metrics ...string) map[string]any {
		var ms []any
		for _, m := range metrics {
			ms = append(ms, map[string]any{"Name": m, "Unit": "Count"})
		}
		return map[string]any{"Timestamp": float64(1795718912308), "CloudWatchMetrics": []any{
			map[string]any{"Namespace": "RootGuard", "Dimensions": []any{dims}, "Metrics": ms},
		}}
	}
	want := []map[string]any{
		{
			"_aws":     directive([]any{"Function", "Rule", "Severity"}, Findings),
			"Function": "scp-guard", "Rule": "SCP-DETACHED", "Severity": "CRITICAL", Findings: float64(3),
		},
		{
			"_aws":     directive([]any{"Function", "Service", "Operation"}, AWSCallErrors, AWSCalls),
			"Function": "scp-guard", "Service": "organizations", "Operation": "DescribePolicy", AWSCalls: float64(2), AWSCallErrors: float64(1),
		},
	}
	// Lines come in a stable order: by dimension names and values.
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("EMF lines (-want +got):\n%s", diff)
	}

	buf.Reset()
	if err := r.Flush(); err != nil || buf.Len() != 0 {
		t.Errorf("second Flush wrote %q, %v; want nothing", buf.String(), err)
	}
}

func TestNilRecorder(t *testing.T) {
	var r *Recorder
	r.Add(Errors, 1)
	if err := r.Flush(); err != nil {
		t.Error(err)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("closed") }

func TestFlushWriteError(t *testing.T) {
	r := New(failWriter{}, "audit")
	r.Add(Errors, 1, Dim{"Kind", "facts"})
	if err := r.Flush(); err == nil || !strings.Contains(err.Error(), "write metrics") {
		t.Errorf("Flush = %v, want a write error", err)
	}
}
