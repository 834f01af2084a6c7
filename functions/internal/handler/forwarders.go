package handler

import (
	"context"
	"fmt"
	"time"

	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/metric"
	"github.com/rootguard/rootguard/internal/org"
	"github.com/rootguard/rootguard/internal/rule"
)

// ForwarderChecker reads the forwarding rules of accounts (forwarder.Checker).
type ForwarderChecker interface {
	Check(ctx context.Context, accounts []string) []rule.ForwarderState
}

// auditForwarders runs the forwarder audit over every account of the facts: FORWARDER-TAMPERED
// for each missing, disabled or retargeted forwarding rule. Rules that could not be read are
// logged (and counted) once per account and region, not raised: an account without the audit
// role, or a region a region-deny SCP blocks.
func (h *Auditor) auditForwarders(ctx context.Context, facts org.Facts, at time.Time) []finding.Finding {
	if h.Forwarders == nil {
		return nil
	}
	accounts, err := facts.Accounts()
	if err != nil {
		h.Log.Warn("forwarder audit skipped: accounts not listed", "error", err.Error())
		return nil
	}
	ids := make([]string, 0, len(accounts))
	for _, a := range accounts {
		ids = append(ids, a.ID)
	}
	if h.ForwardersManagementOnly {
		o, err := facts.Organization()
		if err != nil || o.ManagementAccountID == "" {
			h.Log.Warn("forwarder audit skipped: management account unknown", "error", fmt.Sprint(err))
			return nil
		}
		ids = []string{o.ManagementAccountID}
	}
	states := h.Forwarders.Check(ctx, ids)
	seen := map[string]bool{}
	for _, s := range states {
		if s.Unknown == "" || seen[s.Account+"/"+s.Region] {
			continue
		}
		seen[s.Account+"/"+s.Region] = true
		h.Log.Warn("forwarder not readable", "accountId", s.Account, "region", s.Region, "error", s.Unknown)
		h.Metrics.Add(metric.Errors, 1, metric.Dim{Name: "Kind", Value: "forwarder-unreadable"})
	}
	return h.Engine.ForwarderAudit(facts, states, at)
}
