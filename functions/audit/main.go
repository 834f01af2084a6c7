// Command audit is the scheduled rootguard Lambda function that runs every posture and
// organization check over the whole organization: the backstop that catches what an event missed.
// Findings of earlier audits whose checks now pass are resolved (resolvedBy "audit").
// Configuration: the ROOTGUARD_* environment variables (see shared/config).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rootguard/rootguard/functions/internal/wire"
	"github.com/rootguard/rootguard/functions/internal/wire/evaluator"
	"github.com/rootguard/rootguard/shared/awsorg/dynamostore"
	"github.com/rootguard/rootguard/shared/handler"
)

func openTable(cfg aws.Config, table string) handler.AuditOpenStore {
	return dynamostore.NewRespond(cfg, table, handler.RevertWindow, handler.MaxRevertsPerHour)
}

func main() {
	h, err := evaluator.AuditResolving(context.Background(), dynamostore.New, openTable)
	if err != nil {
		wire.Exit(err)
	}
	lambda.Start(h.Handle)
}
