package infra

import (
	"encoding/json"
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudformation"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsorganizations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/rootguard/rootguard/internal/route"
	"github.com/rootguard/rootguard/internal/routing"
)

// MaxTemplateBody is the largest TemplateBody CloudFormation accepts for a StackSet.
const MaxTemplateBody = 51200

// addForwarders puts, on the account's default bus, one rule per route that sends the route's
// events (never the heartbeat's canaries: see ForwardPattern) to the central bus through a role
// allowed only events:PutEvents on that bus. Delivery failures wait in a dead-letter queue
// (SQS-managed encryption: no key to pay for in every account and region).
func addForwarders(stack awscdk.Stack, cfg Config, routes []route.Route) {
	central := awsevents.EventBus_FromEventBusArn(stack, jsii.String("CentralBus"), jsii.String(cfg.OrgBusArn()))
	role := awsiam.NewRole(stack, jsii.String("ForwardRole"), &awsiam.RoleProps{
		RoleName:    awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String(ForwardRolePrefix), awscdk.Aws_REGION()}),
		Description: jsii.String("rootguard: EventBridge puts forwarded events on the central rootguard bus, nothing else"),
		AssumedBy: awsiam.NewPrincipalWithConditions(awsiam.NewServicePrincipal(jsii.String("events.amazonaws.com"), nil),
			&map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": *stack.Account()}}),
	})
	dlq := awssqs.NewQueue(stack, jsii.String("ForwardDLQ"), &awssqs.QueueProps{
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Seconds(jsii.Number(queueRetention.Seconds())),
		RemovalPolicy:   awscdk.RemovalPolicy_DESTROY,
	})
	suppressDLQ(dlq, "the forwarding rules' central-bus targets")
	for _, r := range routes {
		pattern := ForwardPattern(r)
		if pattern == nil {
			continue
		}
		rule := awsevents.NewRule(stack, jsii.String("Forward-"+r.Name()), &awsevents.RuleProps{
			RuleName:     jsii.String(ForwardRuleName(r.Name())),
			Description:  jsii.String("rootguard: forward the events of " + r.Function + " to the central bus (generated from the routing table)"),
			EventPattern: &awsevents.EventPattern{Source: jsii.Strings("rootguard.placeholder")},
		})
		setPattern(rule, pattern, RouteState(r))
		// The target adds events:PutEvents on the central bus (and only that) to the role.
		rule.AddTarget(awseventstargets.NewEventBus(central, &awseventstargets.EventBusProps{Role: role, DeadLetterQueue: dlq}))
	}
}

// newAuditRole is the read-only role the functions assume to read root credential state. It
// trusts the central account only for the three function roles that need it.
func newAuditRole(stack awscdk.Stack, cfg Config) awsiam.Role {
	var arns []string
	for _, fn := range AuditRoleTrustedFunctions {
		arns = append(arns, cfg.FunctionRoleArn(fn))
	}
	account := *stack.Account()
	nagAccount := account
	if *awscdk.Token_IsUnresolved(stack.Account()) {
		nagAccount = "<AWS::AccountId>"
	}
	role := awsiam.NewRole(stack, jsii.String("AuditRole"), &awsiam.RoleProps{
		RoleName:    jsii.String(cfg.AuditRoleName),
		Description: jsii.String("rootguard: read the root user's credential state (read-only)"),
		AssumedBy: awsiam.NewPrincipalWithConditions(
			awsiam.NewArnPrincipal(jsii.String("arn:aws:iam::"+cfg.CentralAccount+":root")),
			&map[string]any{"ArnEquals": map[string]any{"aws:PrincipalArn": arns}}),
		InlinePolicies: &map[string]awsiam.PolicyDocument{"read-root-credential-state": document(
			// GetAccountSummary has no resource type: IAM authorizes it on "*" only.
			allow([]string{"iam:GetAccountSummary"}, []string{"*"}),
			allow([]string{"iam:GetLoginProfile", "iam:ListMFADevices", "iam:ListAccessKeys", "iam:ListSigningCertificates"},
				[]string{"arn:aws:iam::" + account + ":user/*"}),
			// The forwarder audit (FORWARDER-TAMPERED): rootguard's forwarding rules, in every region.
			allow(ForwarderAuditActions, []string{"arn:aws:events:*:" + account + ":rule/" + ForwardRulePrefix + "*"}),
		)},
	})
	suppressWildcard(role, "*", "iam:GetAccountSummary has no resource type: IAM authorizes it on * only; it is the read-only summary of root MFA, password, keys and certificates")
	suppressWildcard(role, "arn:aws:iam::"+nagAccount+":user/*", "These read calls name the user (or, without a name, the caller); limited to read-only credential listings in this account")
	suppressWildcard(role, "arn:aws:events:*:"+nagAccount+":rule/"+ForwardRulePrefix+"*", "The forwarder audit describes rootguard's own forwarding rules, by name prefix, in every forwarded region of this account; read-only")
	return role
}

// NewManagementStacks builds the management account's forwarders, one stack per forwarded
// region. Every region forwards every route (Organizations and Control Tower events, the
// management account's own root events, AssumeRoot, which is recorded in the region of the STS
// endpoint used). The us-east-1 stack also holds the audit role (the management account is not
// reached by the StackSet, nor by AssumeRoot) and, when configured, the Organizations delegation
// policy that lets the central account read the organization.
func NewManagementStacks(scope constructs.Construct, cfg Config) []awscdk.Stack {
	var stacks []awscdk.Stack
	for _, region := range cfg.ForwardRegions {
		stack := awscdk.NewStack(scope, jsii.String(ManagementStackName(region)), &awscdk.StackProps{
			Env:         &awscdk.Environment{Account: jsii.String(cfg.ManagementAccount), Region: jsii.String(region)},
			Description: jsii.String("rootguard: management-account forwarder (" + region + ")"),
		})
		addForwarders(stack, cfg, routing.Table)
		if region == GlobalRegion {
			newGuardSCP(stack, cfg)
			newAuditRole(stack, cfg)
			if cfg.Revert == RevertOn {
				newRevertRole(stack, cfg)
			}
			newHeartbeatRole(stack, cfg)
			if cfg.OrganizationsDelegation {
				newOrganizationsDelegation(stack, cfg)
			}
		}
		stacks = append(stacks, stack)
	}
	return stacks
}

// newOrganizationsDelegation lets the central account make the Organizations read calls of the
// functions (Organizations answers them only in the management account or a delegated account).
func newOrganizationsDelegation(stack awscdk.Stack, cfg Config) {
	actions := append(append([]string{}, organizationsReadActions...), organizationsAuditActions...)
	awsorganizations.NewCfnResourcePolicy(stack, jsii.String("OrganizationsReadDelegation"), &awsorganizations.CfnResourcePolicyProps{
		Content: map[string]any{
			"Version": "2012-10-17",
			"Statement": []any{map[string]any{
				"Sid":       "RootguardCentralAccountReadsOrganization",
				"Effect":    "Allow",
				"Principal": map[string]any{"AWS": "arn:aws:iam::" + cfg.CentralAccount + ":root"},
				"Action":    actions,
				// A delegation policy is attached to the organization itself.
				"Resource": "*",
			}},
		},
	})
}

// NewMemberForwarderStack builds the member-account forwarder: environment-agnostic, without
// bootstrap resources, for the StackSet. It forwards the routes whose events happen in member
// accounts (root events, LeaveOrganization, AcceptHandshake, and Organizations or AssumeRoot calls
// of a delegated administrator); in audit-role mode it holds the audit role, created once per
// account in us-east-1 (IAM is global).
func NewMemberForwarderStack(scope constructs.Construct, cfg Config) awscdk.Stack {
	stack := awscdk.NewStack(scope, jsii.String(MemberForwarderStackName), &awscdk.StackProps{
		Synthesizer:        awscdk.NewBootstraplessSynthesizer(&awscdk.BootstraplessSynthesizerProps{}),
		AnalyticsReporting: jsii.Bool(false),
		Description:        jsii.String("rootguard: member-account forwarder (deployed by the " + StackSetName + " StackSet)"),
	})
	addForwarders(stack, cfg, ForwardedRoutes())
	if cfg.RootCredentialsMode == ModeAuditRole {
		global := awscdk.NewCfnCondition(stack, jsii.String("IsGlobalRegion"), &awscdk.CfnConditionProps{
			Expression: awscdk.Fn_ConditionEquals(awscdk.Aws_REGION(), jsii.String(GlobalRegion)),
		})
		role := newAuditRole(stack, cfg)
		role.Node().DefaultChild().(awsiam.CfnRole).CfnOptions().SetCondition(global)
	}
	return stack
}

// MemberTemplate synthesizes the member forwarder alone (in its own stage, with the aspects
// given) and returns its template as JSON.
func MemberTemplate(scope constructs.Construct, cfg Config, aspects ...awscdk.IAspect) (awscdk.Stack, string, error) {
	stage := awscdk.NewStage(scope, jsii.String(MemberStageName), nil)
	for _, a := range aspects {
		awscdk.Aspects_Of(stage).Add(a, nil)
	}
	stack := NewMemberForwarderStack(stage, cfg)
	artifact := stage.Synth(nil).GetStackByName(stack.StackName())
	// The CLI does not report a nested stage's annotations: fail here instead.
	if err := stackFindings(artifact); err != nil {
		return nil, "", fmt.Errorf("member forwarder: %w", err)
	}
	body, err := json.Marshal(artifact.Template())
	if err != nil {
		return nil, "", fmt.Errorf("encode the member forwarder template: %w", err)
	}
	if len(body) > MaxTemplateBody {
		return nil, "", fmt.Errorf("member forwarder template is %d bytes, over the %d a StackSet TemplateBody takes", len(body), MaxTemplateBody)
	}
	return stack, string(body), nil
}

// NewMemberStackSetStack builds, in the management account, the service-managed StackSet that
// deploys the member forwarder to every account of the organization (new ones included) in
// us-east-1 and the forwarded regions.
func NewMemberStackSetStack(scope constructs.Construct, cfg Config, templateBody string) awscdk.Stack {
	stack := awscdk.NewStack(scope, jsii.String(MemberStackSetStackName), &awscdk.StackProps{
		Env:         &awscdk.Environment{Account: jsii.String(cfg.ManagementAccount), Region: jsii.String(GlobalRegion)},
		Description: jsii.String("rootguard: StackSet of the member-account forwarder"),
	})
	// The forwarding role is named (rootguard-forward-<region>) so the guard SCP can name it.
	capabilities := []string{"CAPABILITY_NAMED_IAM"}
	awscloudformation.NewCfnStackSet(stack, jsii.String("MemberForwarder"), &awscloudformation.CfnStackSetProps{
		StackSetName:    jsii.String(StackSetName),
		Description:     jsii.String("rootguard: forwards root and account events of every member account to the central bus"),
		PermissionModel: jsii.String("SERVICE_MANAGED"),
		CallAs:          jsii.String("SELF"),
		AutoDeployment: &awscloudformation.CfnStackSet_AutoDeploymentProperty{
			Enabled:                      jsii.Bool(true),
			RetainStacksOnAccountRemoval: jsii.Bool(false),
		},
		ManagedExecution:     map[string]any{"Active": true},
		Capabilities:         jsii.Strings(capabilities...),
		OperationPreferences: stackSetPreferences(),
		StackInstancesGroup: []any{&awscloudformation.CfnStackSet_StackInstancesProperty{
			DeploymentTargets: &awscloudformation.CfnStackSet_DeploymentTargetsProperty{
				OrganizationalUnitIds: jsii.Strings(cfg.OrganizationRootID),
			},
			Regions: jsii.Strings(cfg.ForwardRegions...),
		}},
		TemplateBody: jsii.String(templateBody),
	})
	return stack
}
