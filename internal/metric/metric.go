// Package metric writes CloudWatch metrics as Embedded Metric Format (EMF) log lines: JSON
// objects on the function's standard output that CloudWatch Logs turns into metrics without an
// API call. A Recorder adds up counts during an invocation and Flush writes one line per set of
// dimension values.
package metric

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"
)

// Namespace is the CloudWatch namespace of every rootguard metric.
const Namespace = "RootGuard"

// Metric names.
const (
	// Findings counts findings raised, by Rule and Severity.
	Findings = "Findings"
	// CanaryFindings counts findings of synthetic heartbeat events, by Rule.
	CanaryFindings = "CanaryFindings"
	// AWSCalls counts AWS API calls, by Service and Operation.
	AWSCalls = "AWSCalls"
	// AWSCallErrors counts failed AWS API calls (after the SDK's retries), by Service and Operation.
	AWSCallErrors = "AWSCallErrors"
	// Errors counts invocations that returned an error, by Kind.
	Errors = "Errors"
	// DeliveryFailures counts failed deliveries, by Channel.
	DeliveryFailures = "DeliveryFailures"
	// Deliveries counts delivered findings, by Channel.
	Deliveries = "Deliveries"
)

// Dim is one dimension: a name and its value.
type Dim struct{ Name, Value string }

// Recorder adds up counts until Flush. It is safe for concurrent use.
type Recorder struct {
	w        io.Writer
	function string
	now      func() time.Time

	mu     sync.Mutex
	counts map[string]*series
}

type series struct {
	dims   []Dim
	values map[string]float64
}

// New returns a Recorder writing to w; every line carries the Function dimension.
func New(w io.Writer, function string) *Recorder {
	return &Recorder{w: w, function: function, now: time.Now, counts: map[string]*series{}}
}

// SetClock replaces the clock that stamps the lines (for tests).
func (r *Recorder) SetClock(now func() time.Time) { r.now = now }

// Add adds v to a metric with the given dimensions (besides Function). A nil Recorder does nothing.
func (r *Recorder) Add(name string, v float64, dims ...Dim) {
	if r == nil {
		return
	}
	dims = append([]Dim{{"Function", r.function}}, dims...)
	var key strings.Builder
	for _, d := range dims {
		key.WriteString(d.Name)
		key.WriteByte(0)
		key.WriteString(d.Value)
		key.WriteByte(0)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.counts[key.String()]
	if s == nil {
		s = &series{dims: dims, values: map[string]float64{}}
		r.counts[key.String()] = s
	}
	s.values[name] += v
}

// Flush writes one EMF line per set of dimension values recorded since the last Flush, in a
// stable order, and forgets them.
func (r *Recorder) Flush() error {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	counts := r.counts
	r.counts = map[string]*series{}
	r.mu.Unlock()
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	ts := r.now().UnixMilli()
	for _, k := range keys {
		line, err := emfLine(counts[k], ts)
		if err != nil {
			return err
		}
		if _, err := r.w.Write(line); err != nil {
			return fmt.Errorf("write metrics: %w", err)
		}
	}
	return nil
}

type emfMetric struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

type emfDirective struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []emfMetric `json:"Metrics"`
}

// emfLine renders one series: the _aws metadata, the dimension values and the metric values as
// top-level members.
func emfLine(s *series, ts int64) ([]byte, error) {
	names := make([]string, 0, len(s.values))
	for n := range s.values {
		names = append(names, n)
	}
	slices.Sort(names)
	dimNames := make([]string, len(s.dims))
	doc := map[string]any{}
	for i, d := range s.dims {
		dimNames[i] = d.Name
		doc[d.Name] = d.Value
	}
	metrics := make([]emfMetric, len(names))
	for i, n := range names {
		metrics[i] = emfMetric{Name: n, Unit: "Count"}
		doc[n] = s.values[n]
	}
	doc["_aws"] = map[string]any{
		"Timestamp":         ts,
		"CloudWatchMetrics": []emfDirective{{Namespace: Namespace, Dimensions: [][]string{dimNames}, Metrics: metrics}},
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode metrics: %w", err)
	}
	return append(b, '\n'), nil
}
