// Command notifier is the rootguard Lambda function that takes each finding from the rootguard
// event bus and delivers it: email through the SNS alerts topic, chat through the SNS chat topic,
// and Security Hub, as the configuration enables them.
// Configuration: the ROOTGUARD_* environment variables (function.Table in internal/function).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/rootguard/rootguard/functions/internal/wire"
	"github.com/rootguard/rootguard/functions/internal/wire/notifier"
)

func main() {
	h, err := notifier.New(context.Background())
	if err != nil {
		wire.Exit(err)
	}
	lambda.Start(h.Handle)
}
