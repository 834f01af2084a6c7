package handler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/google/go-cmp/cmp"

	"github.com/rootguard/rootguard/functions/internal/fault"
	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/route"
)

// fakeBus records PutEvents calls; fail[i] entries of call i are reported failed.
type fakeBus struct {
	calls [][]ebtypes.PutEventsRequestEntry
	fail  map[int][]int
	err   error
}

func (f *fakeBus) PutEvents(_ context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	call := len(f.calls)
	f.calls = append(f.calls, in.Entries)
	if f.err != nil {
		return nil, f.err
	}
	out := &eventbridge.PutEventsOutput{}
	for i := range in.Entries {
		r := ebtypes.PutEventsResultEntry{EventId: aws.String(fmt.Sprint(call, i))}
		for _, j := range f.fail[call] {
			if i == j {
				r = ebtypes.PutEventsResultEntry{ErrorCode: aws.String("InternalFailure"), ErrorMessage: aws.String("try again")}
				out.FailedEntryCount++
			}
		}
		out.Entries = append(out.Entries, r)
	}
	return out, nil
}

func findings(n int) []finding.Finding {
	var out []finding.Finding
	for i := range n {
		out = append(out, finding.Finding{ID: fmt.Sprintf("f-%02d", i), Rule: "ROOT-ACTIVITY", Severity: finding.High, AccountID: "444444444444"})
	}
	return out
}

func ids(entries []ebtypes.PutEventsRequestEntry) []string {
	var out []string
	for _, e := range entries {
		var f finding.Finding
		_ = json.Unmarshal([]byte(aws.ToString(e.Detail)), &f)
		out = append(out, f.ID)
	}
	return out
}

func TestBusBatches(t *testing.T) {
	api := &fakeBus{}
	b := &Bus{API: api, Name: "rootguard"}
	if err := b.Publish(context.Background(), findings(23)); err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for _, c := range api.calls {
		sizes = append(sizes, len(c))
	}
	if diff := cmp.Diff([]int{10, 10, 3}, sizes); diff != "" {
		t.Errorf("entries per call (-want +got):\n%s", diff)
	}
	e := api.calls[0][0]
	if aws.ToString(e.Source) != route.FindingSource || aws.ToString(e.DetailType) != route.FindingDetailType || aws.ToString(e.EventBusName) != "rootguard" {
		t.Errorf("entry %+v", e)
	}
	if got := ids(api.calls[2]); !cmp.Equal(got, []string{"f-20", "f-21", "f-22"}) {
		t.Errorf("last call %v", got)
	}
	if err := b.Publish(context.Background(), nil); err != nil || len(api.calls) != 3 {
		t.Errorf("no findings: %v after %d calls", err, len(api.calls))
	}
}

func TestBusPutsFailedEntriesAgain(t *testing.T) {
	api := &fakeBus{fail: map[int][]int{0: {1, 3}}}
	b := &Bus{API: api, Name: "rootguard", Backoff: 1}
	if err := b.Publish(context.Background(), findings(4)); err != nil {
		t.Fatal(err)
	}
	if len(api.calls) != 2 || !cmp.Equal(ids(api.calls[1]), []string{"f-01", "f-03"}) {
		t.Errorf("second call %v, want the two failed entries", ids(api.calls[len(api.calls)-1]))
	}
}

func TestBusFailures(t *testing.T) {
	t.Run("entries keep failing", func(t *testing.T) {
		api := &fakeBus{fail: map[int][]int{0: {0}, 1: {0}, 2: {0}}}
		err := (&Bus{API: api, Name: "rootguard", Backoff: 1}).Publish(context.Background(), findings(2))
		if !errors.Is(err, fault.ErrPartial) || !fault.Classify(err) || !strings.Contains(err.Error(), "InternalFailure") {
			t.Errorf("Publish = %v, want a retryable partial failure", err)
		}
		if len(api.calls) != 3 {
			t.Errorf("%d calls, want 3 attempts", len(api.calls))
		}
	})
	t.Run("call fails", func(t *testing.T) {
		err := (&Bus{API: &fakeBus{err: errors.New("connection reset")}, Name: "rootguard"}).Publish(context.Background(), findings(1))
		var fe *fault.Error
		if !errors.As(err, &fe) || fe.Channel != "bus" || !fe.Retryable {
			t.Errorf("Publish = %#v, want a retryable bus error", err)
		}
	})
	t.Run("deadline while waiting", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := (&Bus{API: &fakeBus{fail: map[int][]int{0: {0}}}, Name: "rootguard"}).Publish(ctx, findings(1))
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Publish = %v, want context.Canceled", err)
		}
	})
}

// discard is a Publisher that keeps nothing.
type discard struct{}

func (discard) Publish(context.Context, []finding.Finding) error { return nil }
