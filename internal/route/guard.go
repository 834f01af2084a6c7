package route

// CentralRootAccessEventNames are the IAM calls that turn centralised root access off
// (ROOT-CENTRAL-ACCESS-DISABLED), evaluated by scp-guard.
var CentralRootAccessEventNames = []string{"DisableOrganizationsRootCredentialsManagement", "DisableOrganizationsRootSessions"}

// TrailEventNames are the CloudTrail calls that can blind rootguard (TRAIL-TAMPERED), evaluated by
// scp-guard.
var TrailEventNames = []string{"StopLogging", "DeleteTrail", "UpdateTrail", "PutEventSelectors", "PutInsightSelectors"}
