package handler

import (
	"context"

	"github.com/rootguard/rootguard/internal/canary"
	"github.com/rootguard/rootguard/internal/cloudtrail"
	"github.com/rootguard/rootguard/internal/org"
)

// factsFor returns the facts an event is evaluated against: for a heartbeat canary, the reserved
// fake organization of package canary (no AWS call is made for it, and the live cache is left
// alone); otherwise the live facts, after dropping what the event changes.
func (h *Evaluator) factsFor(ctx context.Context, ev *cloudtrail.Event) org.Facts {
	if ev.Canary {
		cfg := h.Engine.Config()
		domain, name := "", ""
		if len(cfg.StaxDomains) > 0 {
			domain = cfg.StaxDomains[0]
		}
		if len(cfg.ProtectionSCPNames) > 0 {
			name = cfg.ProtectionSCPNames[0]
		}
		return canary.Facts(domain, name)
	}
	h.Facts.Invalidate(ev)
	return h.Facts.For(ctx)
}
