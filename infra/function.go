package infra

import (
	"fmt"
	"path/filepath"
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"

	"github.com/rootguard/rootguard/internal/function"
	"github.com/rootguard/rootguard/internal/statekey"
)

// The functions of the central stack, one per entry of function.Table: what each one is given
// (environment, permissions, size) is read from the table, not chosen by name.

// newFunction builds one function: its own role, log group, async retry policy and on-failure
// queue.
func (c *Central) newFunction(f function.Function, cfg Config) awslambda.Function {
	stack := c.Stack
	name := FunctionName(f.Name)
	logGroup := awslogs.NewLogGroup(stack, jsii.String("Logs-"+f.Name), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String("/aws/lambda/" + name),
		EncryptionKey: c.Key,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	logGroup.Node().DefaultChild().(awslogs.CfnLogGroup).SetRetentionInDays(jsii.Number(float64(cfg.LogRetentionDays)))

	failures := c.FailureQueues[f.Name]
	statements := []awsiam.PolicyStatement{
		// The log group ARN ends in :* (its log streams).
		allow([]string{"logs:CreateLogStream", "logs:PutLogEvents"}, []string{*logGroup.LogGroupArn()}),
		allow([]string{"sqs:SendMessage"}, []string{*failures.QueueArn()}),
		// The on-failure queue, the topics and the table are encrypted with the stack's key.
		allow([]string{"kms:GenerateDataKey", "kms:Decrypt"}, []string{*c.Key.KeyArn()}),
	}
	wildcards := map[string]string{}
	switch {
	case f.Evaluates():
		detector, reasons := c.detectorStatements(f, cfg)
		statements, wildcards = append(statements, detector...), reasons
	case f.Bus == function.OrganizationBus:
		// The canaries go on the central organization bus, and nowhere else.
		statements = append(statements, allow([]string{"events:PutEvents"}, []string{*c.OrgBus.EventBusArn()}))
	default:
		statements = append(statements, c.notifierStatements(f, cfg)...)
	}
	if f.Takes(function.EnvRevert) { // revert (revert.go)
		statements = append(statements, revertStatements(cfg)...)
	}
	if f.Takes(function.EnvHeartbeatRegions) { // the CloudTrail round trip (roundtrip.go)
		statements = append(statements, roundTripStatements(cfg)...)
	}
	if f.Takes(function.EnvReportBucket) { // the daily report (report.go)
		statements = append(statements, c.reportStatements(cfg)...)
	}
	role := awsiam.NewRole(stack, jsii.String("Role-"+f.Name), &awsiam.RoleProps{
		RoleName:       jsii.String(FunctionRoleName(f.Name)),
		Description:    jsii.String("rootguard " + f.Name + " function: only the calls it makes"),
		AssumedBy:      awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		InlinePolicies: &map[string]awsiam.PolicyDocument{"least-privilege": document(statements...)},
	})
	for _, resource := range sortedKeys(wildcards) {
		suppressWildcard(role, resource, wildcards[resource])
	}
	if f.Takes(function.EnvReportBucket) {
		suppressReportObjects(role)
	}
	env := c.environment(f, cfg)
	fn := awslambda.NewFunction(stack, jsii.String("Fn-"+f.Name), &awslambda.FunctionProps{
		FunctionName: jsii.String(name),
		Description:  jsii.String(f.Description),
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_ARM_64(),
		Handler:      jsii.String("bootstrap"),
		Code:         awslambda.Code_FromAsset(jsii.String(filepath.Join(cfg.AssetDir, f.Name)), nil),
		MemorySize:   jsii.Number(float64(f.MemoryMB)),
		Timeout:      awscdk.Duration_Seconds(jsii.Number(f.Timeout.Seconds())),
		Role:         role,
		LogGroup:     logGroup,
		Environment:  &env,
	})
	awslambda.NewCfnEventInvokeConfig(stack, jsii.String("AsyncConfig-"+f.Name), &awslambda.CfnEventInvokeConfigProps{
		FunctionName:             fn.FunctionName(),
		Qualifier:                jsii.String("$LATEST"),
		MaximumRetryAttempts:     jsii.Number(asyncRetryAttempts),
		MaximumEventAgeInSeconds: jsii.Number(asyncMaxEventAge.Seconds()),
		DestinationConfig: &awslambda.CfnEventInvokeConfig_DestinationConfigProperty{
			OnFailure: &awslambda.CfnEventInvokeConfig_OnFailureProperty{Destination: failures.QueueArn()},
		},
	})
	return fn
}

// organizationsReadActions are the Organizations calls of the evaluators; the audit also walks
// the whole organization.
var (
	organizationsReadActions = []string{
		"organizations:DescribeOrganization", "organizations:DescribeAccount", "organizations:ListParents",
		"organizations:ListRoots", "organizations:ListPoliciesForTarget", "organizations:DescribePolicy",
		"organizations:ListTagsForResource", "organizations:DescribeOrganizationalUnit",
	}
	organizationsAuditActions = []string{
		"organizations:ListAccounts", "organizations:ListPolicies", "organizations:ListTargetsForPolicy",
		"organizations:ListOrganizationalUnitsForParent", "organizations:ListChildren",
	}
	// organizationsUnscoped are the calls Organizations authorizes on "*" only (no resource type).
	organizationsUnscoped = map[string]bool{
		"organizations:DescribeOrganization": true, "organizations:ListRoots": true,
		"organizations:ListAccounts": true, "organizations:ListPolicies": true,
	}
)

// auditsOrganization reports whether a function evaluates the posture rules, which walk the
// whole organization (the audit) and read its IAM features and the management account's trails.
func auditsOrganization(f function.Function) bool {
	return slices.Contains(f.Groups, function.GroupPosture)
}

// detectorStatements: Organizations reads, findings out, the state table items of its facts, root
// credential state, its response's state table items; and the reason of each wildcard resource
// they use.
func (c *Central) detectorStatements(f function.Function, cfg Config) ([]awsiam.PolicyStatement, map[string]string) {
	actions := organizationsReadActions
	if auditsOrganization(f) {
		actions = append(append([]string{}, organizationsReadActions...), organizationsAuditActions...)
	}
	var scoped, unscoped []string
	for _, a := range actions {
		if organizationsUnscoped[a] {
			unscoped = append(unscoped, a)
		} else {
			scoped = append(scoped, a)
		}
	}
	// Organizations resources of this organization only: accounts, OUs, the root, its policies
	// and AWS-managed policies (FullAWSAccess).
	orgArn := func(kind string) string {
		return fmt.Sprintf("arn:aws:organizations::%s:%s/%s/*", cfg.ManagementAccount, kind, cfg.OrganizationID)
	}
	out := []awsiam.PolicyStatement{
		// DescribeOrganization, ListRoots, ListAccounts and ListPolicies have no resource type:
		// Organizations authorizes them on "*" only.
		allow(unscoped, []string{"*"}),
		allow(scoped, []string{orgArn("account"), orgArn("ou"), orgArn("root"), orgArn("policy"), "arn:aws:organizations::aws:policy/*"}),
		allow([]string{"events:PutEvents"}, []string{*c.FindingsBus.EventBusArn()}),
	}
	reasons := map[string]string{
		"*":                                   "DescribeOrganization, ListRoots (and for the audit ListAccounts, ListPolicies) have no resource type: Organizations authorizes them on * only",
		orgArn("account"):                     "Any account of this organization (events name it at run time); scoped to the organization id",
		orgArn("ou"):                          "Any OU of this organization (the parent chain is walked at run time); scoped to the organization id",
		orgArn("root"):                        "The root of this organization (its id is read at run time); scoped to the organization id",
		orgArn("policy"):                      "Any SCP of this organization (events name it by id at run time); scoped to the organization id",
		"arn:aws:organizations::aws:policy/*": "AWS-managed SCPs such as FullAWSAccess, attached next to the protection SCP and read when checking it",
	}
	if auditsOrganization(f) {
		// The organization's IAM features and the management account's trails
		// (ROOT-CENTRAL-ACCESS-DISABLED, TRAIL-TAMPERED in the audit); read-only.
		trails := fmt.Sprintf("arn:aws:cloudtrail:*:%s:trail/*", cfg.ManagementAccount)
		out = append(out, allow(auditGuardUnscoped, []string{"*"}), allow(auditGuardTrailActions, []string{trails}))
		reasons["*"] += "; for the audit iam:ListOrganizationsFeatures and cloudtrail:DescribeTrails have no resource type either"
		reasons[trails] = "The management account's trails (the organization trail) in any region: their logging status and event selectors, read-only"
	}
	out = append(out, c.stateStatements(f.State)...)
	if f.RootCredentials {
		out = append(out, rootCredentialStatements(cfg, reasons)...)
	}
	// Its response's items (open findings, revert counts) come last.
	return append(out, c.stateStatements(f.Response)...), reasons
}

// rootCredentialStatements: the root credential state of the central account (with the
// function's own role) and of every other account (the audit role, or sts:AssumeRoot); each
// wildcard resource's reason is added to reasons.
func rootCredentialStatements(cfg Config, reasons map[string]string) []awsiam.PolicyStatement {
	out := []awsiam.PolicyStatement{allow([]string{"iam:GetAccountSummary"}, []string{"*"})}
	reasons["*"] += "; iam:GetAccountSummary (the central account's own root credential state) has no resource type either"
	inOrg := map[string]any{"StringEquals": map[string]any{"aws:ResourceOrgID": cfg.OrganizationID}}
	switch cfg.RootCredentialsMode {
	case ModeAuditRole:
		// The audit role has the same name in every account of the organization.
		out = append(out, allowIf([]string{"sts:AssumeRole"}, []string{"arn:aws:iam::*:role/" + cfg.AuditRoleName}, inOrg))
		reasons["arn:aws:iam::*:role/"+cfg.AuditRoleName] = "The read-only audit role, same name in every account of the organization (new accounts included); aws:ResourceOrgID limits it to this organization"
	case ModeAssumeRoot:
		// AssumeRoot targets any member account's root (it works only on members of the
		// organization); the task policy is pinned to the read-only audit task.
		out = append(out, allowIf([]string{"sts:AssumeRoot"}, []string{"arn:aws:iam::*:root"}, map[string]any{
			"StringEquals": map[string]any{"sts:TaskPolicyArn": AuditTaskPolicyArn},
		}))
		reasons["arn:aws:iam::*:root"] = "AssumeRoot on any member account's root (new accounts included), only with the read-only IAMAuditRootUserCredentials task policy (sts:TaskPolicyArn condition)"
		// AssumeRoot cannot target the management account: its audit role (deployed by the
		// management stack in both modes) is the only way to read its root credential state.
		out = append(out, allow([]string{"sts:AssumeRole"}, []string{fmt.Sprintf("arn:aws:iam::%s:role/%s", cfg.ManagementAccount, cfg.AuditRoleName)}))
	}
	return out
}

// stateActions are the DynamoDB calls of each kind of state table access.
var stateActions = map[function.Access][]string{
	function.Read:   {"dynamodb:GetItem"},
	function.Write:  {"dynamodb:GetItem", "dynamodb:PutItem"},
	function.Update: {"dynamodb:GetItem", "dynamodb:UpdateItem"},
}

// stateStatements: one statement per use of the state table (function.Table's State or
// Response), limited to its items (dynamodb:LeadingKeys: a statekey prefix followed by anything,
// or one item id).
func (c *Central) stateStatements(uses []function.State) []awsiam.PolicyStatement {
	var out []awsiam.PolicyStatement
	for _, s := range uses {
		var patterns []string
		for _, k := range s.Keys {
			if slices.Contains(statekey.All, k) {
				k += "*"
			}
			patterns = append(patterns, k)
		}
		out = append(out, allowIf(stateActions[s.Access], []string{*c.DedupTable.TableArn()}, leadingKeys(patterns...)))
	}
	return out
}

// leadingKeys limits DynamoDB item access to the items whose partition key matches pattern.
func leadingKeys(patterns ...string) map[string]any {
	return map[string]any{"ForAllValues:StringLike": map[string]any{"dynamodb:LeadingKeys": patterns}}
}

// notifierStatements: the topics, its state table items (the delivery records), Security Hub.
func (c *Central) notifierStatements(f function.Function, cfg Config) []awsiam.PolicyStatement {
	topics := []string{*c.AlertsTopic.TopicArn()}
	if c.ChatTopic != nil {
		topics = append(topics, *c.ChatTopic.TopicArn())
	}
	out := append([]awsiam.PolicyStatement{allow([]string{"sns:Publish"}, topics)}, c.stateStatements(f.State)...)
	if cfg.SecurityHub {
		// Findings are imported under the central account's default product.
		out = append(out, allow([]string{"securityhub:BatchImportFindings"},
			[]string{fmt.Sprintf("arn:aws:securityhub:%s:%s:product/%s/default", cfg.HomeRegion, cfg.CentralAccount, cfg.CentralAccount)}))
	}
	return out
}
