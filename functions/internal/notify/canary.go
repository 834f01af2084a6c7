package notify

import (
	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/metric"
)

// canary takes a heartbeat canary finding: it is counted (metric.CanaryFindings by Rule, which
// the heartbeat alarms watch: the notifier is the pipeline's last stage) and sent to no channel,
// neither people's nor Security Hub. It reports whether f was a canary.
func (h *Handler) canary(f finding.Finding) bool {
	if !f.Canary {
		return false
	}
	h.Log.Info("canary finding recorded, not sent", "findingId", f.ID, "eventId", f.EventID, "rule", f.Rule, "accountId", f.AccountID)
	h.Metrics.Add(metric.CanaryFindings, 1, metric.Dim{Name: "Rule", Value: f.Rule})
	return true
}
