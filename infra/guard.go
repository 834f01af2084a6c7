package infra

// The audit's reads of the organization's IAM features and of the management account's trails
// (ROOT-CENTRAL-ACCESS-DISABLED and TRAIL-TAMPERED).
var (
	// auditGuardUnscoped have no resource type: IAM and CloudTrail authorize them on * only.
	auditGuardUnscoped = []string{"iam:ListOrganizationsFeatures", "cloudtrail:DescribeTrails"}
	// auditGuardTrailActions are read on the management account's trails.
	auditGuardTrailActions = []string{"cloudtrail:GetTrailStatus", "cloudtrail:GetEventSelectors"}
)
