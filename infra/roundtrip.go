package infra

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/rootguard/rootguard/internal/canary"
	"github.com/rootguard/rootguard/internal/function"
)

// The end-to-end CloudTrail canary (package canary, "round trip"): the heartbeat assumes
// canary.RoundTripRoleName in the management account and writes the round-trip parameter in
// every forwarded region; the management forwarders send the recorded call back to the central
// bus (the heartbeat's route in routing.Table), and one alarm per region watches the heartbeat's
// count of the calls that came back.

// roundTripStatements: the heartbeat may assume the management account's heartbeat role, and
// only that role.
func roundTripStatements(cfg Config) []awsiam.PolicyStatement {
	return []awsiam.PolicyStatement{allow([]string{"sts:AssumeRole"}, []string{canary.RoundTripRoleARN(cfg.ManagementAccount)})}
}

// newHeartbeatRole is the management account's role that the central heartbeat function
// assumes to write the round-trip parameter: ssm:PutParameter on exactly that parameter's ARN in
// each forwarded region, nothing else. IAM is global: the us-east-1 management stack holds it.
func newHeartbeatRole(stack awscdk.Stack, cfg Config) awsiam.Role {
	var arns []string
	for _, region := range cfg.ForwardRegions {
		arns = append(arns, canary.ParameterARN(region, cfg.ManagementAccount))
	}
	return awsiam.NewRole(stack, jsii.String("HeartbeatRole"), &awsiam.RoleProps{
		RoleName:    jsii.String(canary.RoundTripRoleName),
		Description: jsii.String("rootguard: the heartbeat writes " + canary.RoundTripParameter + " in every forwarded region (the CloudTrail round-trip canary), nothing else"),
		AssumedBy: awsiam.NewPrincipalWithConditions(
			awsiam.NewArnPrincipal(jsii.String("arn:aws:iam::"+cfg.CentralAccount+":root")),
			&map[string]any{"ArnEquals": map[string]any{"aws:PrincipalArn": []string{cfg.FunctionRoleArn(function.Heartbeat)}}}),
		InlinePolicies: &map[string]awsiam.PolicyDocument{"write-heartbeat-parameter": document(
			allow([]string{"ssm:PutParameter"}, arns),
		)},
	})
}

// addRoundTripAlarms adds one alarm per forwarded region (canary.RoundTripAlarms) on the
// heartbeat's count of round trips, to the alerts topic; a period without any counts as missing.
func (c *Central) addRoundTripAlarms(cfg Config) {
	action := awscloudwatchactions.NewSnsAction(c.AlertsTopic)
	for _, a := range canary.RoundTripAlarms(cfg.ForwardRegions) {
		c.addCanaryAlarm(a, action)
	}
}
