// Command audit is the scheduled rootguard Lambda function that runs every posture and
// organization check over the whole organization: the backstop that catches what an event missed.
// Configuration: the ROOTGUARD_* environment variables (see shared/config).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/rootguard/rootguard/functions/internal/wire"
	"github.com/rootguard/rootguard/functions/internal/wire/evaluator"
	"github.com/rootguard/rootguard/shared/awsorg/dynamostore"
)

func main() {
	h, err := evaluator.Audit(context.Background(), dynamostore.New)
	if err != nil {
		wire.Exit(err)
	}
	lambda.Start(h.Handle)
}
