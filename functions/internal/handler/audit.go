package handler

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/metric"
	"github.com/rootguard/rootguard/internal/org"
	"github.com/rootguard/rootguard/internal/rule"
)

// Scheduled events, as EventBridge Scheduler and scheduled rules send them.
const (
	ScheduledSource     = "aws.events"
	ScheduledDetailType = "Scheduled Event"
	SchedulerSource     = "aws.scheduler"
)

// Auditor is the handler of the audit function: a scheduled event in, every posture and
// organization check over the live facts, each finding out on the bus. The audit's time is the
// event's time, so posture finding ids repeat at most once a day per account and check.
type Auditor struct {
	Engine  *rule.Engine
	Facts   Facts
	Out     Publisher
	Log     *slog.Logger
	Metrics *metric.Recorder
	// Now is the clock for an event without a time (default time.Now).
	Now func() time.Time
	// AfterAudit, when set, runs once the findings are published, with the facts and the findings
	// of the audit (the audit function's daily report, functions/internal/daily); its error fails the
	// invocation, so that Lambda retries it (the findings' ids repeat: nothing is sent twice).
	AfterAudit func(ctx context.Context, facts org.Facts, findings []finding.Finding, at time.Time) error
	// Open, when set, keeps the audit's open findings, so that a check that passes again resolves
	// them (audit_resolve.go).
	Open AuditOpenStore
	// Forwarders, when set, audits the forwarding rules of every account (FORWARDER-TAMPERED).
	Forwarders ForwarderChecker
	// ForwardersManagementOnly limits the forwarder audit to the management account (assume-root
	// mode: no audit role in member accounts).
	ForwardersManagementOnly bool
	// Custody, when set, is the state table's exception grants: without it no exception counts.
	Custody Custody
}

type scheduledEvent struct {
	ID         string `json:"id"`
	Source     string `json:"source"`
	DetailType string `json:"detail-type"`
	Time       string `json:"time"`
}

// Handle runs the audit. Facts that cannot be read at all (the organization, the account list)
// are an error, so that Lambda retries; unreadable per-account facts become findings.
func (h *Auditor) Handle(ctx context.Context, raw json.RawMessage) error {
	defer flush(h.Log, h.Metrics)
	hc := *h
	hc.Log = WithRequest(ctx, h.Log)
	return hc.handle(ctx, raw)
}

func (h *Auditor) handle(ctx context.Context, raw json.RawMessage) error {
	var ev scheduledEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		err = fmt.Errorf("%s: %w: %v", "audit", ErrDecode, err)
		h.refuse(ev.ID, err)
		return err
	}
	if (ev.Source != ScheduledSource && ev.Source != SchedulerSource) || ev.DetailType != ScheduledDetailType {
		err := fmt.Errorf("audit: %w: source %q, detail-type %q (want a scheduled event)", ErrNotRouted, ev.Source, ev.DetailType)
		h.refuse(ev.ID, err)
		return err
	}
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	at := now().UTC()
	if t, err := time.Parse(time.RFC3339, ev.Time); err == nil {
		at = t.UTC()
	}
	facts := h.Facts.For(ctx)
	findings, err := h.Engine.AuditWith(facts, custodyFor(ctx, h.Custody), at)
	if err != nil {
		h.Log.Error("audit failed", "eventId", ev.ID, "error", err.Error(), "retryable", true)
		h.Metrics.Add(metric.Errors, 1, metric.Dim{Name: "Kind", Value: "facts"})
		return fmt.Errorf("audit at %s: %w", at.Format(time.RFC3339), err)
	}
	findings = append(findings, h.auditForwarders(ctx, facts, at)...)
	h.Log.Info("audit done", "eventId", ev.ID, "time", at.Format(time.RFC3339), "findings", len(findings))
	if h.Open != nil {
		err = h.publishResolving(ctx, ev.ID, at, findings)
	} else {
		err = publish(ctx, h.Log, h.Metrics, h.Out, ev.ID, "audit", "", findings)
	}
	if err != nil || h.AfterAudit == nil {
		return err
	}
	if err := h.AfterAudit(ctx, facts, findings, at); err != nil {
		h.Log.Error("audit report failed", "eventId", ev.ID, "error", err.Error(), "retryable", true)
		h.Metrics.Add(metric.Errors, 1, metric.Dim{Name: "Kind", Value: "report"})
		return fmt.Errorf("audit at %s: report: %w", at.Format(time.RFC3339), err)
	}
	return nil
}

func (h *Auditor) refuse(eventID string, err error) {
	h.Log.Error("event refused", "eventId", eventID, "error", err.Error(), "retryable", false)
	h.Metrics.Add(metric.Errors, 1, metric.Dim{Name: "Kind", Value: "refused"})
}
