// Command root-activity is the rootguard Lambda function that evaluates root sign-ins, password
// recovery, root API activity, sts:AssumeRoot and centralised root sessions from every account and
// region, and root email changes by whoever makes them (ROOT-EMAIL-CHANGED). It reads and records
// accounts' ownership in the state table (ROOTGUARD_DEDUP_TABLE, owner# items): ownership is sticky.
// Configuration: the ROOTGUARD_* environment variables (function.Table in internal/function).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/rootguard/rootguard/functions/internal/wire"
	"github.com/rootguard/rootguard/functions/internal/wire/evaluator"
	"github.com/rootguard/rootguard/internal/aws/dynamostore"
	"github.com/rootguard/rootguard/internal/function"
)

func main() {
	h, err := evaluator.New(context.Background(), function.RootActivity, dynamostore.New)
	if err != nil {
		wire.Exit(err)
	}
	lambda.Start(h.Handle)
}
