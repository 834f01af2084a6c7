// Package notify delivers rootguard findings: the evaluators put them on the rootguard event
// bus (handler.Bus), and the notifier function (Handler) takes each finding event from the bus and sends
// it to the enabled channels: email through the SNS alerts topic (Alerts), chat through the SNS
// chat topic (Chat), and Security Hub (SecurityHub). One file per destination; every delivery
// error is classified retryable or permanent in one place (package fault). No finding is dropped
// silently: a channel that fails makes the invocation fail, so that Lambda retries it and then
// keeps the event in the on-failure destination.
//
// Delivery is exactly once per channel when a Ledger is set (DynamoLedger on the state table):
// before sending to a channel the handler claims it on the finding's record with a conditional
// write, and records it delivered afterwards, so a duplicate event or a retry delivers only the
// channels still missing, and two notifiers racing on one finding never both send. A finding
// whose severity rises is delivered again, once per channel, at the new severity; a root
// session's finding is delivered again each time its set of write calls grows (Sessions). When the record cannot be read or written at all the finding is still sent
// (a possible duplicate is better than a lost alert) and the failure is logged.
package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/rootguard/rootguard/functions/internal/fault"
	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/metric"
	"github.com/rootguard/rootguard/internal/route"
)

// ErrNotFinding: the input is not a rootguard finding event (permanent).
var ErrNotFinding = fmt.Errorf("not a rootguard finding event (%w)", fault.ErrPermanent)

// Channel names.
const (
	ChannelAlerts      = "alerts"
	ChannelChat        = "chat"
	ChannelSecurityHub = "securityhub"
)

// Sender delivers findings to one destination.
type Sender interface {
	Send(ctx context.Context, findings []finding.Finding) error
}

// Channel is one enabled destination with its minimum severity.
type Channel struct {
	Name        string
	MinSeverity finding.Severity
	// People: the channel reaches people (email, chat), so canary findings are not sent to it.
	People bool
	Sender Sender
}

// Handler is the notifier function: one finding event from the rootguard bus in, every enabled
// channel out.
type Handler struct {
	Channels []Channel
	Log      *slog.Logger
	Metrics  *metric.Recorder
	// Ledger, when set, records deliveries so that nothing is delivered twice (see Ledger).
	Ledger Ledger
	// Sessions, when set, records root sessions' calls, so that a session's finding is
	// delivered again only when its write calls grow (see Sessions).
	Sessions Sessions
	// Lease is how long a channel's claim lasts (default DefaultLease); a send is stopped
	// LeaseMargin before it ends.
	Lease time.Duration
	// Now is the clock (default time.Now) and Sleep waits (default: a timer that stops at the
	// context's end); tests replace them.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

// findingEvent is the EventBridge event the bus rule hands the notifier.
type findingEvent struct {
	ID         string          `json:"id"`
	Source     string          `json:"source"`
	DetailType string          `json:"detail-type"`
	Detail     json.RawMessage `json:"detail"`
}

// DecodeFinding reads a finding event from the rootguard bus and checks the finding.
func DecodeFinding(raw []byte) (string, finding.Finding, error) {
	var ev findingEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		return "", finding.Finding{}, fmt.Errorf("%w: %v", ErrNotFinding, err)
	}
	if ev.Source != route.FindingSource || ev.DetailType != route.FindingDetailType {
		return ev.ID, finding.Finding{}, fmt.Errorf("%w: source %q, detail-type %q (want %q, %q)", ErrNotFinding, ev.Source, ev.DetailType, route.FindingSource, route.FindingDetailType)
	}
	var f finding.Finding
	if err := json.Unmarshal(ev.Detail, &f); err != nil {
		return ev.ID, f, fmt.Errorf("%w: detail: %v", ErrNotFinding, err)
	}
	switch {
	case f.ID == "":
		return ev.ID, f, fmt.Errorf("%w: the finding has no id", ErrNotFinding)
	case f.Rule == "":
		return ev.ID, f, fmt.Errorf("%w: finding %s has no rule", ErrNotFinding, f.ID)
	case f.Severity < finding.Informational || f.Severity > finding.Critical:
		return ev.ID, f, fmt.Errorf("%w: finding %s has no severity", ErrNotFinding, f.ID)
	}
	return ev.ID, f, nil
}

// Handle delivers one finding event. Every channel is tried; the error joins the channels that
// failed (each an *Error), and an event that is not a finding is a permanent error.
func (h *Handler) Handle(ctx context.Context, raw json.RawMessage) error {
	defer h.flush()
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc.AwsRequestID != "" {
		hc := *h
		hc.Log = h.Log.With("requestId", lc.AwsRequestID)
		h = &hc
	}
	evID, f, err := DecodeFinding(raw)
	if err != nil {
		h.Log.Error("refused event", "eventId", evID, "error", err.Error(), "retryable", false)
		h.Log.Debug("refused event body", "event", string(raw))
		h.Metrics.Add(metric.Errors, 1, metric.Dim{Name: "Kind", Value: "decode"})
		return fmt.Errorf("notifier: %w", err)
	}
	errs := h.Deliver(ctx, f)
	if errs != nil {
		h.Metrics.Add(metric.Errors, 1, metric.Dim{Name: "Kind", Value: "delivery"})
		return fmt.Errorf("notifier: finding %s: %w", f.ID, errs)
	}
	return nil
}

// Deliver sends one finding to every channel that takes it and has not received it yet (a
// heartbeat canary to none: it is counted, see canary), and returns the joined channel failures.
func (h *Handler) Deliver(ctx context.Context, f finding.Finding) error {
	if h.canary(f) {
		return nil
	}
	key := KeyOf(f)
	if h.Sessions != nil && IsSession(f) {
		f, key = h.session(ctx, f)
	}
	var errs []error
	for _, ch := range h.Channels {
		attrs := []any{"channel", ch.Name, "findingId", f.ID, "eventId", f.EventID, "rule", f.Rule, "severity", f.Severity.String(), "accountId", f.AccountID}
		switch {
		case f.Severity < ch.MinSeverity:
			h.Log.Info("not sent: below the channel's minimum severity", append(attrs, "minSeverity", ch.MinSeverity.String())...)
			continue
		case f.Canary && ch.People:
			h.Log.Info("not sent: canary finding", attrs...)
			continue
		}
		sent, err := h.deliver(ctx, f, key, ch, attrs)
		if err != nil {
			var de *fault.Error
			retryable := errors.As(err, &de) && de.Retryable
			h.Log.Error("delivery failed", append(attrs, "retryable", retryable, "error", err.Error())...)
			h.Metrics.Add(metric.DeliveryFailures, 1, metric.Dim{Name: "Channel", Value: ch.Name})
			errs = append(errs, err)
			continue
		}
		if sent {
			h.Log.Info("delivered", attrs...)
			h.Metrics.Add(metric.Deliveries, 1, metric.Dim{Name: "Channel", Value: ch.Name})
		}
	}
	return errors.Join(errs...)
}

// deliver sends one finding to one channel under the channel's claim; sent is false when the
// channel had already received it. Every error is a classified *fault.Error.
func (h *Handler) deliver(ctx context.Context, f finding.Finding, key Key, ch Channel, attrs []any) (sent bool, err error) {
	if h.Ledger == nil {
		return true, fault.Classified(ch.Name, ch.Sender.Send(ctx, []finding.Finding{f}))
	}
	c, waited, err := h.claim(ctx, key, ch.Name)
	if waited > 0 {
		h.Log.Info("waited for another invocation's claim", append(attrs, "waited", waited.String())...)
	}
	switch {
	case errors.Is(err, ErrDelivered):
		h.Log.Info("not sent: already delivered", attrs...)
		return false, nil
	case errors.As(err, new(*BusyError)):
		// Another invocation is still sending: retrying later finds it delivered, or its claim
		// expired and takes it over.
		return false, &fault.Error{Channel: ch.Name, Retryable: true, Err: err}
	case err != nil:
		if ctx.Err() != nil {
			return false, fault.Classified(ch.Name, err)
		}
		h.Log.Error("delivery record unavailable: sending without it (a retry may send again)", append(attrs, "error", err.Error())...)
		h.Metrics.Add(metric.Errors, 1, metric.Dim{Name: "Kind", Value: "ledger"})
		return true, fault.Classified(ch.Name, ch.Sender.Send(ctx, []finding.Finding{f}))
	}
	sctx, cancel := context.WithDeadline(ctx, c.Until.Add(-LeaseMargin))
	serr := ch.Sender.Send(sctx, []finding.Finding{f})
	cancel()
	// The record is written even when the invocation's context ends meanwhile, within a bound.
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer rcancel()
	if serr != nil {
		if rerr := h.Ledger.Release(rctx, c); rerr != nil {
			h.Log.Warn("claim not released: a retry waits for it to expire", append(attrs, "error", rerr.Error())...)
		}
		return false, fault.Classified(ch.Name, serr)
	}
	if derr := h.Ledger.Done(rctx, c, h.now()); derr != nil {
		// Sent: failing now would only make a retry send again.
		msg := "delivered, but not recorded: a retry may send again"
		if errors.Is(derr, ErrDuplicate) {
			msg = "delivered twice"
		}
		h.Log.Error(msg, append(attrs, "error", derr.Error())...)
		h.Metrics.Add(metric.Errors, 1, metric.Dim{Name: "Kind", Value: "ledger"})
	}
	return true, nil
}

// recordTimeout bounds the write that ends a claim (Done or Release).
const recordTimeout = 5 * time.Second

// claim takes the channel's claim, waiting while another invocation holds it: until that one
// has delivered (ErrDelivered), released or let its claim expire, or until the invocation's
// deadline comes near (the *BusyError is returned). waited is how long it waited.
func (h *Handler) claim(ctx context.Context, key Key, channel string) (c Claim, waited time.Duration, err error) {
	lease := h.Lease
	if lease <= 0 {
		lease = DefaultLease
	}
	sleep := h.Sleep
	if sleep == nil {
		sleep = sleepCtx
	}
	wait := 50 * time.Millisecond
	var start time.Time // of the first wait
	since := func(now time.Time) time.Duration {
		if start.IsZero() {
			return 0
		}
		return now.Sub(start)
	}
	for {
		c, err := h.Ledger.Claim(ctx, key, channel, h.now(), lease)
		now := h.now()
		var busy *BusyError
		if !errors.As(err, &busy) {
			return c, since(now), err
		}
		if start.IsZero() {
			start = now
		}
		d := min(wait, busy.Until.Sub(now)+10*time.Millisecond)
		if dl, ok := ctx.Deadline(); ok && now.Add(d).After(dl.Add(-2*LeaseMargin)) {
			return Claim{}, since(now), err
		}
		if err := sleep(ctx, max(d, time.Millisecond)); err != nil {
			return Claim{}, since(h.now()), busy
		}
		wait = min(2*wait, time.Second)
	}
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (h *Handler) flush() {
	if err := h.Metrics.Flush(); err != nil {
		h.Log.Warn("metrics not written", "error", err.Error())
	}
}
