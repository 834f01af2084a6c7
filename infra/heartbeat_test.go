package infra

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rootguard/rootguard/internal/canary"
	"github.com/rootguard/rootguard/internal/function"
)

// TestHeartbeatFunction: the heartbeat may put events on the organization bus and assume the
// management account's heartbeat role, nothing else (besides writing its logs and its on-failure
// queue).
func TestHeartbeatFunction(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			s := synth(t, v)
			tpl := s.central()
			role := one(t, tpl, "AWS::IAM::Role", "RoleName", FunctionRoleName(function.Heartbeat)).ID
			orgBus := one(t, tpl, "AWS::Events::EventBus", "Name", OrgBusName).ID
			lg := one(t, tpl, "AWS::Logs::LogGroup", "LogGroupName", "/aws/lambda/"+FunctionName(function.Heartbeat)).ID
			q := one(t, tpl, "AWS::SQS::Queue", "QueueName", "rootguard-"+function.Heartbeat+"-failures").ID
			key := "${" + keyID(t, tpl) + ".Arn}"
			want := map[string][]string{
				"events:PutEvents":     {"${" + orgBus + ".Arn}"},
				"logs:CreateLogStream": {"${" + lg + ".Arn}"},
				"logs:PutLogEvents":    {"${" + lg + ".Arn}"},
				"sqs:SendMessage":      {"${" + q + ".Arn}"},
				"kms:GenerateDataKey":  {key},
				"kms:Decrypt":          {key},
				// The CloudTrail round trip: the management account's heartbeat role only.
				"sts:AssumeRole": {canary.RoundTripRoleARN(s.cfg.ManagementAccount)},
			}
			if diff := cmp.Diff(want, dedupe(grants(tpl, role))); diff != "" {
				t.Errorf("heartbeat grants (-want +got):\n%s", diff)
			}
		})
	}
}

// TestHeartbeatAlarms: one alarm per canary rule, exactly as package canary defines it, on the
// notifier's metric, to the alerts topic.
func TestHeartbeatAlarms(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			s := synth(t, v)
			tpl := s.central()
			alerts := one(t, tpl, "AWS::SNS::Topic", "TopicName", "rootguard-alerts").ID
			for _, a := range canary.Alarms() {
				t.Run(a.Name, func(t *testing.T) {
					p := one(t, tpl, "AWS::CloudWatch::Alarm", "AlarmName", "rootguard-"+a.Name).Props
					got := map[string]any{}
					for _, k := range []string{"AlarmDescription", "Namespace", "MetricName", "Statistic", "Period", "EvaluationPeriods",
						"DatapointsToAlarm", "Threshold", "ComparisonOperator", "TreatMissingData"} {
						got[k] = p[k]
					}
					want := map[string]any{
						"AlarmDescription": a.Description, "Namespace": a.Namespace, "MetricName": a.Metric, "Statistic": a.Statistic,
						"Period": a.Period.Seconds(), "EvaluationPeriods": float64(a.EvaluationPeriods), "DatapointsToAlarm": float64(a.DatapointsToAlarm),
						"Threshold": a.Threshold, "ComparisonOperator": a.Comparison, "TreatMissingData": a.TreatMissingData,
					}
					if diff := cmp.Diff(want, got); diff != "" {
						t.Errorf("alarm (-want +got):\n%s", diff)
					}
					var dims, wantDims []string
					for _, d := range p["Dimensions"].([]any) {
						dims = append(dims, fmt.Sprintf("%v=%v", get(d, "Name"), get(d, "Value")))
					}
					for _, d := range a.Dimensions {
						wantDims = append(wantDims, d.Name+"="+d.Value)
					}
					if !sameSet(dims, wantDims) {
						t.Errorf("dimensions %v, want %v", dims, wantDims)
					}
					if actions, _ := p["AlarmActions"].([]any); len(actions) != 1 || ref(actions[0]) != alerts {
						t.Errorf("actions %v, want the alerts topic", p["AlarmActions"])
					}
				})
			}
		})
	}
}

// TestCanariesOnlyFromTheCentralAccount evaluates the canaries against the synthesized patterns:
// put by the central account on the central bus, each reaches exactly its function; from any
// other account (the bus admits every principal of the organization) none reaches anything; and
// no forwarder, in the management account or a member account, ever forwards one.
func TestCanariesOnlyFromTheCentralAccount(t *testing.T) {
	s := synth(t, auditRole)
	org := loadSampleOrg(t)
	central := busRules(t, s.central(), functionIDs(t, s.central()))
	forwarders := map[string][]compiledRule{"member": busRules(t, s.member(), nil)}
	for _, region := range s.cfg.ForwardRegions {
		forwarders["management "+region] = busRules(t, s.management(region), nil)
	}
	member := "444455556666"
	if s.cfg.CentralAccount == member || org.Organization.ManagementAccountID == member {
		t.Fatalf("pick another member account than %s", member)
	}
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	events := canary.Events(now)
	if len(events) != len(canary.Kinds) {
		t.Fatalf("%d canaries, want %d", len(events), len(canary.Kinds))
	}
	for _, c := range events {
		t.Run(c.Kind.Name, func(t *testing.T) {
			for _, account := range []string{s.cfg.CentralAccount, org.Organization.ManagementAccountID, member, canary.ManagementAccount, canary.MemberAccount} {
				var ev map[string]any
				if err := json.Unmarshal(c.Envelope(account, s.cfg.HomeRegion, now), &ev); err != nil {
					t.Fatal(err)
				}
				var want []string
				if account == s.cfg.CentralAccount {
					want = []string{c.Kind.Function}
				}
				if got := matching(central, ev); !slices.Equal(got, want) {
					t.Errorf("put by account %s, it reaches %v on the central bus, want %v", account, got, want)
				}
				for where, rules := range forwarders {
					if got := matching(rules, ev); len(got) > 0 {
						t.Errorf("put by account %s, the %s forwarder sends it on (rules %v)", account, where, got)
					}
				}
			}
		})
	}
}
