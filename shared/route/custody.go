package route

// TamperPatterns are the changes to rootguard's own resources that FORWARDER-TAMPERED evaluates
// (scp-guard takes them, forwarded from every account and region): EventBridge rule changes,
// CloudFormation stack and StackSet changes, and Lambda, SNS, DynamoDB and KMS changes. The
// patterns cannot test which resource a call names; the rule does (a rootguard name), so other
// calls reach scp-guard and raise nothing. Lambda records its calls with an API version suffix
// (UpdateFunctionCode20150331v2), hence prefixes there.
var TamperPatterns = []Pattern{
	{
		Sources: []string{"aws.events"}, DetailTypes: []string{apiCall}, EventSources: []string{"events.amazonaws.com"},
		EventNames: []string{"DisableRule", "DeleteRule", "PutRule", "RemoveTargets", "PutTargets"},
	},
	{
		Sources: []string{"aws.cloudformation"}, DetailTypes: []string{apiCall}, EventSources: []string{"cloudformation.amazonaws.com"},
		EventNames: []string{"DeleteStack", "UpdateStack", "CreateChangeSet", "ExecuteChangeSet", "SetStackPolicy",
			"UpdateTerminationProtection", "CancelUpdateStack", "ContinueUpdateRollback", "RollbackStack", "UpdateStackSet",
			"DeleteStackSet", "CreateStackInstances", "UpdateStackInstances", "DeleteStackInstances", "StopStackSetOperation"},
	},
	{
		Sources: []string{"aws.lambda"}, DetailTypes: []string{apiCall}, EventSources: []string{"lambda.amazonaws.com"},
		EventNamePrefixes: []string{"DeleteFunction", "UpdateFunctionCode", "UpdateFunctionConfiguration", "PutFunctionConcurrency",
			"AddPermission", "RemovePermission", "PutFunctionEventInvokeConfig", "UpdateFunctionEventInvokeConfig",
			"UpdateEventSourceMapping", "DeleteEventSourceMapping"},
	},
	{
		Sources: []string{"aws.sns"}, DetailTypes: []string{apiCall}, EventSources: []string{"sns.amazonaws.com"},
		EventNames: []string{"DeleteTopic", "SetTopicAttributes", "Subscribe", "Unsubscribe", "AddPermission", "RemovePermission", "PutDataProtectionPolicy"},
	},
	{
		Sources: []string{"aws.dynamodb"}, DetailTypes: []string{apiCall}, EventSources: []string{"dynamodb.amazonaws.com"},
		EventNames: []string{"DeleteTable", "UpdateTable", "UpdateTimeToLive", "UpdateContinuousBackups", "PutResourcePolicy", "DeleteResourcePolicy"},
	},
	{
		Sources: []string{"aws.kms"}, DetailTypes: []string{apiCall}, EventSources: []string{"kms.amazonaws.com"},
		EventNames: []string{"DisableKey", "ScheduleKeyDeletion", "PutKeyPolicy", "DisableKeyRotation", "DeleteAlias", "UpdateAlias"},
	},
}
