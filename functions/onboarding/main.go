// Command onboarding is the rootguard Lambda function that reports new and joining accounts and
// checks their posture, waiting for a new account to become readable.
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
	h, err := evaluator.New(context.Background(), function.Onboarding, dynamostore.New)
	if err != nil {
		wire.Exit(err)
	}
	lambda.Start(h.Handle)
}
