// Package notify delivers rootguard findings: the evaluators put them on the rootguard event
// bus (handler.Bus), and the notifier function (Handler) takes each finding event from the bus and sends
// it to the enabled channels: email through the SNS alerts topic (Alerts), chat through the SNS
// chat topic (Chat), and Security Hub (SecurityHub). One file per destination; every delivery
// error is classified retryable or permanent in one place (package fault). No finding is dropped
// silently: a channel that fails makes the invocation fail, so that Lambda retries it and then
// keeps the event in the on-failure destination.
package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/rootguard/rootguard/shared/finding"
	"github.com/rootguard/rootguard/shared/metric"
	"github.com/rootguard/rootguard/shared/notify/fault"
	"github.com/rootguard/rootguard/shared/route"
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

// Deliver sends one finding to every channel that takes it, and returns the joined channel
// failures.
func (h *Handler) Deliver(ctx context.Context, f finding.Finding) error {
	var errs []error
	attrs := func(ch string) []any {
		return []any{"channel", ch, "findingId", f.ID, "eventId", f.EventID, "rule", f.Rule, "severity", f.Severity.String(), "accountId", f.AccountID}
	}
	for _, ch := range h.Channels {
		switch {
		case f.Severity < ch.MinSeverity:
			h.Log.Info("not sent: below the channel's minimum severity", append(attrs(ch.Name), "minSeverity", ch.MinSeverity.String())...)
			continue
		case f.Canary && ch.People:
			h.Log.Info("not sent: canary finding", attrs(ch.Name)...)
			continue
		}
		if err := fault.Classified(ch.Name, ch.Sender.Send(ctx, []finding.Finding{f})); err != nil {
			var de *fault.Error
			retryable := errors.As(err, &de) && de.Retryable
			h.Log.Error("delivery failed", append(attrs(ch.Name), "retryable", retryable, "error", err.Error())...)
			h.Metrics.Add(metric.DeliveryFailures, 1, metric.Dim{Name: "Channel", Value: ch.Name})
			errs = append(errs, err)
			continue
		}
		h.Log.Info("delivered", attrs(ch.Name)...)
		h.Metrics.Add(metric.Deliveries, 1, metric.Dim{Name: "Channel", Value: ch.Name})
	}
	return errors.Join(errs...)
}

func (h *Handler) flush() {
	if err := h.Metrics.Flush(); err != nil {
		h.Log.Warn("metrics not written", "error", err.Error())
	}
}
