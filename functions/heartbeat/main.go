// Command heartbeat is the rootguard Lambda function that, on a schedule, puts one canary event
// of each kind (a root sign-in, a protection SCP detach, an account creation) on the central
// organization bus, so that the heartbeat alarms prove routing, evaluation and delivery work;
// and writes the round-trip parameter in every forwarded region of the management account,
// counting the CloudTrail events of those writes when the forwarders bring them back (the
// CloudTrail round-trip alarms).
// Configuration: the ROOTGUARD_* environment variables (function.Table in internal/function); ROOTGUARD_EVENT_BUS
// is the central organization bus; ROOTGUARD_HEARTBEAT_REGIONS and ROOTGUARD_HEARTBEAT_ROLE_ARN
// the round trip's regions and the management account's role.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/rootguard/rootguard/functions/internal/heartbeat"
	"github.com/rootguard/rootguard/functions/internal/wire"
	"github.com/rootguard/rootguard/internal/config"
	"github.com/rootguard/rootguard/internal/function"
)

func main() {
	b, err := wire.Load(context.Background(), function.Heartbeat)
	if err != nil {
		wire.Exit(err)
	}
	rt, err := config.LoadRoundTrip(os.Getenv)
	if err != nil {
		wire.Exit(err)
	}
	h := &heartbeat.Handler{
		API: eventbridge.NewFromConfig(b.AWS), Bus: b.Config.EventBus,
		Log: b.Log, Metrics: b.Metrics,
	}
	if len(rt.Regions) > 0 {
		// The parameter is written as the management account's heartbeat role (assumed when
		// first needed, then cached until shortly before it expires).
		mgmt := b.AWS.Copy()
		mgmt.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(b.AWS), rt.RoleARN,
			func(o *stscreds.AssumeRoleOptions) { o.RoleSessionName = function.Heartbeat }))
		h.RoundTrip = &heartbeat.RoundTrip{API: ssm.NewFromConfig(mgmt), Regions: rt.Regions,
			ManagementAccount: rt.ManagementAccount, RoleARN: rt.RoleARN}
	}
	lambda.Start(h.Handle)
}
