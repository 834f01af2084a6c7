package infra

import (
	"fmt"
	"maps"
	"path/filepath"
	"strconv"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/rootguard/rootguard/internal/canary"
	"github.com/rootguard/rootguard/internal/route"
	"github.com/rootguard/rootguard/internal/routing"
)

// Retry settings.
const (
	// Asynchronous invocations: Lambda retries a returned error twice, then hands the event with
	// its error to the function's on-failure queue.
	asyncRetryAttempts = 2
	asyncMaxEventAge   = 6 * time.Hour
	// Rule targets: EventBridge retries delivery to Lambda for a day, then to the DLQ.
	targetRetryAttempts = 185
	targetMaxEventAge   = 24 * time.Hour
	// Queues keep failed events for the longest SQS allows.
	queueRetention = 14 * 24 * time.Hour
)

// Central is the central detection stack and the constructs tests and other stacks refer to.
type Central struct {
	Stack       awscdk.Stack
	Key         awskms.Key
	OrgBus      awsevents.EventBus
	FindingsBus awsevents.EventBus
	AlertsTopic awssns.Topic
	// ChatTopic is nil when chat is off.
	ChatTopic  awssns.Topic
	DedupTable awsdynamodb.Table
	Functions  map[string]awslambda.Function
	// FailureQueues are the functions' on-failure destinations; TargetDLQ is the rule targets'.
	FailureQueues map[string]awssqs.Queue
	TargetDLQ     awssqs.Queue
	// ReportBucket holds the audit's daily HTML reports (report.go).
	ReportBucket awss3.Bucket
}

// NewCentralStack builds the central stack in the central account and home region.
func NewCentralStack(scope constructs.Construct, cfg Config) *Central {
	stack := awscdk.NewStack(scope, jsii.String(CentralStackName), &awscdk.StackProps{
		Env:         &awscdk.Environment{Account: jsii.String(cfg.CentralAccount), Region: jsii.String(cfg.HomeRegion)},
		Description: jsii.String("rootguard central detection: organization bus, functions, alerts, key and alarms"),
	})
	c := &Central{Stack: stack, Functions: map[string]awslambda.Function{}, FailureQueues: map[string]awssqs.Queue{}}
	c.Key = newCentralKey(stack, cfg)

	c.OrgBus = awsevents.NewEventBus(stack, jsii.String("OrgBus"), &awsevents.EventBusProps{
		EventBusName: jsii.String(OrgBusName),
		Description:  jsii.String("rootguard: root, Organizations and account events forwarded from every account of the organization"),
	})
	// Any principal of the organization (the forwarding roles) may put events; nobody else.
	c.OrgBus.Node().DefaultChild().(awsevents.CfnEventBus).SetPolicy(map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Sid":       "OrganizationPutEvents",
			"Effect":    "Allow",
			"Principal": "*",
			"Action":    "events:PutEvents",
			"Resource":  fmt.Sprintf("arn:aws:events:%s:%s:event-bus/%s", cfg.HomeRegion, cfg.CentralAccount, OrgBusName),
			"Condition": map[string]any{"StringEquals": map[string]any{"aws:PrincipalOrgID": cfg.OrganizationID}},
		}},
	})
	// No resource policy: only principals of the central account (the evaluators) may put findings.
	c.FindingsBus = awsevents.NewEventBus(stack, jsii.String("FindingsBus"), &awsevents.EventBusProps{
		EventBusName: jsii.String(FindingsBusName),
		Description:  jsii.String("rootguard: findings (source rootguard, detail-type RootGuard Finding)"),
	})

	c.AlertsTopic = newTopic(stack, "AlertsTopic", "rootguard-alerts", "rootguard alerts", c.Key, cfg)
	for _, email := range cfg.AlertEmails {
		c.AlertsTopic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(email), nil))
	}
	if cfg.Chat {
		c.ChatTopic = newTopic(stack, "ChatTopic", "rootguard-chat", "rootguard chat", c.Key, cfg)
	}

	c.DedupTable = awsdynamodb.NewTable(stack, jsii.String("DedupTable"), &awsdynamodb.TableProps{
		PartitionKey:        &awsdynamodb.Attribute{Name: jsii.String("id"), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:         awsdynamodb.BillingMode_PAY_PER_REQUEST,
		Encryption:          awsdynamodb.TableEncryption_CUSTOMER_MANAGED,
		EncryptionKey:       c.Key,
		TimeToLiveAttribute: jsii.String("expiresAt"),
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})

	c.ReportBucket = c.newReportBucket(cfg)

	c.TargetDLQ = newQueue(stack, "TargetDLQ", "rootguard-rule-targets-dlq", c.Key)
	suppressDLQ(c.TargetDLQ, "every rule's Lambda target")
	for _, spec := range FunctionSpecs {
		c.FailureQueues[spec.Name] = newQueue(stack, "FailureQueue-"+spec.Name, "rootguard-"+spec.Name+"-failures", c.Key)
		suppressDLQ(c.FailureQueues[spec.Name], spec.Name+"'s asynchronous invocations")
		c.Functions[spec.Name] = c.newFunction(spec, cfg)
	}

	for _, r := range routing.Table {
		rule := awsevents.NewRule(stack, jsii.String("Route-"+r.Name()), &awsevents.RuleProps{
			EventBus:    c.OrgBus,
			Description: jsii.String("rootguard: events for " + r.Function + " (generated from the routing table)"),
			// Placeholder: the real pattern ($or of the route's patterns) is set below.
			EventPattern: &awsevents.EventPattern{Source: jsii.Strings("rootguard.placeholder")},
		})
		setPattern(rule, CentralPattern(r, cfg.CentralAccount, cfg.ManagementAccount), RouteState(r))
		rule.AddTarget(c.lambdaTarget(r.Function))
	}
	findings := awsevents.NewRule(stack, jsii.String("Route-findings"), &awsevents.RuleProps{
		EventBus:     c.FindingsBus,
		Description:  jsii.String("rootguard: findings to notifier"),
		EventPattern: &awsevents.EventPattern{Source: jsii.Strings("rootguard.placeholder")},
	})
	setPattern(findings, FindingPattern(), StateEnabled)
	findings.AddTarget(c.lambdaTarget(route.Notifier))
	awsevents.NewRule(stack, jsii.String("AuditSchedule"), &awsevents.RuleProps{
		Description: jsii.String("rootguard: scheduled organization audit"),
		Schedule:    awsevents.Schedule_Expression(jsii.String(cfg.AuditSchedule)),
		Targets:     &[]awsevents.IRuleTarget{c.lambdaTarget(route.Audit)},
	})
	awsevents.NewRule(stack, jsii.String("HeartbeatSchedule"), &awsevents.RuleProps{
		Description: jsii.String("rootguard: heartbeat, canary events through the whole pipeline"),
		Schedule:    awsevents.Schedule_Expression(jsii.String(canary.Schedule())),
		Targets:     &[]awsevents.IRuleTarget{c.lambdaTarget(route.Heartbeat)},
	})

	c.addAlarms(cfg)
	c.addRoundTripAlarms(cfg)
	return c
}

// newCentralKey is the one customer-managed key for topics, queues, logs and the table. Its
// policy names every action (no kms:*): key administration and IAM delegation for the account,
// and exactly the services that use the key on rootguard's behalf.
func newCentralKey(stack awscdk.Stack, cfg Config) awskms.Key {
	account, region := cfg.CentralAccount, cfg.HomeRegion
	sourceAccount := map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": account}}
	admin := awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AccountAdministersKeyAndDelegatesToIam"),
		Effect:     awsiam.Effect_ALLOW,
		Principals: &[]awsiam.IPrincipal{awsiam.NewArnPrincipal(jsii.String("arn:aws:iam::" + account + ":root"))},
		Actions: jsii.Strings(
			"kms:CancelKeyDeletion", "kms:CreateAlias", "kms:CreateGrant", "kms:DeleteAlias", "kms:DescribeKey",
			"kms:DisableKey", "kms:DisableKeyRotation", "kms:EnableKey", "kms:EnableKeyRotation", "kms:GetKeyPolicy",
			"kms:GetKeyRotationStatus", "kms:ListAliases", "kms:ListGrants", "kms:ListKeyPolicies", "kms:ListKeyRotations",
			"kms:ListResourceTags", "kms:PutKeyPolicy", "kms:RetireGrant", "kms:RevokeGrant", "kms:RotateKeyOnDemand",
			"kms:ScheduleKeyDeletion", "kms:TagResource", "kms:UntagResource", "kms:UpdateAlias", "kms:UpdateKeyDescription",
			"kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey",
		),
		Resources: jsii.Strings("*"),
	})
	logs := servicePrincipalStatement("CloudWatchLogsEncryptsRootguardLogGroups",
		[]string{"logs." + region + ".amazonaws.com"},
		[]string{"kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey"},
		[]string{"*"},
		map[string]any{"ArnLike": map[string]any{
			"kms:EncryptionContext:aws:logs:arn": fmt.Sprintf("arn:aws:logs:%s:%s:log-group:/aws/lambda/rootguard-*", region, account),
		}})
	sns := servicePrincipalStatement("SnsAndChatUseEncryptedTopics",
		[]string{"sns.amazonaws.com", "chatbot.amazonaws.com"},
		[]string{"kms:Decrypt", "kms:GenerateDataKey"}, []string{"*"}, sourceAccount)
	events := servicePrincipalStatement("EventBridgeWritesEncryptedDeadLetterQueue",
		[]string{"events.amazonaws.com"},
		[]string{"kms:Decrypt", "kms:GenerateDataKey"}, []string{"*"}, sourceAccount)
	alarms := servicePrincipalStatement("CloudWatchAlarmsPublishToEncryptedTopic",
		[]string{"cloudwatch.amazonaws.com"},
		[]string{"kms:Decrypt", "kms:GenerateDataKey"}, []string{"*"}, sourceAccount)
	return awskms.NewKey(stack, jsii.String("Key"), &awskms.KeyProps{
		Alias:             jsii.String(KeyAlias),
		Description:       jsii.String("rootguard: topics, queues, logs and the state table"),
		EnableKeyRotation: jsii.Bool(true),
		Policy:            document(admin, logs, sns, events, alarms),
		RemovalPolicy:     awscdk.RemovalPolicy_DESTROY,
		PendingWindow:     awscdk.Duration_Days(jsii.Number(30)),
	})
}

// newTopic is an encrypted topic that refuses non-TLS access and that CloudWatch alarms of this
// account may publish to.
func newTopic(stack awscdk.Stack, id, name, display string, key awskms.IKey, cfg Config) awssns.Topic {
	t := awssns.NewTopic(stack, jsii.String(id), &awssns.TopicProps{
		TopicName:   jsii.String(name),
		DisplayName: jsii.String(display),
		MasterKey:   key,
		EnforceSSL:  jsii.Bool(true),
	})
	t.AddToResourcePolicy(servicePrincipalStatement("CloudWatchAlarmsPublish",
		[]string{"cloudwatch.amazonaws.com"}, []string{"sns:Publish"}, []string{*t.TopicArn()},
		map[string]any{
			"StringEquals": map[string]any{"aws:SourceAccount": cfg.CentralAccount},
			"ArnLike":      map[string]any{"aws:SourceArn": fmt.Sprintf("arn:aws:cloudwatch:%s:%s:alarm:*", cfg.HomeRegion, cfg.CentralAccount)},
		}))
	return t
}

// newQueue is an encrypted queue that refuses non-TLS access: a dead-letter or on-failure queue.
func newQueue(stack awscdk.Stack, id, name string, key awskms.IKey) awssqs.Queue {
	return awssqs.NewQueue(stack, jsii.String(id), &awssqs.QueueProps{
		QueueName:           jsii.String(name),
		Encryption:          awssqs.QueueEncryption_KMS,
		EncryptionMasterKey: key,
		EnforceSSL:          jsii.Bool(true),
		RetentionPeriod:     awscdk.Duration_Seconds(jsii.Number(queueRetention.Seconds())),
		RemovalPolicy:       awscdk.RemovalPolicy_DESTROY,
	})
}

// lambdaTarget invokes a function from a rule with explicit retries and the shared DLQ.
func (c *Central) lambdaTarget(fn string) awsevents.IRuleTarget {
	return awseventstargets.NewLambdaFunction(c.Functions[fn], &awseventstargets.LambdaFunctionProps{
		DeadLetterQueue: c.TargetDLQ,
		RetryAttempts:   jsii.Number(targetRetryAttempts),
		MaxEventAge:     awscdk.Duration_Seconds(jsii.Number(targetMaxEventAge.Seconds())),
	})
}

// setPattern replaces a rule's pattern (the L2 Rule cannot express "$or") and sets its state (the
// L2 Rule cannot say ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS).
func setPattern(rule awsevents.Rule, pattern map[string]any, state string) {
	// Setting the L1 properties replaces what the L2 renders (a property override would be
	// deep-merged into the placeholder pattern instead).
	cfn := rule.Node().DefaultChild().(awsevents.CfnRule)
	cfn.SetEventPattern(pattern)
	cfn.SetState(jsii.String(state))
}

// newFunction builds one function: its own role, log group, async retry policy and on-failure
// queue.
func (c *Central) newFunction(spec FunctionSpec, cfg Config) awslambda.Function {
	stack := c.Stack
	name := FunctionName(spec.Name)
	logGroup := awslogs.NewLogGroup(stack, jsii.String("Logs-"+spec.Name), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String("/aws/lambda/" + name),
		EncryptionKey: c.Key,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	logGroup.Node().DefaultChild().(awslogs.CfnLogGroup).SetRetentionInDays(jsii.Number(float64(cfg.LogRetentionDays)))

	failures := c.FailureQueues[spec.Name]
	statements := []awsiam.PolicyStatement{
		// The log group ARN ends in :* (its log streams).
		allow([]string{"logs:CreateLogStream", "logs:PutLogEvents"}, []string{*logGroup.LogGroupArn()}),
		allow([]string{"sqs:SendMessage"}, []string{*failures.QueueArn()}),
		// The on-failure queue, the topics and the table are encrypted with the stack's key.
		allow([]string{"kms:GenerateDataKey", "kms:Decrypt"}, []string{*c.Key.KeyArn()}),
	}
	var env map[string]*string
	wildcards := map[string]string{}
	switch {
	case spec.Name == route.Heartbeat:
		// The canaries go on the central organization bus, and nowhere else.
		statements = append(statements, allow([]string{"events:PutEvents"}, []string{*c.OrgBus.EventBusArn()}))
		env = map[string]*string{"ROOTGUARD_EVENT_BUS": c.OrgBus.EventBusName()}
		statements = append(statements, roundTripStatements(cfg)...)
		maps.Copy(env, roundTripEnv(cfg))
	case spec.Detector:
		detector, reasons := c.detectorStatements(spec.Name, cfg)
		statements, wildcards = append(statements, detector...), reasons
		env = map[string]*string{
			"ROOTGUARD_STAX_DOMAINS":          jsii.String(joinList(cfg.StaxDomains)),
			"ROOTGUARD_PROTECTION_SCP":        jsii.String(joinList(cfg.ProtectionSCPNames)),
			"ROOTGUARD_TRUSTED_PRINCIPALS":    jsii.String(joinList(cfg.TrustedPrincipals)),
			"ROOTGUARD_EXCEPTION_MAX_AGE":     jsii.String(cfg.ExceptionMaxAge.String()),
			"ROOTGUARD_EXCEPTION_APPROVERS":   jsii.String(joinList(cfg.ExceptionApprovers)),
			"ROOTGUARD_TRUST_SUSPENSION":      jsii.String(cfg.TrustSuspension.String()),
			"ROOTGUARD_ROOT_CREDENTIALS_MODE": jsii.String(cfg.RootCredentialsMode),
			"ROOTGUARD_AUDIT_ROLE_NAME":       jsii.String(cfg.AuditRoleName),
			"ROOTGUARD_EVENT_BUS":             c.FindingsBus.EventBusName(),
			"ROOTGUARD_CENTRAL_ACCOUNT":       jsii.String(cfg.CentralAccount),
		}
		if UsesPolicyState(spec.Name) || ReadsCustodyState(spec.Name) {
			env["ROOTGUARD_DEDUP_TABLE"] = c.DedupTable.TableName()
		}
		if spec.Name == route.Audit { // resolution of its open findings (revert.go)
			statements = append(statements, auditResponse(c.DedupTable))
		}
		if spec.Name == route.SCPGuard { // revert and resolution (revert.go)
			more, renv := scpGuardResponse(cfg, c.DedupTable)
			statements = append(statements, more...)
			for k, v := range renv {
				env[k] = v
			}
		}
		if RecordsOwnership(spec.Name) {
			env["ROOTGUARD_DEDUP_TABLE"] = c.DedupTable.TableName()
		}
		if spec.Name == route.Audit { // the forwarder audit (FORWARDER-TAMPERED)
			env["ROOTGUARD_FORWARD_REGIONS"] = jsii.String(joinList(cfg.ForwardRegions))
			env["ROOTGUARD_CENTRAL_BUS_ARN"] = jsii.String(cfg.OrgBusArn())
		}
	default:
		statements = append(statements, c.notifierStatements(cfg)...)
		env = map[string]*string{
			"ROOTGUARD_ALERTS_TOPIC_ARN":         c.AlertsTopic.TopicArn(),
			"ROOTGUARD_CHAT_TOPIC_ARN":           jsii.String(""),
			"ROOTGUARD_SECURITYHUB":              jsii.String(strconv.FormatBool(cfg.SecurityHub)),
			"ROOTGUARD_MIN_SEVERITY_EMAIL":       jsii.String(cfg.MinSeverityEmail),
			"ROOTGUARD_MIN_SEVERITY_CHAT":        jsii.String(cfg.MinSeverityChat),
			"ROOTGUARD_MIN_SEVERITY_SECURITYHUB": jsii.String(cfg.MinSeveritySecurityHub),
			"ROOTGUARD_DEDUP_TABLE":              c.DedupTable.TableName(),
		}
		if c.ChatTopic != nil {
			env["ROOTGUARD_CHAT_TOPIC_ARN"] = c.ChatTopic.TopicArn()
		}
	}
	if spec.Name == route.Audit {
		more, vars := c.reportAccess(cfg)
		statements = append(statements, more...)
		for k, v := range vars {
			env[k] = v
		}
	}
	role := awsiam.NewRole(stack, jsii.String("Role-"+spec.Name), &awsiam.RoleProps{
		RoleName:       jsii.String(FunctionRoleName(spec.Name)),
		Description:    jsii.String("rootguard " + spec.Name + " function: only the calls it makes"),
		AssumedBy:      awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		InlinePolicies: &map[string]awsiam.PolicyDocument{"least-privilege": document(statements...)},
	})
	for _, resource := range sortedKeys(wildcards) {
		suppressWildcard(role, resource, wildcards[resource])
	}
	if spec.Name == route.Audit {
		suppressReportObjects(role)
	}
	fn := awslambda.NewFunction(stack, jsii.String("Fn-"+spec.Name), &awslambda.FunctionProps{
		FunctionName: jsii.String(name),
		Description:  jsii.String(spec.Description),
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_ARM_64(),
		Handler:      jsii.String("bootstrap"),
		Code:         awslambda.Code_FromAsset(jsii.String(filepath.Join(cfg.AssetDir, spec.Name)), nil),
		MemorySize:   jsii.Number(float64(spec.MemoryMB)),
		Timeout:      awscdk.Duration_Seconds(jsii.Number(spec.Timeout.Seconds())),
		Role:         role,
		LogGroup:     logGroup,
		Environment:  &env,
	})
	awslambda.NewCfnEventInvokeConfig(stack, jsii.String("AsyncConfig-"+spec.Name), &awslambda.CfnEventInvokeConfigProps{
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

// detectorStatements: Organizations reads, root credential state, findings out; and the reason
// of each wildcard resource they use.
func (c *Central) detectorStatements(fn string, cfg Config) ([]awsiam.PolicyStatement, map[string]string) {
	actions := organizationsReadActions
	if fn == route.Audit {
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
	if fn == route.Audit {
		// The organization's IAM features and the management account's trails
		// (ROOT-CENTRAL-ACCESS-DISABLED, TRAIL-TAMPERED in the audit); read-only.
		trails := fmt.Sprintf("arn:aws:cloudtrail:*:%s:trail/*", cfg.ManagementAccount)
		out = append(out, allow(auditGuardUnscoped, []string{"*"}), allow(auditGuardTrailActions, []string{trails}))
		reasons["*"] += "; for the audit iam:ListOrganizationsFeatures and cloudtrail:DescribeTrails have no resource type either"
		reasons[trails] = "The management account's trails (the organization trail) in any region: their logging status and event selectors, read-only"
	}
	if UsesPolicyState(fn) {
		// The protection SCPs' recorded state (policy#<id>) and the custody state (grant#<resource>,
		// trust#<principal>) items of the state table only.
		out = append(out, allowIf([]string{"dynamodb:GetItem", "dynamodb:PutItem"}, []string{*c.DedupTable.TableArn()},
			leadingKeys(policyStateKeys, grantKeys, trustKeys)))
	}
	if ReadsCustodyState(fn) {
		// root-activity and onboarding read the exception grants and trust suspensions only.
		out = append(out, allowIf([]string{"dynamodb:GetItem"}, []string{*c.DedupTable.TableArn()}, leadingKeys(grantKeys, trustKeys)))
	}
	if RecordsOwnership(fn) {
		// The accounts' recorded ownership (sticky ownership): owner#<account id> items only.
		out = append(out, allowIf([]string{"dynamodb:GetItem", "dynamodb:PutItem"}, []string{*c.DedupTable.TableArn()},
			leadingKeys(ownerKeys)))
	}
	if !ReadsRootCredentials(fn) {
		return out, reasons
	}
	// The central account's own root credential state is read with the function's own role.
	out = append(out, allow([]string{"iam:GetAccountSummary"}, []string{"*"}))
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
	return out, reasons
}

// The state table's item ids, by owner: the notifier's delivery records and the protection SCPs'
// recorded state (the prefixes of internal/statekey.Finding and
// internal/aws/awsorg.PolicyKeyPrefix, which the tests compare).
const (
	deliveryRecordKeys = "finding#*"
	policyStateKeys    = "policy#*"
	// The custody state (internal/aws/dynamostore.GrantKeyPrefix, TrustKeyPrefix).
	grantKeys = "grant#*"
	trustKeys = "trust#*"
)

// ownerKeys are the accounts' recorded ownership items (internal/aws/awsorg.OwnerKeyPrefix).
const ownerKeys = "owner#*"

// RecordsOwnership reports whether a function reads and records the accounts' ownership in the
// state table (the evaluator wiring's RecordsOwnership: root-activity, onboarding and the audit).
func RecordsOwnership(fn string) bool {
	return fn == route.RootActivity || fn == route.Onboarding || fn == route.Audit
}

// UsesPolicyState reports whether a function keeps the protection SCPs' state in the state table.
func UsesPolicyState(fn string) bool { return fn == route.SCPGuard || fn == route.Audit }

// ReadsCustodyState reports whether a function only reads the custody state (grant#, trust#) of
// the state table; scp-guard and the audit read it beside the protection SCPs' state.
func ReadsCustodyState(fn string) bool { return fn == route.RootActivity || fn == route.Onboarding }

// leadingKeys limits DynamoDB item access to the items whose partition key matches pattern.
func leadingKeys(patterns ...string) map[string]any {
	return map[string]any{"ForAllValues:StringLike": map[string]any{"dynamodb:LeadingKeys": patterns}}
}

// notifierStatements: the topics, Security Hub, the delivery records in the state table.
func (c *Central) notifierStatements(cfg Config) []awsiam.PolicyStatement {
	topics := []string{*c.AlertsTopic.TopicArn()}
	if c.ChatTopic != nil {
		topics = append(topics, *c.ChatTopic.TopicArn())
	}
	out := []awsiam.PolicyStatement{
		allow([]string{"sns:Publish"}, topics),
		// Claims and delivery records are conditional updates of finding#... items only.
		allowIf([]string{"dynamodb:GetItem", "dynamodb:UpdateItem"}, []string{*c.DedupTable.TableArn()}, leadingKeys(deliveryRecordKeys)),
	}
	if cfg.SecurityHub {
		// Findings are imported under the central account's default product.
		out = append(out, allow([]string{"securityhub:BatchImportFindings"},
			[]string{fmt.Sprintf("arn:aws:securityhub:%s:%s:product/%s/default", cfg.HomeRegion, cfg.CentralAccount, cfg.CentralAccount)}))
	}
	return out
}

// addAlarms: function errors and throttles, queue depth, audit not run, and the heartbeat (one
// alarm per canary rule, as package canary defines them); all to the alerts topic.
func (c *Central) addAlarms(cfg Config) {
	action := awscloudwatchactions.NewSnsAction(c.AlertsTopic)
	add := func(id, description string, metric awscloudwatch.IMetric, op awscloudwatch.ComparisonOperator, threshold float64, periods int, missing awscloudwatch.TreatMissingData) {
		a := awscloudwatch.NewAlarm(c.Stack, jsii.String(id), &awscloudwatch.AlarmProps{
			AlarmName:          jsii.String("rootguard-" + id),
			AlarmDescription:   jsii.String(description),
			Metric:             metric,
			ComparisonOperator: op,
			Threshold:          jsii.Number(threshold),
			EvaluationPeriods:  jsii.Number(float64(periods)),
			DatapointsToAlarm:  jsii.Number(float64(periods)),
			TreatMissingData:   missing,
		})
		a.AddAlarmAction(action)
	}
	five := &awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Sum")}
	for _, spec := range FunctionSpecs {
		fn := c.Functions[spec.Name]
		add(spec.Name+"-errors", "rootguard "+spec.Name+" returned errors: events are being retried or sent to its on-failure queue",
			fn.MetricErrors(five), awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD, 1, 1, awscloudwatch.TreatMissingData_NOT_BREACHING)
		add(spec.Name+"-throttles", "rootguard "+spec.Name+" was throttled",
			fn.MetricThrottles(five), awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD, 1, 1, awscloudwatch.TreatMissingData_NOT_BREACHING)
	}
	queues := map[string]awssqs.Queue{"rule-targets-dlq": c.TargetDLQ}
	for name, q := range c.FailureQueues {
		queues[name+"-failures"] = q
	}
	for _, name := range sortedKeys(queues) {
		depth := queues[name].MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{
			Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Maximum"),
		})
		add(name+"-depth", "rootguard queue "+name+" holds events that were not processed: inspect and redrive them",
			depth, awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD, 0, 1, awscloudwatch.TreatMissingData_NOT_BREACHING)
	}
	invocations := c.Functions[route.Audit].MetricInvocations(&awscloudwatch.MetricOptions{
		Period: awscdk.Duration_Seconds(jsii.Number(cfg.AuditInterval.Seconds())), Statistic: jsii.String("Sum"),
	})
	add("audit-not-run", fmt.Sprintf("rootguard audit has not run for two scheduled periods (%s, every %s)", cfg.AuditSchedule, cfg.AuditInterval),
		invocations, awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD, 1, 2, awscloudwatch.TreatMissingData_BREACHING)
	// The heartbeat: one alarm per canary rule, on the notifier's count of canary findings.
	for _, a := range canary.Alarms() {
		c.addCanaryAlarm(a, action)
	}
}

// addCanaryAlarm adds one alarm of package canary's definitions (the heartbeat's and the
// CloudTrail round trip's), notifying action.
func (c *Central) addCanaryAlarm(a canary.Alarm, action awscloudwatch.IAlarmAction) {
	dims := map[string]*string{}
	for _, d := range a.Dimensions {
		dims[d.Name] = jsii.String(d.Value)
	}
	m := awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:     jsii.String(a.Namespace),
		MetricName:    jsii.String(a.Metric),
		DimensionsMap: &dims,
		Statistic:     jsii.String(a.Statistic),
		Period:        awscdk.Duration_Seconds(jsii.Number(a.Period.Seconds())),
	})
	awscloudwatch.NewAlarm(c.Stack, jsii.String(a.Name), &awscloudwatch.AlarmProps{
		AlarmName:          jsii.String("rootguard-" + a.Name),
		AlarmDescription:   jsii.String(a.Description),
		Metric:             m,
		ComparisonOperator: comparisonOperators[a.Comparison],
		Threshold:          jsii.Number(a.Threshold),
		EvaluationPeriods:  jsii.Number(float64(a.EvaluationPeriods)),
		DatapointsToAlarm:  jsii.Number(float64(a.DatapointsToAlarm)),
		TreatMissingData:   treatMissingData[a.TreatMissingData],
	}).AddAlarmAction(action)
}

// The CDK spellings of the alarm settings of package canary (CloudFormation's).
var (
	comparisonOperators = map[string]awscloudwatch.ComparisonOperator{
		canary.ComparisonLessThanThreshold: awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD,
	}
	treatMissingData = map[string]awscloudwatch.TreatMissingData{
		canary.TreatMissingDataBreaching:    awscloudwatch.TreatMissingData_BREACHING,
		canary.TreatMissingDataNotBreaching: awscloudwatch.TreatMissingData_NOT_BREACHING,
	}
)
