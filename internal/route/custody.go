package route

// TamperPatterns are the changes to rootguard's own resources that FORWARDER-TAMPERED evaluates
// (scp-guard takes them, forwarded from every account and region): EventBridge rule changes,
// CloudFormation stack and StackSet changes, and Lambda, SNS, DynamoDB and KMS changes. The
// patterns cannot test which resource a call names; the rule does (a rootguard name), so other
// calls reach scp-guard and raise nothing. Lambda records its calls with an API version suffix
// (UpdateFunctionCode20150331v2), hence prefixes there. The source alone names the service (an
// aws.* source is written by AWS only), which keeps the patterns under EventBridge's default
// 2,048-character quota.
var TamperPatterns = []Pattern{
	{
		Sources:    []string{"aws.events"},
		EventNames: []string{"DisableRule", "DeleteRule", "PutRule", "RemoveTargets", "PutTargets"},
	},
	{
		Sources: []string{"aws.cloudformation"},
		EventNames: []string{"DeleteStack", "UpdateStack", "CreateChangeSet", "ExecuteChangeSet", "SetStackPolicy",
			"UpdateTerminationProtection", "CancelUpdateStack", "ContinueUpdateRollback", "RollbackStack", "UpdateStackSet",
			"DeleteStackSet", "CreateStackInstances", "UpdateStackInstances", "DeleteStackInstances", "StopStackSetOperation"},
	},
	{
		Sources: []string{"aws.lambda"},
		EventNamePrefixes: []string{"DeleteFunction", "UpdateFunctionCode", "UpdateFunctionConfiguration", "PutFunctionConcurrency",
			"AddPermission", "RemovePermission", "PutFunctionEventInvokeConfig", "UpdateFunctionEventInvokeConfig",
			"UpdateEventSourceMapping", "DeleteEventSourceMapping"},
	},
	{
		Sources:    []string{"aws.sns"},
		EventNames: []string{"DeleteTopic", "SetTopicAttributes", "Subscribe", "Unsubscribe", "AddPermission", "RemovePermission", "PutDataProtectionPolicy"},
	},
	{
		Sources:    []string{"aws.dynamodb"},
		EventNames: []string{"DeleteTable", "UpdateTable", "UpdateTimeToLive", "UpdateContinuousBackups", "PutResourcePolicy", "DeleteResourcePolicy"},
	},
	{
		Sources:    []string{"aws.kms"},
		EventNames: []string{"DisableKey", "ScheduleKeyDeletion", "PutKeyPolicy", "DisableKeyRotation", "DeleteAlias", "UpdateAlias", "CreateGrant"},
	},
}
