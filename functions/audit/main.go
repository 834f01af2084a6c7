// Command audit is the scheduled rootguard Lambda function that runs every posture and
// organization check over the whole organization: the backstop that catches what an event missed.
// Findings of earlier audits whose checks now pass are resolved (resolvedBy "audit"). After each
// audit it writes the HTML posture report to the reports bucket and emails a summary
// (functions/internal/daily) when ROOTGUARD_REPORT_BUCKET is set.
// Configuration: the ROOTGUARD_* environment variables (function.Table in internal/function).
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rootguard/rootguard/functions/internal/daily"
	"github.com/rootguard/rootguard/functions/internal/handler"
	"github.com/rootguard/rootguard/functions/internal/wire"
	"github.com/rootguard/rootguard/functions/internal/wire/evaluator"
	"github.com/rootguard/rootguard/internal/aws/dynamostore"
	"github.com/rootguard/rootguard/internal/rule"
)

func openTable(cfg aws.Config, table string) handler.AuditOpenStore {
	return dynamostore.NewRespond(cfg, table, handler.RevertWindow, handler.MaxRevertsPerHour)
}

func main() {
	h, err := evaluator.AuditResolving(context.Background(), dynamostore.New, openTable, reporter)
	if err != nil {
		wire.Exit(err)
	}
	lambda.Start(h.Handle)
}

// reporter builds the daily report's delivery, or none when no reports bucket is configured.
func reporter(cfg aws.Config, rules rule.Config) (evaluator.AfterAudit, error) {
	c, err := daily.LoadConfig(os.Getenv)
	if err != nil || c.Bucket == "" {
		return nil, err
	}
	return daily.New(cfg, c, rules).Deliver, nil
}
