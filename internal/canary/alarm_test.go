package canary

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/rootguard/rootguard/internal/function"
	"github.com/rootguard/rootguard/internal/metric"
)

// TestAlarmsWatchTheNotifiersCanaryMetric: one alarm per kind, on the metric the notifier
// writes, with the canary's rule, firing on a missing heartbeat.
func TestAlarmsWatchTheNotifiersCanaryMetric(t *testing.T) {
	if MetricNamespace != metric.Namespace || MetricName != metric.CanaryFindings {
		t.Errorf("alarm metric %s/%s, but the functions write %s/%s", MetricNamespace, MetricName, metric.Namespace, metric.CanaryFindings)
	}
	alarms := Alarms()
	if len(alarms) != len(Kinds) {
		t.Fatalf("%d alarms for %d kinds", len(alarms), len(Kinds))
	}
	names := map[string]bool{}
	for i, a := range alarms {
		t.Run(a.Name, func(t *testing.T) {
			if names[a.Name] {
				t.Errorf("duplicate alarm name %s", a.Name)
			}
			names[a.Name] = true
			if a.Kind != Kinds[i] {
				t.Errorf("kind %+v, want %+v", a.Kind, Kinds[i])
			}
			want := []Dimension{{"Function", function.Notifier}, {"Rule", Kinds[i].Rule}}
			if fmt.Sprint(a.Dimensions) != fmt.Sprint(want) {
				t.Errorf("dimensions %v, want %v", a.Dimensions, want)
			}
			if a.Period != Period || a.EvaluationPeriods != 2 || a.DatapointsToAlarm != 2 || a.Threshold != 1 ||
				a.Comparison != ComparisonLessThanThreshold || a.Statistic != StatisticSum || a.TreatMissingData != TreatMissingDataBreaching {
				t.Errorf("alarm %+v: want Sum < 1 over 2 of 2 periods of %s, missing data breaching", a, Period)
			}
			if len(a.Description) < 80 {
				t.Errorf("description %q does not say what is broken", a.Description)
			}
		})
	}
}

func TestSchedule(t *testing.T) {
	var n int
	if _, err := fmt.Sscanf(Schedule(), "rate(%d minutes)", &n); err != nil || time.Duration(n)*time.Minute != Period {
		t.Errorf("schedule %q, want a rate of %s", Schedule(), Period)
	}
}

// TestEvaluate checks the model of CloudWatch's evaluation the heartbeat tests rely on.
func TestEvaluate(t *testing.T) {
	a := Alarms()[0]
	at := time.Date(2026, 11, 26, 12, 30, 5, 0, time.UTC) // periods [12:10, 12:20) and [12:20, 12:30)
	point := func(hhmm string, v float64, dims ...Dimension) Datapoint {
		tm, err := time.Parse("15:04", hhmm)
		if err != nil {
			t.Fatal(err)
		}
		if dims == nil {
			dims = a.Dimensions
		}
		d := map[string]string{}
		for _, x := range dims {
			d[x.Name] = x.Value
		}
		return Datapoint{Namespace: a.Namespace, Metric: a.Metric, Dimensions: d, Value: v,
			Time: time.Date(2026, 11, 26, tm.Hour(), tm.Minute(), 0, 0, time.UTC)}
	}
	evaluator := []Dimension{{"Function", a.Kind.Function}, {"Rule", a.Kind.Rule}}
	other := []Dimension{{"Function", function.Notifier}, {"Rule", "SOME-OTHER-RULE"}}
	tests := []struct {
		name   string
		points []Datapoint
		want   State
	}{
		{"a finding in each period", []Datapoint{point("12:11", 1), point("12:21", 1)}, StateOK},
		{"two in one, one in the other", []Datapoint{point("12:11", 1), point("12:19", 1), point("12:29", 1)}, StateOK},
		{"one period missing", []Datapoint{point("12:15", 1)}, StateOK},
		{"both periods missing", nil, StateAlarm},
		{"only before the window", []Datapoint{point("12:09", 1), point("12:00", 1)}, StateAlarm},
		{"only in the period still running", []Datapoint{point("12:30", 1)}, StateAlarm},
		{"zero values breach", []Datapoint{point("12:11", 0), point("12:21", 0)}, StateAlarm},
		{"the evaluator's count is another metric", []Datapoint{point("12:11", 1, evaluator...), point("12:21", 1, evaluator...)}, StateAlarm},
		{"another rule's count is another metric", []Datapoint{point("12:11", 1, other...), point("12:21", 1, other...)}, StateAlarm},
		{"extra dimensions make another metric", []Datapoint{point("12:11", 1, append(a.Dimensions, Dimension{"Severity", "LOW"})...)}, StateAlarm},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := a.Evaluate(tt.points, at)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("state %s, want %s", got, tt.want)
			}
		})
	}
	t.Run("missing data not breaching", func(t *testing.T) {
		b := a
		b.TreatMissingData = TreatMissingDataNotBreaching
		if got, err := b.Evaluate(nil, at); err != nil || got != StateOK {
			t.Errorf("state %s (%v), want OK", got, err)
		}
	})
	unsupported := map[string]func(*Alarm){
		"statistic":  func(a *Alarm) { a.Statistic = "Average" },
		"comparison": func(a *Alarm) { a.Comparison = "GreaterThanThreshold" },
		"missing":    func(a *Alarm) { a.TreatMissingData = "ignore" },
		"periods":    func(a *Alarm) { a.DatapointsToAlarm = 3 },
	}
	for name, change := range unsupported {
		t.Run("unsupported "+name, func(t *testing.T) {
			b := a
			change(&b)
			if _, err := b.Evaluate(nil, at); !errors.Is(err, ErrUnsupported) {
				t.Errorf("error %v, want ErrUnsupported", err)
			}
		})
	}
}
