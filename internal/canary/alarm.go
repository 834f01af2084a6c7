package canary

import (
	"errors"
	"fmt"
	"time"

	"github.com/rootguard/rootguard/internal/function"
)

// Heartbeat timing.
const (
	// Period is the time between two heartbeats, and the period of the heartbeat alarms.
	Period = 10 * time.Minute
	// EvaluationPeriods is how many periods in a row without a canary finding raise its alarm:
	// two, so that one heartbeat landing late in the next period (schedules are not exact) does
	// not, but a stage broken for a whole period always does.
	EvaluationPeriods = 2
)

// The metric the alarms watch: the notifier's count of canary findings it took (metric.Namespace
// and metric.CanaryFindings, written as EMF lines with the dimensions Function and Rule). The
// notifier is the last stage, so a count there proves routing, evaluation, the findings bus and
// the notifier at once.
const (
	MetricNamespace = "RootGuard"
	MetricName      = "CanaryFindings"
	// MetricFunction is the value of the metric's Function dimension.
	MetricFunction = function.Notifier
)

// CloudWatch alarm settings, spelled as CloudFormation spells them.
const (
	StatisticSum                 = "Sum"
	ComparisonLessThanThreshold  = "LessThanThreshold"
	TreatMissingDataBreaching    = "breaching"
	TreatMissingDataNotBreaching = "notBreaching"
)

// Dimension is one metric dimension.
type Dimension struct{ Name, Value string }

// Alarm is the CloudWatch alarm of one canary rule, as data: the infrastructure deploys it and
// the tests evaluate it (Evaluate), so the two cannot disagree.
type Alarm struct {
	// Name is the alarm's name without the "rootguard-" prefix: "heartbeat-<kind>".
	Name string
	// Description says what is broken when the alarm fires.
	Description string
	// Kind is the canary the alarm watches.
	Kind Kind
	// Namespace and Metric name the metric; Dimensions select the canary's rule (all of them
	// must match, as in CloudWatch).
	Namespace, Metric string
	Dimensions        []Dimension
	// Statistic is StatisticSum; Period its period.
	Statistic string
	Period    time.Duration
	// EvaluationPeriods and DatapointsToAlarm: the alarm fires when DatapointsToAlarm of the
	// last EvaluationPeriods periods breach.
	EvaluationPeriods, DatapointsToAlarm int
	// Comparison and Threshold: a period breaches when "Statistic Comparison Threshold" holds
	// (Sum < 1: no canary finding).
	Comparison string
	Threshold  float64
	// TreatMissingData: a period without any datapoint breaches (the notifier writes nothing
	// when no canary finding reached it).
	TreatMissingData string
}

// Alarms returns the heartbeat alarms, one per canary kind, in Kinds order.
func Alarms() []Alarm {
	out := make([]Alarm, 0, len(Kinds))
	for _, k := range Kinds {
		out = append(out, Alarm{
			Name: "heartbeat-" + k.Name,
			Description: fmt.Sprintf("rootguard heartbeat: no %s canary finding came out of %s for %d periods of %s: "+
				"the heartbeat function, the central bus rule of %s, %s itself, the findings bus or %s is broken, "+
				"so real events of this kind may be missed (docs/deploy.md, Heartbeat)",
				k.Rule, function.Notifier, EvaluationPeriods, Period, k.Function, k.Function, function.Notifier),
			Kind:              k,
			Namespace:         MetricNamespace,
			Metric:            MetricName,
			Dimensions:        []Dimension{{"Function", MetricFunction}, {"Rule", k.Rule}},
			Statistic:         StatisticSum,
			Period:            Period,
			EvaluationPeriods: EvaluationPeriods,
			DatapointsToAlarm: EvaluationPeriods,
			Comparison:        ComparisonLessThanThreshold,
			Threshold:         1,
			TreatMissingData:  TreatMissingDataBreaching,
		})
	}
	return out
}

// Schedule is the EventBridge schedule expression of the heartbeat: every Period.
func Schedule() string {
	m := int(Period / time.Minute)
	if m == 1 {
		return "rate(1 minute)"
	}
	return fmt.Sprintf("rate(%d minutes)", m)
}

// State is an alarm state.
type State string

// Alarm states.
const (
	StateOK    State = "OK"
	StateAlarm State = "ALARM"
)

// Datapoint is one metric value, as an EMF line records it.
type Datapoint struct {
	Namespace, Metric string
	// Dimensions are every dimension of the value (a metric is identified by all of them).
	Dimensions map[string]string
	Time       time.Time
	Value      float64
}

// ErrUnsupported: the alarm uses a setting Evaluate does not model.
var ErrUnsupported = errors.New("alarm setting not modelled")

// Evaluate returns the state of the alarm at time at, over the datapoints, as CloudWatch
// evaluates it: the last EvaluationPeriods whole periods before at (periods are aligned to
// multiples of Period), each the Statistic of the datapoints of exactly the alarm's metric (same
// namespace, name and set of dimensions); a period without datapoints is treated as
// TreatMissingData says; ALARM when at least DatapointsToAlarm periods breach.
func (a Alarm) Evaluate(points []Datapoint, at time.Time) (State, error) {
	if a.Statistic != StatisticSum {
		return "", fmt.Errorf("%s: statistic %q: %w", a.Name, a.Statistic, ErrUnsupported)
	}
	if a.Period <= 0 || a.EvaluationPeriods <= 0 || a.DatapointsToAlarm <= 0 || a.DatapointsToAlarm > a.EvaluationPeriods {
		return "", fmt.Errorf("%s: period %s, %d of %d periods: %w", a.Name, a.Period, a.DatapointsToAlarm, a.EvaluationPeriods, ErrUnsupported)
	}
	if a.Comparison != ComparisonLessThanThreshold {
		return "", fmt.Errorf("%s: comparison %q: %w", a.Name, a.Comparison, ErrUnsupported)
	}
	var missing bool
	switch a.TreatMissingData {
	case TreatMissingDataBreaching:
		missing = true
	case TreatMissingDataNotBreaching:
	default:
		return "", fmt.Errorf("%s: treat missing data %q: %w", a.Name, a.TreatMissingData, ErrUnsupported)
	}
	end := at.UTC().Truncate(a.Period)
	breached := 0
	for i := a.EvaluationPeriods; i >= 1; i-- {
		from, to := end.Add(-time.Duration(i)*a.Period), end.Add(-time.Duration(i-1)*a.Period)
		sum, n := 0.0, 0
		for _, p := range points {
			if a.selects(p) && !p.Time.Before(from) && p.Time.Before(to) {
				sum += p.Value
				n++
			}
		}
		if (n == 0 && missing) || (n > 0 && sum < a.Threshold) {
			breached++
		}
	}
	if breached >= a.DatapointsToAlarm {
		return StateAlarm, nil
	}
	return StateOK, nil
}

// selects reports whether a datapoint belongs to the alarm's metric.
func (a Alarm) selects(p Datapoint) bool {
	if p.Namespace != a.Namespace || p.Metric != a.Metric || len(p.Dimensions) != len(a.Dimensions) {
		return false
	}
	for _, d := range a.Dimensions {
		if v, ok := p.Dimensions[d.Name]; !ok || v != d.Value {
			return false
		}
	}
	return true
}
