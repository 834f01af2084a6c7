package handler

import (
	"context"
	"time"

	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/metric"
	"github.com/rootguard/rootguard/internal/rule"
)

// AuditOpenStore keeps the findings the audit left open (the state table item
// open#audit): a finding whose check passes at a later audit is resolved by "audit".
type AuditOpenStore interface {
	LoadAudit(ctx context.Context) ([]finding.Finding, error)
	SaveAudit(ctx context.Context, open []finding.Finding) error
}

// publishResolving publishes the audit's findings with the resolutions of the open findings
// whose checks now pass, then keeps the new open set. When the open set cannot be read the
// findings are still published (nothing is resolved this time).
func (h *Auditor) publishResolving(ctx context.Context, eventID string, at time.Time, findings []finding.Finding) error {
	prev, err := h.Open.LoadAudit(ctx)
	if err != nil {
		h.Log.Error("open audit findings unreadable: nothing resolved this time", "eventId", eventID, "error", err.Error())
		h.Metrics.Add(metric.Errors, 1, metric.Dim{Name: "Kind", Value: "state"})
		return publish(ctx, h.Log, h.Metrics, h.Out, eventID, "audit", "", findings)
	}
	resolved, open := rule.ResolveAudit(prev, findings, at)
	for _, r := range resolved {
		h.Log.Info("finding resolved", "eventId", eventID, "rule", r.Rule, "findingId", r.ID, "accountId", r.AccountID, "resolvedBy", r.ResolvedBy)
	}
	if err := publish(ctx, h.Log, h.Metrics, h.Out, eventID, "audit", "", append(findings, resolved...)); err != nil {
		return err
	}
	if err := h.Open.SaveAudit(ctx, open); err != nil {
		// Published: the next audit resolves them again (the notifier delivers once).
		h.Log.Warn("open audit findings not kept", "eventId", eventID, "error", err.Error())
	}
	return nil
}
