package heartbeat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/rootguard/rootguard/functions/internal/fault"
	"github.com/rootguard/rootguard/internal/canary"
	"github.com/rootguard/rootguard/internal/config"
	"github.com/rootguard/rootguard/internal/function"
	"github.com/rootguard/rootguard/internal/metric"
	"github.com/rootguard/rootguard/internal/route"
)

// fakeBus records PutEvents calls and answers with err, or with the entries of the kinds in
// refuse failed.
type fakeBus struct {
	calls  []*eventbridge.PutEventsInput
	err    error
	refuse map[string]bool // detail-type of refused entries
	count  int32           // FailedEntryCount without per-entry detail, when set
}

func (f *fakeBus) PutEvents(_ context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	f.calls = append(f.calls, in)
	if f.err != nil {
		return nil, f.err
	}
	out := &eventbridge.PutEventsOutput{FailedEntryCount: f.count}
	for i, e := range in.Entries {
		r := ebtypes.PutEventsResultEntry{EventId: aws.String("bus-" + string(rune('a'+i)))}
		if f.refuse[aws.ToString(e.DetailType)] {
			r = ebtypes.PutEventsResultEntry{ErrorCode: aws.String("InternalFailure"), ErrorMessage: aws.String("try again")}
			out.FailedEntryCount++
		}
		out.Entries = append(out.Entries, r)
	}
	return out, nil
}

func quiet() *slog.Logger { return slog.New(slog.NewJSONHandler(io.Discard, nil)) }

func scheduled(source, at string) json.RawMessage {
	raw, _ := json.Marshal(map[string]any{"version": "0", "id": "sched-1", "detail-type": ScheduledDetailType,
		"source": source, "account": "999988887777", "time": at, "region": "eu-west-1", "resources": []string{}, "detail": map[string]any{}})
	return raw
}

type entry struct{ Bus, Source, DetailType, Detail, Time string }

func entries(in *eventbridge.PutEventsInput) []entry {
	var out []entry
	for _, e := range in.Entries {
		out = append(out, entry{aws.ToString(e.EventBusName), aws.ToString(e.Source), aws.ToString(e.DetailType), aws.ToString(e.Detail), aws.ToTime(e.Time).UTC().Format(time.RFC3339)})
	}
	return out
}

// TestHandlePutsEveryCanary: one PutEvents with every canary of the scheduled time, on the
// configured bus; the same scheduled event puts the same canaries (a retry is recognised
// downstream by its event ids); EventBridge Scheduler's events are taken too.
func TestHandlePutsEveryCanary(t *testing.T) {
	at := time.Date(2026, 11, 26, 12, 10, 0, 0, time.UTC)
	var want []entry
	for _, c := range canary.Events(at) {
		want = append(want, entry{"rootguard", route.CanarySource, c.DetailType, string(c.Detail), at.Format(time.RFC3339)})
	}
	if len(want) != len(canary.Kinds) {
		t.Fatalf("%d canaries for %d kinds", len(want), len(canary.Kinds))
	}
	for _, source := range []string{ScheduledSource, SchedulerSource} {
		t.Run(source, func(t *testing.T) {
			bus := &fakeBus{}
			h := &Handler{API: bus, Bus: "rootguard", Log: quiet(), Now: func() time.Time { return at.Add(time.Hour) }}
			for range 2 {
				if err := h.Handle(context.Background(), scheduled(source, at.Format(time.RFC3339))); err != nil {
					t.Fatal(err)
				}
			}
			if len(bus.calls) != 2 {
				t.Fatalf("%d PutEvents calls, want one per run", len(bus.calls))
			}
			for i, call := range bus.calls {
				if diff := cmp.Diff(want, entries(call)); diff != "" {
					t.Errorf("run %d entries (-want +got):\n%s", i+1, diff)
				}
			}
		})
	}
	t.Run("no time in the event", func(t *testing.T) {
		bus := &fakeBus{}
		h := &Handler{API: bus, Bus: "rootguard", Log: quiet(), Now: func() time.Time { return at }}
		if err := h.Handle(context.Background(), scheduled(ScheduledSource, "")); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, entries(bus.calls[0])); diff != "" {
			t.Errorf("entries (-want +got):\n%s", diff)
		}
	})
}

// TestHandleFailures: a call that fails, a partial failure, and an event that is not a schedule
// are errors; the retryable ones say so, and are counted.
func TestHandleFailures(t *testing.T) {
	at := "2026-11-26T12:10:00Z"
	throttled := &smithy.GenericAPIError{Code: "ThrottlingException", Message: "slow down"}
	denied := &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "no"}
	tests := []struct {
		name      string
		bus       *fakeBus
		event     json.RawMessage
		want      []string // in the error
		is        error
		retryable bool
		calls     int
		metric    string // Kind of the Errors metric
	}{
		{name: "throttled", bus: &fakeBus{err: throttled}, event: scheduled(ScheduledSource, at),
			want: []string{"ThrottlingException", "rootguard"}, retryable: true, calls: 1, metric: "bus"},
		{name: "denied", bus: &fakeBus{err: denied}, event: scheduled(ScheduledSource, at),
			want: []string{"AccessDeniedException"}, retryable: false, calls: 1, metric: "bus"},
		{name: "one entry refused", bus: &fakeBus{refuse: map[string]bool{"AWS API Call via CloudTrail": true}}, event: scheduled(ScheduledSource, at),
			want: []string{"1 of 3 entries failed", "scp-detach", "InternalFailure"}, is: fault.ErrPartial, retryable: true, calls: 1, metric: "bus"},
		{name: "a failed count without detail", bus: &fakeBus{count: 2}, event: scheduled(ScheduledSource, at),
			want: []string{"2 of 3 entries failed"}, is: fault.ErrPartial, retryable: true, calls: 1, metric: "bus"},
		{name: "not a schedule", bus: &fakeBus{}, event: json.RawMessage(`{"source":"aws.signin","detail-type":"AWS Console Sign In via CloudTrail"}`),
			want: []string{"aws.signin"}, is: ErrNotScheduled, metric: "refused"},
		{name: "not JSON", bus: &fakeBus{}, event: json.RawMessage(`{"source":`), is: ErrNotScheduled, metric: "refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var emf bytes.Buffer
			h := &Handler{API: tt.bus, Bus: "rootguard", Log: quiet(), Metrics: metric.New(&emf, function.Heartbeat)}
			err := h.Handle(context.Background(), tt.event)
			if err == nil {
				t.Fatal("Handle succeeded, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
			var fe *fault.Error
			if tt.calls > 0 && (!errors.As(err, &fe) || fe.Retryable != tt.retryable) {
				t.Errorf("error %v: retryable %v, want %v", err, fe != nil && fe.Retryable, tt.retryable)
			}
			if len(tt.bus.calls) != tt.calls {
				t.Errorf("%d PutEvents calls, want %d", len(tt.bus.calls), tt.calls)
			}
			if !strings.Contains(emf.String(), `"Kind":"`+tt.metric+`"`) || !strings.Contains(emf.String(), `"Errors":1`) {
				t.Errorf("metrics %s: want Errors counted with Kind %s", emf.String(), tt.metric)
			}
		})
	}
}

// TestConfig: the heartbeat function needs the central bus, and only that.
func TestConfig(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	tests := []struct {
		name string
		env  map[string]string
		ok   bool
	}{
		{"bus name", map[string]string{function.EnvEventBus: "rootguard"}, true},
		{"bus ARN", map[string]string{function.EnvEventBus: "arn:aws:events:eu-west-1:999988887777:event-bus/rootguard"}, true},
		{"no bus", map[string]string{function.EnvStaxDomains: "stax.example"}, false},
		{"not a bus", map[string]string{function.EnvEventBus: "arn:aws:sns:eu-west-1:999988887777:rootguard"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := config.Load(function.Heartbeat, env(tt.env))
			if tt.ok {
				if err != nil || c.EventBus != tt.env[function.EnvEventBus] {
					t.Errorf("Load: %v, bus %q", err, c.EventBus)
				}
				return
			}
			if !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), function.EnvEventBus) {
				t.Errorf("Load: %v, want an error naming %s", err, function.EnvEventBus)
			}
		})
	}
}
