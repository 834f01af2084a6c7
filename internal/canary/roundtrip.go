package canary

import (
	"fmt"
	"time"

	"github.com/rootguard/rootguard/internal/function"
	"github.com/rootguard/rootguard/internal/route"
)

// The end-to-end CloudTrail canary (the round trip). The heartbeat canaries above start on the
// central bus, so they prove only the central half of the pipeline. On every heartbeat the
// heartbeat function also makes one real, harmless, recorded write call in every forwarded
// region of the management account: ssm:PutParameter of RoundTripParameter (a String parameter
// whose value is the heartbeat's time), through the role RoundTripRoleName there. CloudTrail
// records the call, EventBridge hands it to the management account's forwarding rule in that
// region (routing.Table's heartbeat route), the forwarder puts it on the central bus, and the
// central rule gives it back to the heartbeat function, which counts it as RoundTripMetric by
// Region. An alarm per region fires when no round trip was counted for RoundTripEvaluationPeriods
// periods: the organization trail stopped logging management events, a forwarder was deleted,
// disabled or retargeted, or the central rule broke.
const (
	// RoundTripParameter is the SSM parameter the heartbeat writes (route.HeartbeatParameter).
	RoundTripParameter = route.HeartbeatParameter
	// RoundTripRoleName is the role in the management account (IAM is global) that the
	// heartbeat assumes to write the parameter, and may do nothing else.
	RoundTripRoleName = "rootguard-heartbeat"
	// RoundTripMetric is the heartbeat's count of round-trip events, in MetricNamespace, with
	// the dimensions Function (the heartbeat) and Region (where the call was recorded).
	RoundTripMetric = "CloudTrailRoundTrip"
	// RoundTripFunction is the value of the metric's Function dimension: the function that
	// receives the round-trip events.
	RoundTripFunction = function.Heartbeat
	// RoundTripPeriod is the alarms' period: longer than the heartbeat's (every Period), so
	// that CloudTrail's delivery delay (usually minutes) never leaves a period empty.
	RoundTripPeriod = 15 * time.Minute
	// RoundTripEvaluationPeriods: two periods in a row without a round trip raise the alarm.
	RoundTripEvaluationPeriods = 2
)

// ParameterARN is the ARN of the round-trip parameter in one region of an account.
func ParameterARN(region, account string) string {
	return fmt.Sprintf("arn:aws:ssm:%s:%s:parameter%s", region, account, RoundTripParameter)
}

// RoundTripRoleARN is the ARN of the role the heartbeat assumes in the management account.
func RoundTripRoleARN(managementAccount string) string {
	return fmt.Sprintf("arn:aws:iam::%s:role/%s", managementAccount, RoundTripRoleName)
}

// RoundTripAlarms returns one alarm per region, in the order given: "cloudtrail-round-trip-<region>".
func RoundTripAlarms(regions []string) []Alarm {
	out := make([]Alarm, 0, len(regions))
	for _, r := range regions {
		out = append(out, Alarm{
			Name: "cloudtrail-round-trip-" + r,
			Description: fmt.Sprintf("rootguard CloudTrail round trip: the heartbeat's ssm:PutParameter %s in the management account in %s "+
				"has not come back to %s through CloudTrail, the %s forwarder and the central bus for %d periods of %s: "+
				"the organization trail is not logging management events, the forwarding rule in %s was deleted, disabled "+
				"or retargeted, or the heartbeat cannot write the parameter (see its errors); events recorded in %s may be missed "+
				"(docs/deploy.md, Heartbeat)",
				RoundTripParameter, r, RoundTripFunction, r, RoundTripEvaluationPeriods, RoundTripPeriod, r, r),
			Namespace:         MetricNamespace,
			Metric:            RoundTripMetric,
			Dimensions:        []Dimension{{"Function", RoundTripFunction}, {"Region", r}},
			Statistic:         StatisticSum,
			Period:            RoundTripPeriod,
			EvaluationPeriods: RoundTripEvaluationPeriods,
			DatapointsToAlarm: RoundTripEvaluationPeriods,
			Comparison:        ComparisonLessThanThreshold,
			Threshold:         1,
			TreatMissingData:  TreatMissingDataBreaching,
		})
	}
	return out
}
