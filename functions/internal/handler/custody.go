package handler

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/rootguard/rootguard/internal/cloudtrail"
	"github.com/rootguard/rootguard/internal/metric"
	"github.com/rootguard/rootguard/internal/rule"
)

// Custody is the custody state of the live functions (internal/aws/dynamostore.Store on the
// state table): the exceptions granted by an approver and the suspended trusted principals.
type Custody interface {
	// For returns the state bound to one invocation's context, for the engine to read.
	For(ctx context.Context) rule.Custody
	// Record writes what one event changed.
	Record(ctx context.Context, ch rule.CustodyChanges, now time.Time) error
}

// custodyFor is the engine's view of c (nil without a custody state: no exception counts).
func custodyFor(ctx context.Context, c Custody) rule.Custody {
	if c == nil {
		return nil
	}
	return c.For(ctx)
}

// witness records the exception grants, revocations and trust suspensions an event makes, before
// its findings are published. A failed write is an error (Lambda retries the event): a
// suspension that was not recorded would leave a changed principal trusted.
func witness(ctx context.Context, log *slog.Logger, m *metric.Recorder, eng *rule.Engine, c Custody, cu rule.Custody, ev *cloudtrail.Event, now func() time.Time) error {
	if c == nil {
		return nil
	}
	ch := eng.Witness(ev, cu)
	if ch.Empty() {
		return nil
	}
	if now == nil {
		now = time.Now
	}
	if err := c.Record(ctx, ch, now()); err != nil {
		log.Error("custody state not recorded", "eventId", ev.ID(), "error", err.Error(), "retryable", true)
		m.Add(metric.Errors, 1, metric.Dim{Name: "Kind", Value: "custody"})
		return fmt.Errorf("event %s: record the custody state: %w", ev.ID(), err)
	}
	log.Info("custody state recorded", "eventId", ev.ID(), "grants", len(ch.Grants), "revoked", len(ch.Revoked), "suspensions", len(ch.Suspensions))
	return nil
}
