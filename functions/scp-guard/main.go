// Command scp-guard is the rootguard Lambda function that evaluates Organizations policy and
// structure changes against the protection SCP.
// Configuration: the ROOTGUARD_* environment variables (see shared/config).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/rootguard/rootguard/functions/internal/wire"
	"github.com/rootguard/rootguard/functions/internal/wire/evaluator"
	"github.com/rootguard/rootguard/shared/awsorg/dynamostore"
	"github.com/rootguard/rootguard/shared/route"
	"github.com/rootguard/rootguard/shared/rule"
)

func main() {
	h, err := evaluator.New(context.Background(), route.SCPGuard, dynamostore.New, rule.GroupProtection, rule.GroupCustody)
	if err != nil {
		wire.Exit(err)
	}
	lambda.Start(h.Handle)
}
