package evaluator

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rootguard/rootguard/functions/internal/handler"
	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/org"
	"github.com/rootguard/rootguard/internal/rule"
)

// AfterAudit is the audit's follow-up (handler.Auditor.AfterAudit).
type AfterAudit = func(ctx context.Context, facts org.Facts, findings []finding.Finding, at time.Time) error

// Reporter builds the daily report's delivery from the function's AWS configuration and rule
// configuration; nil with no error when the report is not configured. The audit function passes
// it (functions/internal/daily), so that only the audit links the S3 client.
type Reporter func(cfg aws.Config, rules rule.Config) (AfterAudit, error)

// withReport builds the audit handler from the wiring, with the daily report after each audit
// when the reporter configures one.
func withReport(p *parts, reporter Reporter) (*handler.Auditor, error) {
	h, err := auditorOf(p)
	if err != nil {
		return nil, err
	}
	if reporter != nil {
		after, err := reporter(p.base.AWS, p.engine.Config())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.fn.Name, err)
		}
		h.AfterAudit = after
	}
	return h, nil
}
