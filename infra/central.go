package infra

import (
	"fmt"
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
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/rootguard/rootguard/internal/canary"
	"github.com/rootguard/rootguard/internal/function"
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
	for _, f := range function.Table {
		c.FailureQueues[f.Name] = newQueue(stack, "FailureQueue-"+f.Name, "rootguard-"+f.Name+"-failures", c.Key)
		suppressDLQ(c.FailureQueues[f.Name], f.Name+"'s asynchronous invocations")
		c.Functions[f.Name] = c.newFunction(f, cfg)
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
	findings.AddTarget(c.lambdaTarget(function.Notifier))
	for _, f := range function.Table {
		if s, ok := c.schedules(cfg)[f.Schedule]; ok {
			awsevents.NewRule(stack, jsii.String(s.id), &awsevents.RuleProps{
				Description: jsii.String(s.description),
				Schedule:    awsevents.Schedule_Expression(jsii.String(s.expression)),
				Targets:     &[]awsevents.IRuleTarget{c.lambdaTarget(f.Name)},
			})
		}
	}

	c.addAlarms(cfg)
	c.addRoundTripAlarms(cfg)
	return c
}

// schedule is the rule that invokes a scheduled function.
type schedule struct{ id, description, expression string }

// schedules are the rules of function.Table's schedules.
func (c *Central) schedules(cfg Config) map[function.Schedule]schedule {
	return map[function.Schedule]schedule{
		function.AuditSchedule:  {"AuditSchedule", "rootguard: scheduled organization audit", cfg.AuditSchedule},
		function.CanarySchedule: {"HeartbeatSchedule", "rootguard: heartbeat, canary events through the whole pipeline", canary.Schedule()},
	}
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
	for _, f := range function.Table {
		fn := c.Functions[f.Name]
		add(f.Name+"-errors", "rootguard "+f.Name+" returned errors: events are being retried or sent to its on-failure queue",
			fn.MetricErrors(five), awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD, 1, 1, awscloudwatch.TreatMissingData_NOT_BREACHING)
		add(f.Name+"-throttles", "rootguard "+f.Name+" was throttled",
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
	invocations := c.Functions[function.Audit].MetricInvocations(&awscloudwatch.MetricOptions{
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
