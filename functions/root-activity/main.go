// Command root-activity is the rootguard Lambda function that evaluates root sign-ins, password
// recovery, root API activity, sts:AssumeRoot and centralised root sessions from every account and
// region.
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
	h, err := evaluator.New(context.Background(), route.RootActivity, dynamostore.New, rule.GroupRoot)
	if err != nil {
		wire.Exit(err)
	}
	lambda.Start(h.Handle)
}
