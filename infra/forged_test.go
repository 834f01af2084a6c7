package infra

import (
	"slices"
	"strings"
	"testing"
)

// forgedFolder holds sample events AWS did not write (events/README.md, "Forged events").
const forgedFolder = "forged"

// checkForged: a forged sample reaches no function on the central bus. The one exception is an
// aws.* event whose account differs from its detail.recipientAccountId: no PutEvents can give
// an event an aws.* source, and an event pattern cannot compare two fields, so the evaluators
// refuse it themselves (functions/internal/handler TestForgedSamplesRefused).
func checkForged(t *testing.T, at string, ev map[string]any, reached []string) {
	t.Helper()
	if len(reached) == 0 {
		return
	}
	source, _ := ev["source"].(string)
	account, _ := ev["account"].(string)
	recipient, _ := get(ev, "detail", "recipientAccountId").(string)
	if strings.HasPrefix(source, "aws.") && account != recipient {
		return
	}
	t.Errorf("%s: a forged event (source %q, account %s) reaches %v on the central bus", at, source, account, reached)
}

// forwarderChange is the oracle of FORWARDER-TAMPERED's events (rules.md, custody rules),
// written from the spec independently of the routing table: EventBridge rule changes,
// CloudFormation stack and StackSet changes, Lambda, SNS, DynamoDB and KMS changes.
func forwarderChange(source, name, kind string) bool {
	if kind != "AwsApiCall" {
		return false
	}
	names := map[string][]string{
		"events.amazonaws.com":         {"DisableRule", "DeleteRule", "PutRule", "RemoveTargets", "PutTargets"},
		"cloudformation.amazonaws.com": {"DeleteStack", "UpdateStack", "ExecuteChangeSet", "CreateChangeSet", "DeleteStackInstances", "UpdateStackSet", "DeleteStackSet"},
		"lambda.amazonaws.com":         {"UpdateFunctionConfiguration20150331v2", "UpdateFunctionCode20150331v2", "DeleteFunction20150331"},
		"sns.amazonaws.com":            {"DeleteTopic", "SetTopicAttributes", "Unsubscribe"},
		"dynamodb.amazonaws.com":       {"DeleteTable", "UpdateTable"},
		"kms.amazonaws.com":            {"DisableKey", "ScheduleKeyDeletion", "PutKeyPolicy"},
	}
	return slices.Contains(names[source], name)
}
