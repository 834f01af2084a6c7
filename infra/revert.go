package infra

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/rootguard/rootguard/internal/function"
)

// Revert modes (context value "revert"; scp-guard's ROOTGUARD_REVERT).
const (
	RevertOff    = function.RevertOff
	RevertDryRun = function.RevertDryRun
	RevertOn     = function.RevertOn
)

// CtxRevert is the context key of the revert mode (off, dry-run or on; default off).
const CtxRevert = "revert"

// RevertRoleName is the role scp-guard assumes in the management account to revert protection
// changes; it exists only with revert on.
const RevertRoleName = "rootguard-revert"

// RevertRoleArn is the revert role's ARN (in the management account, where Organizations writes
// are made). scp-guard knows its own changes by it (the session issuer of their events).
func (c Config) RevertRoleArn() string {
	return fmt.Sprintf("arn:aws:iam::%s:role/%s", c.ManagementAccount, RevertRoleName)
}

// revertActions are the only calls of a revert plan (internal/finding.RevertActions).
var revertActions = []string{"organizations:AttachPolicy", "organizations:UpdatePolicy", "organizations:EnablePolicyType", "organizations:MoveAccount"}

// revertStatements: with revert on, scp-guard may assume the revert role (its state table items,
// open findings and revert counts, are function.Table's).
func revertStatements(cfg Config) []awsiam.PolicyStatement {
	if cfg.Revert != RevertOn {
		return nil
	}
	return []awsiam.PolicyStatement{allow([]string{"sts:AssumeRole"}, []string{cfg.RevertRoleArn()})}
}

// newRevertRole is the role scp-guard assumes to revert: in the management account, trusting
// only scp-guard's execution role, allowed exactly the revert plan's calls on this
// organization's SCPs, roots, OUs and accounts. Policy calls are limited to SCPs
// (organizations:PolicyType): a revert never touches another policy type.
func newRevertRole(stack awscdk.Stack, cfg Config) awsiam.Role {
	org := func(kind string) string {
		return fmt.Sprintf("arn:aws:organizations::%s:%s/%s/*", cfg.ManagementAccount, kind, cfg.OrganizationID)
	}
	scps := fmt.Sprintf("arn:aws:organizations::%s:policy/%s/service_control_policy/*", cfg.ManagementAccount, cfg.OrganizationID)
	targets := []string{org("root"), org("ou"), org("account")}
	onlySCP := map[string]any{"StringEquals": map[string]any{"organizations:PolicyType": "SERVICE_CONTROL_POLICY"}}
	role := awsiam.NewRole(stack, jsii.String("RevertRole"), &awsiam.RoleProps{
		RoleName:    jsii.String(RevertRoleName),
		Description: jsii.String("rootguard: revert protection SCP changes (scp-guard, ROOTGUARD_REVERT=on)"),
		AssumedBy: awsiam.NewPrincipalWithConditions(
			awsiam.NewArnPrincipal(jsii.String("arn:aws:iam::"+cfg.CentralAccount+":root")),
			&map[string]any{"ArnEquals": map[string]any{"aws:PrincipalArn": []string{cfg.FunctionRoleArn(function.SCPGuard)}}}),
		InlinePolicies: &map[string]awsiam.PolicyDocument{"revert-protection": document(
			allowIf([]string{"organizations:AttachPolicy"}, append([]string{scps}, targets...), onlySCP),
			allowIf([]string{"organizations:UpdatePolicy"}, []string{scps}, onlySCP),
			allowIf([]string{"organizations:EnablePolicyType"}, []string{org("root")}, onlySCP),
			allow([]string{"organizations:MoveAccount"}, targets),
		)},
	})
	for _, r := range append([]string{scps}, targets...) {
		suppressWildcard(role, r, "Any SCP, root, OU or account of this organization (a revert names them at run time); scoped to the organization id, SCPs only")
	}
	return role
}
