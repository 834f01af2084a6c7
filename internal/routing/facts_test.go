package routing

import (
	"slices"
	"strings"
	"testing"

	"github.com/rootguard/rootguard/internal/function"
	"github.com/rootguard/rootguard/internal/org"
	"github.com/rootguard/rootguard/internal/route"
)

// factEvents are the fields of every event route.FactChangePatterns names, made by an ordinary
// principal and by root.
func factEvents() []route.Fields {
	var out []route.Fields
	for _, p := range route.FactChangePatterns {
		for _, n := range p.EventNames {
			for _, who := range []string{"AssumedRole", "Root"} {
				out = append(out, route.Fields{Source: p.Sources[0], DetailType: p.DetailTypes[0], EventSource: p.EventSources[0], EventName: n, UserIdentityType: who})
			}
		}
	}
	return out
}

// TestFactChangesReachEveryEvaluatorOnce: every function that evaluates events takes every
// fact-change event, through exactly one of its routes (two would make two invocations), and
// evaluates it only when a rule pattern takes it.
func TestFactChangesReachEveryEvaluatorOnce(t *testing.T) {
	var evaluating []string
	for _, fn := range function.Table {
		if _, ok := For(fn.Name); ok && len(fn.Groups) > 0 {
			evaluating = append(evaluating, fn.Name)
		}
	}
	if len(evaluating) != 3 {
		t.Fatalf("evaluating functions %v, want root-activity, scp-guard and onboarding", evaluating)
	}
	for _, f := range factEvents() {
		for _, fn := range evaluating {
			var through []string
			for _, r := range Table {
				if r.Function == fn && r.Matches(f) {
					through = append(through, r.Name())
				}
			}
			if len(through) != 1 {
				t.Errorf("%s by %s reaches %s through %v, want exactly one route", f.EventName, f.UserIdentityType, fn, through)
			}
		}
	}
	// Root's calls are root-activity's to evaluate; an ordinary principal's Organizations call is not.
	detach := route.Fields{Source: "aws.organizations", DetailType: route.APICall, EventSource: "organizations.amazonaws.com", EventName: "DetachPolicy", UserIdentityType: "AssumedRole"}
	if Evaluates(function.RootActivity, detach) || Evaluates(function.Onboarding, detach) || !Evaluates(function.SCPGuard, detach) {
		t.Errorf("DetachPolicy: evaluated by %v, want scp-guard only", evaluators(detach))
	}
	detach.UserIdentityType = "Root"
	if !Evaluates(function.RootActivity, detach) {
		t.Error("root's DetachPolicy is not evaluated by root-activity")
	}
}

// TestFactChangesForwardedOnce: each fact-change event made by an ordinary principal is forwarded
// to the central bus by exactly one forwarding rule (member accounts forward the Forwarded
// routes), so each function gets it once.
func TestFactChangesForwardedOnce(t *testing.T) {
	for _, f := range factEvents() {
		if f.UserIdentityType == "Root" {
			continue // root's calls are also forwarded for root-activity, as every root call is
		}
		var by []string
		for _, r := range Table {
			if r.Forwarded && slices.ContainsFunc(Forwarding(r), func(p route.Pattern) bool { return p.Matches(f) }) {
				by = append(by, r.Name())
			}
		}
		if len(by) != 1 {
			t.Errorf("%s %s is forwarded by %v, want exactly one route", f.Source, f.EventName, by)
		}
	}
}

// TestReplayKeepsEveryOrganizationChange: every event org.ChangeOf reads is taken by some route,
// so the replay's prefilter (built from Patterns) keeps it and the replay's overlay of the
// organization sees every change, whoever made it, including those no cache drops (CreatePolicy).
func TestReplayKeepsEveryOrganizationChange(t *testing.T) {
	detailTypes := []string{route.APICall, route.ServiceEvent}
	for _, ce := range org.ChangeEvents() {
		source := route.AWSSource + strings.TrimSuffix(ce.EventSource, ".amazonaws.com")
		taken := slices.ContainsFunc(detailTypes, func(dt string) bool {
			f := route.Fields{Source: source, DetailType: dt, EventSource: ce.EventSource, EventName: ce.EventName, UserIdentityType: "AssumedRole"}
			return slices.ContainsFunc(Patterns(), func(p route.Pattern) bool { return p.Matches(f) })
		})
		if !taken {
			t.Errorf("%s %s (%v): no route takes it, so the replay would drop it before its overlay reads it", ce.EventSource, ce.EventName, ce.Kind)
		}
	}
}
