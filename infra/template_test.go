package infra

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rootguard/rootguard/internal/aws/awsorg"
	"github.com/rootguard/rootguard/internal/aws/dynamostore"
	"github.com/rootguard/rootguard/internal/canary"
	"github.com/rootguard/rootguard/internal/function"
	"github.com/rootguard/rootguard/internal/route"
	"github.com/rootguard/rootguard/internal/routing"
	"github.com/rootguard/rootguard/internal/rule"
	"github.com/rootguard/rootguard/internal/statekey"
)

// functionIDs maps each function to its logical id (by its deployed name).
func functionIDs(t *testing.T, tpl map[string]any) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, fn := range function.Names() {
		out[fn] = one(t, tpl, "AWS::Lambda::Function", "FunctionName", FunctionName(fn)).ID
	}
	return out
}

func keyID(t *testing.T, tpl map[string]any) string {
	t.Helper()
	keys := resourcesOf(tpl, "AWS::KMS::Key")
	if len(keys) != 1 {
		t.Fatalf("%d KMS keys, want exactly one", len(keys))
	}
	return keys[0].ID
}

func TestCentralFunctions(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			s := synth(t, v)
			tpl := s.central()
			key := keyID(t, tpl)
			fns := functionIDs(t, tpl)
			if n := len(resourcesOf(tpl, "AWS::Lambda::Function")); n != len(function.Names()) {
				t.Errorf("%d functions, want %d", n, len(function.Names()))
			}
			for _, spec := range function.Table {
				t.Run(spec.Name, func(t *testing.T) {
					fn := resourceByID(t, tpl, fns[spec.Name])
					p := fn.Props
					if p["Runtime"] != "provided.al2023" || p["Handler"] != "bootstrap" || !slices.Equal(strs(p["Architectures"]), []string{"arm64"}) {
						t.Errorf("runtime %v handler %v architectures %v, want provided.al2023, bootstrap, [arm64]", p["Runtime"], p["Handler"], p["Architectures"])
					}
					if p["MemorySize"] != float64(spec.MemoryMB) || p["Timeout"] != spec.Timeout.Seconds() {
						t.Errorf("memory %v timeout %v, want explicit %d MB and %v", p["MemorySize"], p["Timeout"], spec.MemoryMB, spec.Timeout)
					}
					// Its own encrypted log group, with the configured retention.
					lg := resourceByID(t, tpl, ref(get(p, "LoggingConfig", "LogGroup")))
					if lg.Props["LogGroupName"] != "/aws/lambda/"+FunctionName(spec.Name) || lg.Props["RetentionInDays"] != float64(s.cfg.LogRetentionDays) || ref(lg.Props["KmsKeyId"]) != key {
						t.Errorf("log group %v: want /aws/lambda/%s, %d days, KMS key %s", lg.Props, FunctionName(spec.Name), s.cfg.LogRetentionDays, key)
					}
					role := resourceByID(t, tpl, ref(p["Role"]))
					if role.Props["RoleName"] != FunctionRoleName(spec.Name) || role.Props["ManagedPolicyArns"] != nil {
						t.Errorf("role %v: want its own role %s without managed policies", role.Props["RoleName"], FunctionRoleName(spec.Name))
					}
					// Async retries and the on-failure queue, encrypted with the key.
					inv := one(t, tpl, "AWS::Lambda::EventInvokeConfig", "FunctionName", map[string]any{"Ref": fns[spec.Name]})
					if inv.Props["MaximumRetryAttempts"] != float64(asyncRetryAttempts) || inv.Props["MaximumEventAgeInSeconds"] != asyncMaxEventAge.Seconds() {
						t.Errorf("async invoke config %v", inv.Props)
					}
					q := resourceByID(t, tpl, ref(get(inv.Props, "DestinationConfig", "OnFailure", "Destination")))
					if q.Type != "AWS::SQS::Queue" || ref(q.Props["KmsMasterKeyId"]) != key || q.Props["QueueName"] != "rootguard-"+spec.Name+"-failures" {
						t.Errorf("on-failure destination %s %v: want the function's queue encrypted with the key", q.Type, q.Props)
					}
					if got := grants(tpl, role.ID)["sqs:SendMessage"]; !slices.Equal(got, []string{"${" + q.ID + ".Arn}"}) {
						t.Errorf("sqs:SendMessage on %v, want only its own on-failure queue", got)
					}
					if got := grants(tpl, role.ID)["logs:PutLogEvents"]; !slices.Equal(got, []string{"${" + lg.ID + ".Arn}"}) {
						t.Errorf("logs:PutLogEvents on %v, want only its own log group", got)
					}
				})
			}
		})
	}
}

func TestCentralEnvironment(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			s := synth(t, v)
			tpl := s.central()
			fns := functionIDs(t, tpl)
			findingsBus := one(t, tpl, "AWS::Events::EventBus", "Name", FindingsBusName).ID
			orgBus := one(t, tpl, "AWS::Events::EventBus", "Name", OrgBusName).ID
			alerts := one(t, tpl, "AWS::SNS::Topic", "TopicName", "rootguard-alerts").ID
			table := resourcesOf(tpl, "AWS::DynamoDB::Table")[0].ID
			chat := ""
			if s.cfg.Chat {
				chat = "${" + one(t, tpl, "AWS::SNS::Topic", "TopicName", "rootguard-chat").ID + "}"
			}
			detector := map[string]string{
				"ROOTGUARD_STAX_DOMAINS":          strings.Join(s.cfg.StaxDomains, ","),
				"ROOTGUARD_PROTECTION_SCP":        strings.Join(s.cfg.ProtectionSCPNames, ","),
				"ROOTGUARD_TRUSTED_PRINCIPALS":    strings.Join(s.cfg.TrustedPrincipals, ","),
				"ROOTGUARD_EXCEPTION_MAX_AGE":     s.cfg.ExceptionMaxAge.String(),
				"ROOTGUARD_EXCEPTION_APPROVERS":   strings.Join(s.cfg.ExceptionApprovers, ","),
				"ROOTGUARD_TRUST_SUSPENSION":      s.cfg.TrustSuspension.String(),
				"ROOTGUARD_ROOT_CREDENTIALS_MODE": s.cfg.RootCredentialsMode,
				"ROOTGUARD_AUDIT_ROLE_NAME":       s.cfg.AuditRoleName,
				"ROOTGUARD_EVENT_BUS":             "${" + findingsBus + "}",
				"ROOTGUARD_CENTRAL_ACCOUNT":       s.cfg.CentralAccount,
			}
			notifier := map[string]string{
				"ROOTGUARD_ALERTS_TOPIC_ARN":         "${" + alerts + "}",
				"ROOTGUARD_CHAT_TOPIC_ARN":           chat,
				"ROOTGUARD_SECURITYHUB":              fmt.Sprint(s.cfg.SecurityHub),
				"ROOTGUARD_MIN_SEVERITY_EMAIL":       s.cfg.MinSeverityEmail,
				"ROOTGUARD_MIN_SEVERITY_CHAT":        s.cfg.MinSeverityChat,
				"ROOTGUARD_MIN_SEVERITY_SECURITYHUB": s.cfg.MinSeveritySecurityHub,
				"ROOTGUARD_DEDUP_TABLE":              "${" + table + "}",
			}
			// The heartbeat puts its canaries on the organization bus, and writes the round-trip
			// parameter in the forwarded regions as the management account's heartbeat role.
			heartbeat := map[string]string{"ROOTGUARD_EVENT_BUS": "${" + orgBus + "}",
				"ROOTGUARD_HEARTBEAT_REGIONS":  strings.Join(s.cfg.ForwardRegions, ","),
				"ROOTGUARD_HEARTBEAT_ROLE_ARN": canary.RoundTripRoleARN(s.cfg.ManagementAccount)}
			// scp-guard and the audit keep the protection SCPs' state in the state table.
			policyState := maps.Clone(detector)
			policyState["ROOTGUARD_DEDUP_TABLE"] = "${" + table + "}"
			// The audit also writes the daily report and emails its summary.
			audit := maps.Clone(policyState)
			maps.Copy(audit, reportEnvironment(t, s.cfg, tpl))
			for _, fn := range function.Names() {
				want := detector
				switch fn {
				case function.Notifier:
					want = notifier
				case function.Heartbeat:
					want = heartbeat
				case function.SCPGuard, function.RootActivity, function.Onboarding: // every evaluator reads the custody state, and root-activity and onboarding record ownership there
					want = policyState
				case function.Audit:
					want = maps.Clone(audit)
					want["ROOTGUARD_FORWARD_REGIONS"] = strings.Join(s.cfg.ForwardRegions, ",")
					want["ROOTGUARD_CENTRAL_BUS_ARN"] = s.cfg.OrgBusArn()
				}
				got := map[string]string{}
				vars, _ := get(resourceByID(t, tpl, fns[fn]).Props, "Environment", "Variables").(map[string]any)
				for k, val := range vars {
					got[k] = render(val)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s environment (-want +got):\n%s", fn, diff)
				}
			}
		})
	}
}

func TestCentralRules(t *testing.T) {
	s := synth(t, auditRole)
	tpl := s.central()
	fns := functionIDs(t, tpl)
	orgBus := one(t, tpl, "AWS::Events::EventBus", "Name", OrgBusName).ID
	findingsBus := one(t, tpl, "AWS::Events::EventBus", "Name", FindingsBusName).ID
	dlq := one(t, tpl, "AWS::SQS::Queue", "QueueName", "rootguard-rule-targets-dlq")
	if ref(dlq.Props["KmsMasterKeyId"]) != keyID(t, tpl) {
		t.Errorf("rule target DLQ not encrypted with the key: %v", dlq.Props)
	}
	type want struct {
		bus, state string
		pattern    map[string]any
		schedule   string
	}
	wants := map[string]want{
		function.Notifier: {bus: findingsBus, state: StateEnabled, pattern: map[string]any{
			"source": []any{"rootguard"}, "detail-type": []any{"RootGuard Finding"},
		}},
		function.Audit:     {state: StateEnabled, schedule: s.cfg.AuditSchedule},
		function.Heartbeat: {state: StateEnabled, schedule: canary.Schedule()},
	}
	for _, r := range routing.Table {
		var p map[string]any
		b, _ := json.Marshal(CentralPattern(r, s.cfg.CentralAccount, s.cfg.ManagementAccount))
		_ = json.Unmarshal(b, &p)
		wants[routeKey(r.Name(), true)] = want{bus: orgBus, state: RouteState(r), pattern: p}
	}
	rules := resourcesOf(tpl, "AWS::Events::Rule")
	if len(rules) != len(wants) {
		t.Errorf("%d rules, want one per route and scheduled function (%d)", len(rules), len(wants))
	}
	for _, rule := range rules {
		targets, _ := rule.Props["Targets"].([]any)
		if len(targets) != 1 {
			t.Errorf("rule %s has %d targets, want 1", rule.ID, len(targets))
			continue
		}
		target := targets[0]
		fn := ""
		for name, id := range fns {
			if ref(get(target, "Arn")) == id {
				fn = name
			}
		}
		orgBusRoute := rule.Props["EventPattern"] != nil && ref(rule.Props["EventBusName"]) == orgBus
		if orgBusRoute {
			fn = routeOfRule(rule.ID, fn)
		}
		fn = routeKey(fn, orgBusRoute)
		w, ok := wants[fn]
		if !ok {
			t.Errorf("rule %s targets %v, not a function with a rule", rule.ID, get(target, "Arn"))
			continue
		}
		delete(wants, fn)
		t.Run(fn, func(t *testing.T) {
			if ref(rule.Props["EventBusName"]) != w.bus || rule.Props["State"] != w.state {
				t.Errorf("bus %v state %v, want bus %q state %s", rule.Props["EventBusName"], rule.Props["State"], w.bus, w.state)
			}
			if w.pattern != nil {
				if diff := cmp.Diff(w.pattern, rule.Props["EventPattern"]); diff != "" {
					t.Errorf("pattern (-want +got):\n%s", diff)
				}
			}
			if rule.Props["ScheduleExpression"] != nil || w.schedule != "" {
				if rule.Props["ScheduleExpression"] != w.schedule {
					t.Errorf("schedule %v, want %q", rule.Props["ScheduleExpression"], w.schedule)
				}
			}
			if ref(get(target, "DeadLetterConfig", "Arn")) != dlq.ID {
				t.Errorf("target dead-letter queue %v, want %s", get(target, "DeadLetterConfig"), dlq.ID)
			}
			if get(target, "RetryPolicy", "MaximumRetryAttempts") != float64(targetRetryAttempts) ||
				get(target, "RetryPolicy", "MaximumEventAgeInSeconds") != targetMaxEventAge.Seconds() {
				t.Errorf("target retry policy %v", get(target, "RetryPolicy"))
			}
		})
	}
	if len(wants) > 0 {
		t.Errorf("functions without a rule: %v", wants)
	}
	// Sign-in arrives under both detail-type spellings (aws-facts G1).
	var signin []string
	for _, rule := range rules {
		b, _ := json.Marshal(rule.Props["EventPattern"])
		if strings.Contains(string(b), "aws.signin") {
			signin = append(signin, string(b))
		}
	}
	if len(signin) != 1 || !strings.Contains(signin[0], `"AWS Console Sign In via CloudTrail"`) || !strings.Contains(signin[0], `"AWS Console Signin via CloudTrail"`) {
		t.Errorf("sign-in pattern must list both detail-type spellings: %v", signin)
	}
}

func TestCentralBusesTopicsKeyTable(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			s := synth(t, v)
			tpl := s.central()
			key := resourceByID(t, tpl, keyID(t, tpl))

			orgBus := one(t, tpl, "AWS::Events::EventBus", "Name", OrgBusName)
			st := statements(orgBus.Props["Policy"])
			if len(st) != 1 || st[0]["Principal"] != "*" || st[0]["Action"] != "events:PutEvents" ||
				get(st[0], "Condition", "StringEquals", "aws:PrincipalOrgID") != s.cfg.OrganizationID {
				t.Errorf("org bus policy %v: want only events:PutEvents for principals of %s", orgBus.Props["Policy"], s.cfg.OrganizationID)
			}
			if p := one(t, tpl, "AWS::Events::EventBus", "Name", FindingsBusName).Props["Policy"]; p != nil {
				t.Errorf("findings bus has a resource policy %v: only the central account may put findings", p)
			}

			topics := map[string]bool{"rootguard-alerts": true, "rootguard-chat": s.cfg.Chat}
			for name, present := range topics {
				var found []resource
				for _, r := range resourcesOf(tpl, "AWS::SNS::Topic") {
					if r.Props["TopicName"] == name {
						found = append(found, r)
					}
				}
				if len(found) != map[bool]int{true: 1, false: 0}[present] {
					t.Errorf("topic %s: %d, want present=%v", name, len(found), present)
					continue
				}
				if !present {
					continue
				}
				topic := found[0]
				if ref(topic.Props["KmsMasterKeyId"]) != key.ID {
					t.Errorf("topic %s not encrypted with the key", name)
				}
				denies := 0
				for _, pol := range resourcesOf(tpl, "AWS::SNS::TopicPolicy") {
					if ref(get(pol.Props, "Topics", 0)) != topic.ID {
						continue
					}
					for _, st := range statements(pol.Props["PolicyDocument"]) {
						if st["Effect"] == "Deny" && get(st, "Condition", "Bool", "aws:SecureTransport") == "false" {
							denies++
						}
					}
				}
				if denies != 1 {
					t.Errorf("topic %s: %d non-TLS deny statements, want 1", name, denies)
				}
			}
			var emails []string
			for _, sub := range resourcesOf(tpl, "AWS::SNS::Subscription") {
				if sub.Props["Protocol"] == "email" && ref(sub.Props["TopicArn"]) == one(t, tpl, "AWS::SNS::Topic", "TopicName", "rootguard-alerts").ID {
					emails = append(emails, render(sub.Props["Endpoint"]))
				}
			}
			if !sameSet(emails, s.cfg.AlertEmails) {
				t.Errorf("alert email subscriptions %v, want %v", emails, s.cfg.AlertEmails)
			}

			if key.Props["EnableKeyRotation"] != true {
				t.Error("key rotation is off")
			}
			services := map[string]bool{}
			for _, st := range statements(key.Props["KeyPolicy"]) {
				for _, svc := range strs(get(st, "Principal", "Service")) {
					services[svc] = true
					if strings.HasPrefix(svc, "logs.") && get(st, "Condition", "ArnLike", "kms:EncryptionContext:aws:logs:arn") == nil {
						t.Errorf("CloudWatch Logs may use the key without an encryption context condition: %v", st)
					}
				}
			}
			wantServices := []string{"logs." + s.cfg.HomeRegion + ".amazonaws.com", "sns.amazonaws.com", "chatbot.amazonaws.com", "events.amazonaws.com", "cloudwatch.amazonaws.com"}
			if !sameSet(sortedKeys(services), wantServices) {
				t.Errorf("key policy grants services %v, want exactly %v", sortedKeys(services), wantServices)
			}
			queues := resourcesOf(tpl, "AWS::SQS::Queue")
			for _, q := range queues {
				if ref(q.Props["KmsMasterKeyId"]) != key.ID {
					t.Errorf("queue %s not encrypted with the key", q.ID)
				}
			}

			tables := resourcesOf(tpl, "AWS::DynamoDB::Table")
			if len(tables) != 1 {
				t.Fatalf("%d tables, want the state table", len(tables))
			}
			tp := tables[0].Props
			if !slices.Equal(strs(get(tp, "KeySchema", 0, "AttributeName")), []string{"id"}) || get(tp, "KeySchema", 0, "KeyType") != "HASH" ||
				get(tp, "AttributeDefinitions", 0, "AttributeType") != "S" || len(tp["KeySchema"].([]any)) != 1 {
				t.Errorf("table key %v %v: want partition key id (string) only", tp["KeySchema"], tp["AttributeDefinitions"])
			}
			if get(tp, "TimeToLiveSpecification", "AttributeName") != "expiresAt" || get(tp, "TimeToLiveSpecification", "Enabled") != true {
				t.Errorf("table TTL %v", tp["TimeToLiveSpecification"])
			}
			if get(tp, "PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled") != true {
				t.Error("table point-in-time recovery is off")
			}
			if get(tp, "SSESpecification", "SSEType") != "KMS" || ref(get(tp, "SSESpecification", "KMSMasterKeyId")) != key.ID {
				t.Errorf("table encryption %v: want the stack's key", tp["SSESpecification"])
			}
			// Each function reaches only its own items of the state table: the notifier its
			// delivery records, scp-guard and the audit the protection SCPs' and the custody state,
			// root-activity and onboarding read the custody state only.
			tableArn := "${" + tables[0].ID + ".Arn}"
			stateKeys := awsorg.PolicyKeyPrefix + "* " + dynamostore.GrantKeyPrefix + "* " + dynamostore.TrustKeyPrefix + "*"
			wantDynamo := map[string]string{
				function.Notifier: "dynamodb:GetItem,dynamodb:UpdateItem on " + tableArn + " if ForAllValues:StringLike dynamodb:LeadingKeys [" + statekey.Finding + "*]",
				function.SCPGuard: "dynamodb:GetItem,dynamodb:PutItem on " + tableArn + " if ForAllValues:StringLike dynamodb:LeadingKeys [" + stateKeys + "]",
				function.Audit:    "dynamodb:GetItem,dynamodb:PutItem on " + tableArn + " if ForAllValues:StringLike dynamodb:LeadingKeys [" + stateKeys + "]",
			}
			// The accounts' recorded ownership: owner#<account id> items, for the functions that
			// evaluate root events or first see an account.
			ownerGrant := "dynamodb:GetItem,dynamodb:PutItem on " + tableArn + " if ForAllValues:StringLike dynamodb:LeadingKeys [" + awsorg.OwnerKeyPrefix + "*]"
			custodyKeys := dynamostore.GrantKeyPrefix + "* " + dynamostore.TrustKeyPrefix + "*"
			wantDynamo[function.RootActivity] = "dynamodb:GetItem on " + tableArn + " if ForAllValues:StringLike dynamodb:LeadingKeys [" + custodyKeys + "]"
			wantDynamo[function.Onboarding] = wantDynamo[function.RootActivity]
			for _, fn := range function.Names() {
				role := one(t, tpl, "AWS::IAM::Role", "RoleName", FunctionRoleName(fn)).ID
				var got []string
				for _, st := range roleStatements(tpl, role) {
					var actions []string
					for _, a := range strs(st["Action"]) {
						if strings.HasPrefix(a, "dynamodb:") {
							actions = append(actions, a)
						}
					}
					if len(actions) == 0 {
						continue
					}
					if st["Effect"] != "Allow" || len(actions) != len(strs(st["Action"])) {
						t.Errorf("%s: DynamoDB statement %v mixes in other actions or is not an Allow", fn, st)
					}
					cond := get(st, "Condition", "ForAllValues:StringLike", "dynamodb:LeadingKeys")
					sort.Strings(actions)
					got = append(got, fmt.Sprintf("%s on %s if ForAllValues:StringLike dynamodb:LeadingKeys %v",
						strings.Join(actions, ","), strings.Join(strs(st["Resource"]), ","), strs(cond)))
					if n := len(st["Condition"].(map[string]any)); n != 1 {
						t.Errorf("%s: DynamoDB statement has %d condition operators, want only the leading keys", fn, n)
					}
				}
				var want []string
				if w := wantDynamo[fn]; w != "" {
					want = []string{w}
				}
				if f, _ := function.Lookup(fn); f.Writes(statekey.Owner) {
					want = append(want, ownerGrant)
				}
				if fn == function.Audit { // its open findings (revert.go)
					want = append(want, "dynamodb:GetItem,dynamodb:PutItem on "+tableArn+" if ForAllValues:StringLike dynamodb:LeadingKeys ["+
						rule.OpenKeyPrefix+rule.AuditOpenKey+"]")
				}
				if fn == function.SCPGuard { // its response: open findings and revert counts (revert.go)
					want = append(want, "dynamodb:GetItem,dynamodb:PutItem on "+tableArn+" if ForAllValues:StringLike dynamodb:LeadingKeys ["+
						rule.OpenKeyPrefix+"* "+dynamostore.RevertKeyPrefix+"*]")
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s's DynamoDB grants (-want +got):\n%s", fn, diff)
				}
			}
		})
	}
}

func TestCentralAlarms(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			s := synth(t, v)
			tpl := s.central()
			fns := functionIDs(t, tpl)
			alerts := one(t, tpl, "AWS::SNS::Topic", "TopicName", "rootguard-alerts").ID
			type key struct{ metric, target string }
			alarms := map[key]map[string]any{}
			heartbeats := 0
			for _, a := range resourcesOf(tpl, "AWS::CloudWatch::Alarm") {
				if actions, _ := a.Props["AlarmActions"].([]any); len(actions) != 1 || ref(actions[0]) != alerts {
					t.Errorf("alarm %v notifies %v, want the alerts topic", a.Props["AlarmName"], a.Props["AlarmActions"])
				}
				if a.Props["Namespace"] == canary.MetricNamespace { // checked by TestHeartbeatAlarms
					heartbeats++
					continue
				}
				dim := ref(get(a.Props, "Dimensions", 0, "Value"))
				if dim == "" {
					dim = render(get(a.Props, "Dimensions", 0, "Value"))
				}
				alarms[key{render(a.Props["MetricName"]), dim}] = a.Props
			}
			for _, fn := range function.Names() {
				for _, metric := range []string{"Errors", "Throttles"} {
					a, ok := alarms[key{metric, fns[fn]}]
					if !ok || a["Namespace"] != "AWS/Lambda" || a["Threshold"] != float64(1) || a["ComparisonOperator"] != "GreaterThanOrEqualToThreshold" {
						t.Errorf("%s %s alarm: %v", fn, metric, a)
					}
				}
			}
			queues := resourcesOf(tpl, "AWS::SQS::Queue")
			if len(queues) != len(function.Names())+1 {
				t.Errorf("%d queues, want one on-failure queue per function and the rule targets' DLQ", len(queues))
			}
			for _, q := range queues {
				a, ok := alarms[key{"ApproximateNumberOfMessagesVisible", q.ID}]
				if !ok || a["Threshold"] != float64(0) || a["ComparisonOperator"] != "GreaterThanThreshold" {
					t.Errorf("queue %s depth alarm: %v", q.ID, a)
				}
			}
			a := alarms[key{"Invocations", fns[function.Audit]}]
			want := map[string]any{
				"Statistic": "Sum", "Threshold": float64(1), "ComparisonOperator": "LessThanThreshold",
				"EvaluationPeriods": float64(2), "DatapointsToAlarm": float64(2),
				"Period": s.cfg.AuditInterval.Seconds(), "TreatMissingData": "breaching",
			}
			for k, val := range want {
				if a[k] != val {
					t.Errorf("audit-not-run alarm %s = %v, want %v", k, a[k], val)
				}
			}
			if n := len(alarms); n != 2*len(function.Names())+len(queues)+1 {
				t.Errorf("%d alarms, want errors and throttles per function, one per queue, and audit-not-run", n)
			}
			// The canary alarms and the CloudTrail round-trip alarms (TestRoundTripAlarms), one per
			// forwarded region, share the namespace.
			if heartbeats != len(canary.Alarms())+len(s.cfg.ForwardRegions) {
				t.Errorf("%d heartbeat alarms, want %d", heartbeats, len(canary.Alarms())+len(s.cfg.ForwardRegions))
			}
		})
	}
}

// TestCentralGrants checks what each mode grants for root credentials and Security Hub.
func TestCentralGrants(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			s := synth(t, v)
			tpl := s.central()
			for _, fn := range function.Names() {
				g := grants(tpl, one(t, tpl, "AWS::IAM::Role", "RoleName", FunctionRoleName(fn)).ID)
				var sts []string
				for a, r := range g {
					if strings.HasPrefix(a, "sts:") {
						sts = append(sts, a+" "+strings.Join(r, ","))
					}
				}
				slices.Sort(sts)
				var want []string
				if ReadsRootCredentials(fn) {
					switch s.cfg.RootCredentialsMode {
					case ModeAuditRole:
						want = []string{"sts:AssumeRole arn:aws:iam::*:role/" + s.cfg.AuditRoleName}
					case ModeAssumeRoot:
						want = []string{"sts:AssumeRole arn:aws:iam::" + s.cfg.ManagementAccount + ":role/" + s.cfg.AuditRoleName, "sts:AssumeRoot arn:aws:iam::*:root"}
					}
				}
				if fn == function.Heartbeat { // the CloudTrail round trip's role in the management account
					want = []string{"sts:AssumeRole " + canary.RoundTripRoleARN(s.cfg.ManagementAccount)}
				}
				if !slices.Equal(sts, want) {
					t.Errorf("%s sts grants %v, want %v", fn, sts, want)
				}
				if r, ok := g["iam:GetAccountSummary"]; ok != ReadsRootCredentials(fn) || (ok && !slices.Equal(r, []string{"*"})) {
					t.Errorf("%s iam:GetAccountSummary on %v (granted=%v): want it only where root credential state is read", fn, r, ok)
				}
				_, audits := g["organizations:ListAccounts"]
				if audits != (fn == function.Audit) {
					t.Errorf("%s organizations:ListAccounts granted=%v, want only for audit", fn, audits)
				}
				if _, features := g["iam:ListOrganizationsFeatures"]; features != (fn == function.Audit) {
					t.Errorf("%s iam:ListOrganizationsFeatures granted=%v, want only for audit", fn, features)
				}
				if r, ok := g["cloudtrail:GetTrailStatus"]; ok != (fn == function.Audit) || (ok && !slices.Equal(r, []string{"arn:aws:cloudtrail:*:" + s.cfg.ManagementAccount + ":trail/*"})) {
					t.Errorf("%s cloudtrail:GetTrailStatus on %v (granted=%v), want the management account's trails for audit only", fn, r, ok)
				}
				_, reads := g["organizations:DescribePolicy"]
				if reads != isDetector(fn) {
					t.Errorf("%s organizations:DescribePolicy granted=%v", fn, reads)
				}
				_, imports := g["securityhub:BatchImportFindings"]
				if imports != (fn == function.Notifier && s.cfg.SecurityHub) {
					t.Errorf("%s securityhub:BatchImportFindings granted=%v with securityHub=%v", fn, imports, s.cfg.SecurityHub)
				}
				if r, ok := g["securityhub:BatchImportFindings"]; ok {
					product := fmt.Sprintf("arn:aws:securityhub:%s:%s:product/%s/default", s.cfg.HomeRegion, s.cfg.CentralAccount, s.cfg.CentralAccount)
					if !slices.Equal(r, []string{product}) {
						t.Errorf("BatchImportFindings on %v, want the default product %s", r, product)
					}
				}
				bus := one(t, tpl, "AWS::Events::EventBus", "Name", FindingsBusName).ID
				if fn == function.Heartbeat {
					bus = one(t, tpl, "AWS::Events::EventBus", "Name", OrgBusName).ID
				}
				if puts, ok := g["events:PutEvents"]; ok != (fn != function.Notifier) || (ok && !slices.Equal(puts, []string{"${" + bus + ".Arn}"})) {
					t.Errorf("%s events:PutEvents on %v (granted=%v): want the findings bus for detectors, the organization bus for heartbeat, none for notifier", fn, puts, ok)
				}
			}
		})
	}
}

func TestManagementStacks(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			s := synth(t, v)
			if len(s.stacks.Management) != len(s.cfg.ForwardRegions) || s.cfg.ForwardRegions[0] != GlobalRegion {
				t.Fatalf("%d management stacks for regions %v, want one per region, us-east-1 first", len(s.stacks.Management), s.cfg.ForwardRegions)
			}
			for i, region := range s.cfg.ForwardRegions {
				st := s.stacks.Management[i]
				if *st.Region() != region || *st.Account() != s.cfg.ManagementAccount {
					t.Errorf("stack %s in %s/%s, want %s/%s", *st.StackName(), *st.Account(), *st.Region(), s.cfg.ManagementAccount, region)
				}
				tpl := s.management(region)
				checkForwarders(t, s.cfg, tpl, routing.Table)
				audit := resourcesOf(tpl, "AWS::IAM::Role")
				var auditRoles int
				for _, r := range audit {
					if r.Props["RoleName"] == s.cfg.AuditRoleName {
						auditRoles++
						checkAuditRole(t, s.cfg, tpl, r)
					}
				}
				if want := map[bool]int{true: 1}[region == GlobalRegion]; auditRoles != want {
					t.Errorf("%s: %d audit roles, want %d (us-east-1 only, both modes)", region, auditRoles, want)
				}
				delegations := resourcesOf(tpl, "AWS::Organizations::ResourcePolicy")
				if want := map[bool]int{true: 1}[region == GlobalRegion && s.cfg.OrganizationsDelegation]; len(delegations) != want {
					t.Errorf("%s: %d Organizations delegation policies, want %d", region, len(delegations), want)
				}
				for _, d := range delegations {
					st := statements(d.Props["Content"])
					if len(st) != 1 || get(st[0], "Principal", "AWS") != "arn:aws:iam::"+s.cfg.CentralAccount+":root" {
						t.Errorf("delegation policy %v: want the central account only", d.Props["Content"])
					}
					for _, a := range strs(st[0]["Action"]) {
						if !strings.HasPrefix(a, "organizations:Describe") && !strings.HasPrefix(a, "organizations:List") {
							t.Errorf("delegation policy grants %s: read calls only", a)
						}
					}
				}
			}
		})
	}
}

func TestMemberTemplateAndStackSet(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			s := synth(t, v)
			tpl := s.member()
			checkForwarders(t, s.cfg, tpl, ForwardedRoutes())
			if tpl["Parameters"] != nil || tpl["Rules"] != nil {
				t.Errorf("member template has parameters %v / rules %v: accounts reached by the StackSet are not bootstrapped", tpl["Parameters"], tpl["Rules"])
			}
			if n := len(s.stacks.MemberTemplateBody); n > MaxTemplateBody {
				t.Errorf("member template %d bytes, over the StackSet limit", n)
			}
			var audit []resource
			for _, r := range resourcesOf(tpl, "AWS::IAM::Role") {
				if r.Props["RoleName"] == s.cfg.AuditRoleName {
					audit = append(audit, r)
				}
			}
			wantAudit := s.cfg.RootCredentialsMode == ModeAuditRole
			if len(audit) != map[bool]int{true: 1}[wantAudit] {
				t.Fatalf("%d audit roles in the member template, want %v", len(audit), wantAudit)
			}
			if wantAudit {
				checkAuditRole(t, s.cfg, tpl, audit[0])
				cond := get(tpl, "Conditions", audit[0].Condition, "Fn::Equals")
				if audit[0].Condition == "" || render(get(cond, 0)) != "${AWS::Region}" || get(cond, 1) != GlobalRegion {
					t.Errorf("audit role condition %q %v: want it created in us-east-1 only (IAM is global)", audit[0].Condition, cond)
				}
			}

			sets := resourcesOf(s.templates[MemberStackSetStackName], "AWS::CloudFormation::StackSet")
			if len(sets) != 1 {
				t.Fatalf("%d StackSets, want 1", len(sets))
			}
			p := sets[0].Props
			checks := map[string][2]any{
				"permission model":  {p["PermissionModel"], "SERVICE_MANAGED"},
				"auto deployment":   {get(p, "AutoDeployment", "Enabled"), true},
				"deployment target": {strs(get(p, "StackInstancesGroup", 0, "DeploymentTargets", "OrganizationalUnitIds")), []string{s.cfg.OrganizationRootID}},
				"regions":           {strs(get(p, "StackInstancesGroup", 0, "Regions")), s.cfg.ForwardRegions},
				"template body":     {p["TemplateBody"], s.stacks.MemberTemplateBody},
			}
			for what, c := range checks {
				if diff := cmp.Diff(c[1], c[0]); diff != "" {
					t.Errorf("StackSet %s (-want +got):\n%s", what, diff)
				}
			}
			if !slices.Contains(strs(get(p, "StackInstancesGroup", 0, "Regions")), GlobalRegion) {
				t.Error("StackSet regions miss us-east-1, where IAM, Organizations and sign-in events are recorded")
			}
			st := s.stacks.MemberStackSet
			if *st.Account() != s.cfg.ManagementAccount {
				t.Errorf("StackSet stack in account %s, want the management account (service-managed StackSets are created there)", *st.Account())
			}
		})
	}
}

// checkForwarders: one rule per route on the default bus, pattern and state from the table,
// targeting the central bus through a role allowed only events:PutEvents on it, with a DLQ.
func checkForwarders(t *testing.T, cfg Config, tpl map[string]any, routes []route.Route) {
	t.Helper()
	rules := resourcesOf(tpl, "AWS::Events::Rule")
	if len(rules) != len(routes) {
		t.Errorf("%d forwarding rules, want %d", len(rules), len(routes))
	}
	var patterns []string
	for _, rule := range rules {
		if rule.Props["EventBusName"] != nil {
			t.Errorf("forwarding rule %s on bus %v, want the default bus", rule.ID, rule.Props["EventBusName"])
		}
		b, _ := json.Marshal(rule.Props["EventPattern"])
		patterns = append(patterns, string(b)+" "+render(rule.Props["State"]))
		targets, _ := rule.Props["Targets"].([]any)
		if len(targets) != 1 || get(targets[0], "Arn") != cfg.OrgBusArn() || ref(get(targets[0], "DeadLetterConfig", "Arn")) == "" {
			t.Errorf("forwarding rule %s targets %v, want the central bus %s with a DLQ", rule.ID, targets, cfg.OrgBusArn())
			continue
		}
		role := ref(get(targets[0], "RoleArn"))
		g := grants(tpl, role)
		if diff := cmp.Diff(map[string][]string{"events:PutEvents": {cfg.OrgBusArn()}}, dedupe(g)); diff != "" {
			t.Errorf("forwarding role grants (-want +got):\n%s", diff)
		}
	}
	var want []string
	for _, r := range routes {
		b, _ := json.Marshal(ForwardPattern(r))
		if strings.Contains(string(b), route.CanarySource) {
			t.Errorf("the forwarding pattern of %s takes canaries: %s", r.Function, b)
		}
		want = append(want, string(b)+" "+RouteState(r))
	}
	if !sameSet(patterns, want) {
		t.Errorf("forwarding patterns:\n%s\nwant:\n%s", strings.Join(patterns, "\n"), strings.Join(want, "\n"))
	}
}

func dedupe(g map[string][]string) map[string][]string {
	for k, v := range g {
		slices.Sort(v)
		g[k] = slices.Compact(v)
	}
	return g
}

// checkAuditRole: trusts the central account only for the three function roles; only IAM reads.
func checkAuditRole(t *testing.T, cfg Config, tpl map[string]any, role resource) {
	t.Helper()
	trust := statements(role.Props["AssumeRolePolicyDocument"])
	var arns []string
	for _, fn := range AuditRoleTrustedFunctions {
		arns = append(arns, cfg.FunctionRoleArn(fn))
	}
	if len(trust) != 1 || get(trust[0], "Principal", "AWS") != "arn:aws:iam::"+cfg.CentralAccount+":root" ||
		!sameSet(strs(get(trust[0], "Condition", "ArnEquals", "aws:PrincipalArn")), arns) {
		t.Errorf("audit role trust %v: want only %v", trust, arns)
	}
	var actions []string
	for a := range grants(tpl, role.ID) {
		actions = append(actions, a)
	}
	want := []string{"iam:GetAccountSummary", "iam:GetLoginProfile", "iam:ListMFADevices", "iam:ListAccessKeys", "iam:ListSigningCertificates",
		"events:DescribeRule", "events:ListTargetsByRule"}
	if !sameSet(actions, want) {
		t.Errorf("audit role actions %v, want %v", actions, want)
	}
}

// isDetector reports whether a function evaluates events or the organization.
func isDetector(fn string) bool {
	f, ok := function.Lookup(fn)
	return ok && f.Evaluates()
}

// routeKey names a function's central rule: the heartbeat has a schedule and a route (the
// CloudTrail round trip) on the organization bus.
// routeOfRule is the name of the route (route.Route.Name) a central rule of function fn was made
// from: its construct id is "Route-" and the route's name (the logical id drops the dashes).
func routeOfRule(logicalID, fn string) string {
	best := fn
	for _, r := range routing.Table {
		id := "Route" + strings.ReplaceAll(r.Name(), "-", "")
		if r.Function == fn && strings.HasPrefix(logicalID, id) && len(r.Name()) > len(best) {
			best = r.Name()
		}
	}
	return best
}

func routeKey(fn string, orgBusRoute bool) string {
	if fn == function.Heartbeat && orgBusRoute {
		return fn + " (round trip)"
	}
	return fn
}
