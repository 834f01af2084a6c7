package handler

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/rootguard/rootguard/functions/internal/fault"
	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/route"
)

// EventBridgeAPI puts events on a bus (satisfied by *eventbridge.Client).
type EventBridgeAPI interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, opts ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

// Bus limits: entries per PutEvents call, and the request size kept under EventBridge's 256 KB.
const (
	MaxBusEntries = 10
	maxBusBytes   = 200 * 1024
	// busAttempts is how many times entries that PutEvents reports failed are put again within
	// the invocation before the failure is returned.
	busAttempts = 3
)

// Bus puts findings on the rootguard event bus: source route.FindingSource, detail-type
// route.FindingDetailType, the finding's JSON as detail, at most MaxBusEntries per call. Entries
// the bus reports failed (FailedEntryCount) are put again with backoff, then reported as a
// retryable fault.ErrPartial.
type Bus struct {
	API  EventBridgeAPI
	Name string
	// Backoff is the wait before putting failed entries again (default 100 ms, doubled each time).
	Backoff time.Duration
}

// Publish implements Publisher.
func (b *Bus) Publish(ctx context.Context, findings []finding.Finding) error {
	return fault.Classified("bus", b.publish(ctx, findings))
}

func (b *Bus) publish(ctx context.Context, findings []finding.Finding) error {
	var batch []ebtypes.PutEventsRequestEntry
	size := 0
	for _, f := range findings {
		detail := string(f.JSON())
		e := ebtypes.PutEventsRequestEntry{
			EventBusName: aws.String(b.Name),
			Source:       aws.String(route.FindingSource),
			DetailType:   aws.String(route.FindingDetailType),
			Detail:       aws.String(detail),
		}
		n := len(detail) + len(b.Name) + len(route.FindingSource) + len(route.FindingDetailType)
		if len(batch) == MaxBusEntries || (len(batch) > 0 && size+n > maxBusBytes) {
			if err := b.put(ctx, batch); err != nil {
				return err
			}
			batch, size = nil, 0
		}
		batch = append(batch, e)
		size += n
	}
	if len(batch) > 0 {
		return b.put(ctx, batch)
	}
	return nil
}

// put sends one batch, putting failed entries again up to busAttempts times.
func (b *Bus) put(ctx context.Context, entries []ebtypes.PutEventsRequestEntry) error {
	wait := b.Backoff
	if wait <= 0 {
		wait = 100 * time.Millisecond
	}
	for attempt := 1; ; attempt++ {
		out, err := b.API.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: entries})
		if err != nil {
			return fmt.Errorf("put %d findings on bus %s: %w", len(entries), b.Name, err)
		}
		if out.FailedEntryCount == 0 {
			return nil
		}
		var failed []ebtypes.PutEventsRequestEntry
		var why []string
		for i, r := range out.Entries {
			if i < len(entries) && r.ErrorCode != nil {
				failed = append(failed, entries[i])
				why = append(why, aws.ToString(r.ErrorCode)+": "+aws.ToString(r.ErrorMessage))
			}
		}
		if len(failed) == 0 { // the count without per-entry detail: put them all again
			failed = entries
		}
		if attempt == busAttempts {
			return fmt.Errorf("put findings on bus %s: %w: %d of %d entries failed after %d attempts (%s)",
				b.Name, fault.ErrPartial, len(failed), len(entries), attempt, strings.Join(why, "; "))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("put findings on bus %s: %w: %d entries failed, then %w", b.Name, fault.ErrPartial, len(failed), ctx.Err())
		case <-time.After(wait):
		}
		wait *= 2
		entries = failed
	}
}
