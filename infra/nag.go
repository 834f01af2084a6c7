package infra

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// suppress records a cdk-nag suppression on one construct, with its reason, for the findings
// listed in appliesTo (all findings of the rule when none is listed).
func suppress(construct any, rule, reason string, appliesTo ...string) {
	s := &cdknag.NagPackSuppression{Id: jsii.String(rule), Reason: jsii.String(reason)}
	if len(appliesTo) > 0 {
		list := make([]any, len(appliesTo))
		for i, a := range appliesTo {
			list[i] = a
		}
		s.AppliesTo = &list
	}
	cdknag.NagSuppressions_AddResourceSuppressions(construct, &[]*cdknag.NagPackSuppression{s}, jsii.Bool(true))
}

// suppressWildcard suppresses IAM5 for one wildcard resource, with its reason.
func suppressWildcard(construct any, resource, reason string) {
	suppress(construct, "AwsSolutions-IAM5", reason, "Resource::"+resource)
}

// suppressDLQ suppresses SQS3 on a queue that is itself a dead-letter or on-failure queue.
func suppressDLQ(construct any, of string) {
	suppress(construct, "AwsSolutions-SQS3", "This queue is itself the dead-letter (on-failure) queue of "+of+
		"; a queue behind it would only move the same messages again")
}

// stackFindings returns the error and warning annotations (cdk-nag findings among them) of a
// synthesized stack.
func stackFindings(artifact cxapi.CloudFormationStackArtifact) error {
	var msgs []string
	for _, kind := range []string{"aws:cdk:error", "aws:cdk:warning"} {
		for _, m := range *artifact.FindMetadataByType(jsii.String(kind)) {
			msgs = append(msgs, fmt.Sprintf("%s %s: %v", kind, *m.Path, m.Data))
		}
	}
	if len(msgs) > 0 {
		return fmt.Errorf("%s has %d findings:\n%s", *artifact.StackName(), len(msgs), strings.Join(msgs, "\n"))
	}
	return nil
}
