// Package heartbeat is the handler of the heartbeat function. On a schedule it puts one canary
// event of each kind (package canary) on the central organization bus, under the canary source,
// as the central account, and (RoundTrip) writes the round-trip parameter in every forwarded
// region of the management account, whose recorded CloudTrail events it counts when they come
// back through the forwarders. From there the canaries take the path of real events: the central
// rules route them to their evaluators, which evaluate them against the canary facts and put the
// canary findings on the findings bus, where the notifier counts them (never sending them to
// anyone). The heartbeat alarms watch that count, so a broken stage raises an alarm.
package heartbeat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/rootguard/rootguard/functions/internal/fault"
	"github.com/rootguard/rootguard/internal/canary"
	"github.com/rootguard/rootguard/internal/metric"
)

// Scheduled events, as scheduled rules and EventBridge Scheduler send them (the same values as
// handler.ScheduledSource and friends, which this package does not link).
const (
	ScheduledSource     = "aws.events"
	SchedulerSource     = "aws.scheduler"
	ScheduledDetailType = "Scheduled Event"
)

// ErrNotScheduled: the input is not a scheduled event (permanent: the function is invoked by
// its schedule only).
var ErrNotScheduled = errors.New("not a scheduled event")

// EventBridgeAPI puts events on a bus (satisfied by *eventbridge.Client).
type EventBridgeAPI interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, opts ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

// Handler is the heartbeat function: a scheduled event in, the canaries out on Bus.
type Handler struct {
	API EventBridgeAPI
	// Bus is the name or ARN of the central organization bus.
	Bus string
	Log *slog.Logger
	// Metrics may be nil.
	Metrics *metric.Recorder
	// Now is the clock for a scheduled event without a time (default time.Now).
	Now func() time.Time
	// RoundTrip, when set, is the end-to-end CloudTrail canary: the parameter written on every
	// heartbeat, and the round-trip events counted when they come back.
	RoundTrip *RoundTrip
}

type scheduledEvent struct {
	ID         string `json:"id"`
	Source     string `json:"source"`
	DetailType string `json:"detail-type"`
	Time       string `json:"time"`
}

// Handle puts the canaries of one heartbeat. Their time, and so their event ids, is the
// scheduled event's time: a retried invocation puts the same canaries again, and downstream
// deduplication recognises them. Every entry must be accepted: a call that fails, or entries
// the bus refuses (FailedEntryCount), make the invocation fail so that Lambda retries it.
func (h *Handler) Handle(ctx context.Context, raw json.RawMessage) error {
	defer func() {
		if err := h.Metrics.Flush(); err != nil {
			h.Log.Warn("metrics not written", "error", err.Error())
		}
	}()
	log := h.Log
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc.AwsRequestID != "" {
		log = log.With("requestId", lc.AwsRequestID)
	}
	if isCloudTrail(raw) {
		return h.roundTrip(log, raw)
	}
	var ev scheduledEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		return h.refuse(log, ev.ID, fmt.Errorf("heartbeat: %w: %v", ErrNotScheduled, err))
	}
	if (ev.Source != ScheduledSource && ev.Source != SchedulerSource) || ev.DetailType != ScheduledDetailType {
		return h.refuse(log, ev.ID, fmt.Errorf("heartbeat: %w: source %q, detail-type %q", ErrNotScheduled, ev.Source, ev.DetailType))
	}
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	at := now().UTC()
	if t, err := time.Parse(time.RFC3339, ev.Time); err == nil {
		at = t.UTC()
	}
	err := h.put(ctx, log, ev.ID, at)
	if err != nil {
		log.Error("heartbeat not put on the bus", "eventId", ev.ID, "bus", h.Bus, "error", err.Error(), "retryable", true)
		h.Metrics.Add(metric.Errors, 1, metric.Dim{Name: "Kind", Value: "bus"})
	}
	if h.RoundTrip != nil {
		if rerr := h.RoundTrip.put(ctx, log, ev.ID, at); rerr != nil {
			log.Error("round-trip parameter not put", "eventId", ev.ID, "error", rerr.Error(), "retryable", true)
			h.Metrics.Add(metric.Errors, 1, metric.Dim{Name: "Kind", Value: "roundtrip"})
			err = errors.Join(err, rerr)
		}
	}
	if err != nil {
		return fmt.Errorf("heartbeat at %s: %w", at.Format(time.RFC3339), err)
	}
	return nil
}

func (h *Handler) refuse(log *slog.Logger, eventID string, err error) error {
	log.Error("event refused", "eventId", eventID, "error", err.Error(), "retryable", false)
	h.Metrics.Add(metric.Errors, 1, metric.Dim{Name: "Kind", Value: "refused"})
	return err
}

// put sends the canaries of time at in one PutEvents call (there are fewer than its 10 entries).
func (h *Handler) put(ctx context.Context, log *slog.Logger, eventID string, at time.Time) error {
	canaries := canary.Events(at)
	entries := make([]ebtypes.PutEventsRequestEntry, len(canaries))
	for i, c := range canaries {
		entries[i] = ebtypes.PutEventsRequestEntry{
			EventBusName: aws.String(h.Bus),
			Source:       aws.String(c.Source),
			DetailType:   aws.String(c.DetailType),
			Detail:       aws.String(string(c.Detail)),
			Time:         aws.Time(at),
		}
	}
	out, err := h.API.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: entries})
	if err != nil {
		return fault.Classified("bus", fmt.Errorf("put %d canaries on bus %s: %w", len(entries), h.Bus, err))
	}
	var failed []string
	for i, c := range canaries {
		if i < len(out.Entries) && out.Entries[i].ErrorCode != nil {
			failed = append(failed, fmt.Sprintf("%s (%s: %s)", c.Kind.Name, aws.ToString(out.Entries[i].ErrorCode), aws.ToString(out.Entries[i].ErrorMessage)))
			continue
		}
		id := ""
		if i < len(out.Entries) {
			id = aws.ToString(out.Entries[i].EventId)
		}
		log.Info("canary put", "eventId", eventID, "canary", c.Kind.Name, "rule", c.Kind.Rule, "function", c.Kind.Function, "busEventId", id)
	}
	if out.FailedEntryCount > 0 || len(failed) > 0 {
		if len(failed) == 0 { // a count without per-entry detail
			failed = append(failed, "entries not named")
		}
		return fault.Classified("bus", fmt.Errorf("put canaries on bus %s: %w: %d of %d entries failed: %s",
			h.Bus, fault.ErrPartial, max(int(out.FailedEntryCount), len(failed)), len(entries), strings.Join(failed, "; ")))
	}
	return nil
}
