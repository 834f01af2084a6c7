// Command heartbeat is the rootguard Lambda function that, on a schedule, puts one canary event
// of each kind (a root sign-in, a protection SCP detach, an account creation) on the central
// organization bus, so that the heartbeat alarms prove routing, evaluation and delivery work.
// Configuration: the ROOTGUARD_* environment variables (see shared/config); ROOTGUARD_EVENT_BUS
// is the central organization bus.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/rootguard/rootguard/functions/internal/wire"
	"github.com/rootguard/rootguard/shared/heartbeat"
	"github.com/rootguard/rootguard/shared/route"
)

func main() {
	b, err := wire.Load(context.Background(), route.Heartbeat)
	if err != nil {
		wire.Exit(err)
	}
	h := &heartbeat.Handler{
		API: eventbridge.NewFromConfig(b.AWS), Bus: b.Config.EventBus,
		Log: b.Log, Metrics: b.Metrics,
	}
	lambda.Start(h.Handle)
}
