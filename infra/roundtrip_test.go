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
	"github.com/rootguard/rootguard/internal/testenv/awsfake"
)

// TestRoundTripAlarms: one alarm per forwarded region, exactly as package canary defines it, on
// the heartbeat's CloudTrailRoundTrip count by Region, to the alerts topic, a missing period
// counting as breaching.
func TestRoundTripAlarms(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			s := synth(t, v)
			tpl := s.central()
			alerts := one(t, tpl, "AWS::SNS::Topic", "TopicName", "rootguard-alerts").ID
			alarms := canary.RoundTripAlarms(s.cfg.ForwardRegions)
			if len(alarms) != len(s.cfg.ForwardRegions) || len(alarms) == 0 {
				t.Fatalf("%d round-trip alarms for regions %v", len(alarms), s.cfg.ForwardRegions)
			}
			for i, a := range alarms {
				t.Run(a.Name, func(t *testing.T) {
					p := one(t, tpl, "AWS::CloudWatch::Alarm", "AlarmName", "rootguard-"+a.Name).Props
					got := map[string]any{}
					for _, k := range []string{"AlarmDescription", "Namespace", "MetricName", "Statistic", "Period", "EvaluationPeriods",
						"DatapointsToAlarm", "Threshold", "ComparisonOperator", "TreatMissingData"} {
						got[k] = p[k]
					}
					want := map[string]any{
						"AlarmDescription": a.Description, "Namespace": "RootGuard", "MetricName": "CloudTrailRoundTrip", "Statistic": "Sum",
						"Period": float64(900), "EvaluationPeriods": float64(2), "DatapointsToAlarm": float64(2),
						"Threshold": float64(1), "ComparisonOperator": "LessThanThreshold", "TreatMissingData": "breaching",
					}
					if diff := cmp.Diff(want, got); diff != "" {
						t.Errorf("alarm (-want +got):\n%s", diff)
					}
					var dims []string
					for _, d := range p["Dimensions"].([]any) {
						dims = append(dims, fmt.Sprintf("%v=%v", get(d, "Name"), get(d, "Value")))
					}
					if !sameSet(dims, []string{"Function=heartbeat", "Region=" + s.cfg.ForwardRegions[i]}) {
						t.Errorf("dimensions %v, want Function=heartbeat and Region=%s", dims, s.cfg.ForwardRegions[i])
					}
					if actions, _ := p["AlarmActions"].([]any); len(actions) != 1 || ref(actions[0]) != alerts {
						t.Errorf("actions %v, want the alerts topic", p["AlarmActions"])
					}
				})
			}
		})
	}
}

// TestHeartbeatRole: the management account's heartbeat role (us-east-1 stack only; IAM is
// global) trusts only the central heartbeat function's role and may only put the round-trip
// parameter, by its exact ARN in each forwarded region.
func TestHeartbeatRole(t *testing.T) {
	s := synth(t, auditRole)
	for _, region := range s.cfg.ForwardRegions {
		tpl := s.management(region)
		var roles []resource
		for _, r := range resourcesOf(tpl, "AWS::IAM::Role") {
			if r.Props["RoleName"] == canary.RoundTripRoleName {
				roles = append(roles, r)
			}
		}
		if want := map[bool]int{true: 1}[region == GlobalRegion]; len(roles) != want {
			t.Fatalf("%s: %d heartbeat roles, want %d", region, len(roles), want)
		}
		if len(roles) == 0 {
			continue
		}
		trust := statements(roles[0].Props["AssumeRolePolicyDocument"])
		if len(trust) != 1 || get(trust[0], "Principal", "AWS") != "arn:aws:iam::"+s.cfg.CentralAccount+":root" ||
			!sameSet(strs(get(trust[0], "Condition", "ArnEquals", "aws:PrincipalArn")), []string{s.cfg.FunctionRoleArn(function.Heartbeat)}) {
			t.Errorf("heartbeat role trust %v: want the central heartbeat function's role only", trust)
		}
		var arns []string
		for _, r := range s.cfg.ForwardRegions {
			arns = append(arns, fmt.Sprintf("arn:aws:ssm:%s:%s:parameter/rootguard/heartbeat", r, s.cfg.ManagementAccount))
		}
		if diff := cmp.Diff(map[string][]string{"ssm:PutParameter": arns}, grants(tpl, roles[0].ID)); diff != "" {
			t.Errorf("heartbeat role grants (-want +got):\n%s", diff)
		}
	}
}

// TestRoundTripReachesOnlyTheHeartbeat plays the trail: the heartbeat's PutParameter in each
// forwarded region of the management account, as CloudTrail hands it to EventBridge there, is
// sent to the central bus by that region's management forwarder and reaches exactly the
// heartbeat; the same call in a member account is forwarded by nothing and reaches nothing, and
// another parameter, or the call put on the central bus by a member, reaches nothing.
func TestRoundTripReachesOnlyTheHeartbeat(t *testing.T) {
	s := synth(t, auditRole)
	central := busRules(t, s.central(), functionIDs(t, s.central()))
	member := busRules(t, s.member(), nil)
	roleARN := canary.RoundTripRoleARN(s.cfg.ManagementAccount)
	decode := func(raw []byte) map[string]any {
		var ev map[string]any
		if err := json.Unmarshal(raw, &ev); err != nil {
			t.Fatal(err)
		}
		return ev
	}
	at := time.Date(2026, 11, 27, 10, 10, 0, 0, time.UTC)
	for _, region := range s.cfg.ForwardRegions {
		t.Run(region, func(t *testing.T) {
			put := awsfake.ParameterPut{Region: region, Account: s.cfg.ManagementAccount, Name: canary.RoundTripParameter,
				Value: at.Format(time.RFC3339), Type: "String", Version: 7, Overwrite: true, AccessKeyID: "ASIAFAKE", Time: at}
			ev := decode(put.CloudTrailEvent(roleARN))
			if got := matching(busRules(t, s.management(region), nil), ev); len(got) != 1 {
				t.Errorf("management forwarders in %s matching the round trip: %v, want exactly one", region, got)
			}
			if got := matching(central, ev); !slices.Equal(got, []string{function.Heartbeat}) {
				t.Errorf("on the central bus the round trip reaches %v, want only %s", got, function.Heartbeat)
			}
			fromMember := put
			fromMember.Account = "444455556666"
			mev := decode(fromMember.CloudTrailEvent("arn:aws:iam::444455556666:role/" + canary.RoundTripRoleName))
			if got := matching(member, mev); len(got) != 0 {
				t.Errorf("a member's forwarder sends the member's own parameter write: %v", got)
			}
			if got := matching(central, mev); len(got) != 0 {
				t.Errorf("a member's parameter write put on the central bus reaches %v", got)
			}
			other := put
			other.Name = "/acme/app/config"
			if got := matching(central, decode(other.CloudTrailEvent(roleARN))); len(got) != 0 {
				t.Errorf("another parameter reaches %v", got)
			}
		})
	}
}
