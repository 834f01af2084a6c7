// Command scp-guard is the rootguard Lambda function that evaluates Organizations policy and
// structure changes against the protection SCP and changes to rootguard's own resources
// (FORWARDER-TAMPERED), resolves open findings when the protection is restored and, opted in
// (ROOTGUARD_REVERT), reverts the changes.
// Configuration: the ROOTGUARD_* environment variables (function.Table in internal/function).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rootguard/rootguard/functions/internal/handler"
	"github.com/rootguard/rootguard/functions/internal/wire"
	"github.com/rootguard/rootguard/functions/internal/wire/evaluator"
	"github.com/rootguard/rootguard/internal/aws/dynamostore"
)

func respondTable(cfg aws.Config, table string) (handler.RevertCounter, handler.OpenStore) {
	s := dynamostore.NewRespond(cfg, table, handler.RevertWindow, handler.MaxRevertsPerHour)
	return s, s
}

func main() {
	h, err := evaluator.SCPGuard(context.Background(), dynamostore.New, respondTable)
	if err != nil {
		wire.Exit(err)
	}
	lambda.Start(h.Handle)
}
