package infra

import (
	"encoding/json"
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsorganizations"
	"github.com/aws/jsii-runtime-go"
)

// Guard SCP: rootguard's own resources in member accounts, protected against the principals it
// watches (docs/deploy.md, "The guard SCP").
const (
	// GuardSCPName is the name of the guard SCP the management stack creates, attached nowhere.
	GuardSCPName = "rootguard-guard"
	// MaxSCPSize is the largest SCP document Organizations accepts, in characters.
	MaxSCPSize = 5120
	// ForwardRulePrefix starts the name of every forwarding rule rootguard deploys.
	ForwardRulePrefix = "rootguard-forward-"
	// ForwardRolePrefix starts the name of the forwarding role (one per region).
	ForwardRolePrefix = "rootguard-forward-"
	// StackSetExecutionRole matches the role service-managed StackSets deploy with in member
	// accounts (the only principal the guard SCP lets change rootguard's resources there).
	StackSetExecutionRole = "arn:aws:iam::*:role/stacksets-exec-*"
	// StackSetsServiceRole is the service-linked role that creates the StackSet execution roles
	// in member accounts (SCPs never restrict a service-linked role; the condition says so).
	StackSetsServiceRole = "arn:aws:iam::*:role/aws-service-role/member.org.stacksets.cloudformation.amazonaws.com/AWSServiceRoleForCloudFormationStackSetsOrgMember"
)

// GuardDeployerRoleActions are the IAM calls that would make a role the guard SCP exempts (a
// role named like the StackSet execution role) or change who may assume one.
var GuardDeployerRoleActions = []string{"iam:CreateRole", "iam:UpdateAssumeRolePolicy", "iam:AttachRolePolicy", "iam:PutRolePolicy"}

// ForwarderAuditActions are the audit role's reads of the forwarding rules.
var ForwarderAuditActions = []string{"events:DescribeRule", "events:ListTargetsByRule"}

// GuardRuleActions are the EventBridge calls that silence a forwarder.
var GuardRuleActions = []string{"events:DisableRule", "events:DeleteRule", "events:PutRule", "events:RemoveTargets", "events:PutTargets"}

// GuardRoleActions are the IAM writes on rootguard's roles.
var GuardRoleActions = []string{
	"iam:AttachRolePolicy", "iam:DeleteRole", "iam:DeleteRolePermissionsBoundary", "iam:DeleteRolePolicy",
	"iam:DetachRolePolicy", "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy",
	"iam:UpdateRole", "iam:UpdateRoleDescription", "iam:TagRole", "iam:UntagRole",
}

// GuardStackActions are the CloudFormation changes to the member forwarder's stack instances.
var GuardStackActions = []string{
	"cloudformation:DeleteStack", "cloudformation:UpdateStack", "cloudformation:CreateChangeSet",
	"cloudformation:ExecuteChangeSet", "cloudformation:SetStackPolicy", "cloudformation:UpdateTerminationProtection",
	"cloudformation:CancelUpdateStack", "cloudformation:ContinueUpdateRollback", "cloudformation:RollbackStack",
}

// ForwardRuleName is the fixed name of a route's forwarding rule (route.Route.Name; in every
// account and region).
func ForwardRuleName(route string) string { return ForwardRulePrefix + route }

// GuardPolicy is the guard SCP's document: it denies changes to rootguard's forwarding rules,
// its roles and the member forwarder's stack instances to every principal but the StackSet
// execution role. SCPs never apply to the management account, whose forwarders the
// FORWARDER-TAMPERED rule and the audit watch instead.
func GuardPolicy(cfg Config) map[string]any {
	exceptStackSets := map[string]any{"ArnNotLike": map[string]any{"aws:PrincipalArn": StackSetExecutionRole}}
	roles := []string{"arn:aws:iam::*:role/" + ForwardRolePrefix + "*"}
	if cfg.RootCredentialsMode == ModeAuditRole {
		roles = append(roles, "arn:aws:iam::*:role/"+cfg.AuditRoleName)
	}
	return map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{
			map[string]any{
				"Sid": "RootguardForwardingRules", "Effect": "Deny", "Action": GuardRuleActions,
				"Resource":  "arn:aws:events:*:*:rule/" + ForwardRulePrefix + "*",
				"Condition": exceptStackSets,
			},
			map[string]any{
				"Sid": "RootguardRoles", "Effect": "Deny", "Action": GuardRoleActions,
				"Resource": roles, "Condition": exceptStackSets,
			},
			map[string]any{ // else anyone could create a role with the exempt name
				"Sid": "RootguardDeployerRoles", "Effect": "Deny", "Action": GuardDeployerRoleActions,
				"Resource":  StackSetExecutionRole,
				"Condition": map[string]any{"ArnNotLike": map[string]any{"aws:PrincipalArn": StackSetsServiceRole}},
			},
			map[string]any{
				"Sid": "RootguardStackInstances", "Effect": "Deny", "Action": GuardStackActions,
				"Resource":  "arn:aws:cloudformation:*:*:stack/StackSet-" + StackSetName + "-*/*",
				"Condition": exceptStackSets,
			},
		},
	}
}

// GuardPolicyJSON is the guard SCP as Organizations stores it (compact JSON), checked against
// the SCP size limit.
func GuardPolicyJSON(cfg Config) (string, error) {
	b, err := json.Marshal(GuardPolicy(cfg))
	if err != nil {
		return "", fmt.Errorf("encode the guard SCP: %w", err)
	}
	if len(b) > MaxSCPSize {
		return "", fmt.Errorf("guard SCP is %d characters, over the %d an SCP may have", len(b), MaxSCPSize)
	}
	return string(b), nil
}

// newGuardSCP creates the guard SCP in the management account, attached to nothing: attaching
// it is the organization's decision (docs/deploy.md). Build checks its size first.
func newGuardSCP(stack awscdk.Stack, cfg Config) {
	awsorganizations.NewCfnPolicy(stack, jsii.String("GuardSCP"), &awsorganizations.CfnPolicyProps{
		Name:        jsii.String(GuardSCPName),
		Type:        jsii.String("SERVICE_CONTROL_POLICY"),
		Description: jsii.String("rootguard: denies changes to rootguard's forwarders, roles and stack instances in member accounts except by the StackSet execution role (not attached by rootguard)"),
		Content:     GuardPolicy(cfg),
	})
}

// The audit's reads of the organization's IAM features and of the management account's trails
// (ROOT-CENTRAL-ACCESS-DISABLED and TRAIL-TAMPERED).
var (
	// auditGuardUnscoped have no resource type: IAM and CloudTrail authorize them on * only.
	auditGuardUnscoped = []string{"iam:ListOrganizationsFeatures", "cloudtrail:DescribeTrails"}
	// auditGuardTrailActions are read on the management account's trails.
	auditGuardTrailActions = []string{"cloudtrail:GetTrailStatus", "cloudtrail:GetEventSelectors"}
)
