package routing

import (
	"slices"
	"strings"
	"testing"

	"github.com/rootguard/rootguard/internal/function"
	"github.com/rootguard/rootguard/internal/route"
	"github.com/rootguard/rootguard/internal/rule"
)

// TestNoLoops: rootguard's own events (its findings on the bus, and its heartbeat) are never
// taken by an evaluator as if they were CloudTrail events, whatever they carry.
func TestNoLoops(t *testing.T) {
	for _, et := range []string{"", "Root", "AssumedRole"} {
		for _, name := range []string{"", "ConsoleLogin", "DetachPolicy", "CreateAccountResult"} {
			f := route.Fields{Source: route.FindingSource, DetailType: route.FindingDetailType, EventName: name, UserIdentityType: et}
			if fns := FunctionsFor(f); len(fns) > 0 {
				t.Errorf("a finding event %+v is routed to %v", f, fns)
			}
		}
	}
}

// TestEveryEvaluatorHasARoute: the functions that take CloudTrail events each have a route, and
// every route belongs to a known function.
func TestEveryEvaluatorHasARoute(t *testing.T) {
	for _, fn := range []string{function.RootActivity, function.SCPGuard, function.Onboarding} {
		if _, ok := For(fn); !ok {
			t.Errorf("%s has no route", fn)
		}
	}
	for _, r := range Table {
		if !slices.ContainsFunc(function.Table, func(f function.Function) bool { return f.Name == r.Function }) {
			t.Errorf("route for unknown function %s", r.Function)
		}
	}
	both := route.Fields{Source: "aws.signin", DetailType: route.SignInDetailTypes[1], EventSource: "signin.amazonaws.com", EventName: "ConsoleLogin", UserIdentityType: "Root"}
	if fns := FunctionsFor(both); !slices.Equal(fns, []string{function.RootActivity}) {
		t.Errorf("the guide's sign-in spelling is routed to %v", fns)
	}
}

// evaluators are the functions that evaluate their rules on an event (not only drop facts).
func evaluators(f route.Fields) []string {
	return slices.DeleteFunc(FunctionsFor(f), func(fn string) bool { return !Evaluates(fn, f) })
}

// TestGuardEventsReachSCPGuard: the IAM and CloudTrail calls of the guard rules reach scp-guard's
// rules, and their harmless neighbours (turning a feature on, starting logging) reach no rule.
func TestGuardEventsReachSCPGuard(t *testing.T) {
	for _, tc := range []struct {
		source, eventSource, name string
		want                      []string
	}{
		{"aws.iam", "iam.amazonaws.com", "DisableOrganizationsRootCredentialsManagement", []string{function.SCPGuard}},
		{"aws.iam", "iam.amazonaws.com", "DisableOrganizationsRootSessions", []string{function.SCPGuard}},
		{"aws.iam", "iam.amazonaws.com", "EnableOrganizationsRootSessions", nil},
		{"aws.cloudtrail", "cloudtrail.amazonaws.com", "StopLogging", []string{function.SCPGuard}},
		{"aws.cloudtrail", "cloudtrail.amazonaws.com", "PutEventSelectors", []string{function.SCPGuard}},
		{"aws.cloudtrail", "cloudtrail.amazonaws.com", "StartLogging", nil},
		{"aws.organizations", "organizations.amazonaws.com", "CreatePolicy", []string{function.SCPGuard}},
		{"aws.organizations", "organizations.amazonaws.com", "AttachPolicy", []string{function.SCPGuard}},
	} {
		f := route.Fields{Source: tc.source, DetailType: "AWS API Call via CloudTrail", EventSource: tc.eventSource, EventName: tc.name, UserIdentityType: "AssumedRole"}
		if got := evaluators(f); !slices.Equal(got, tc.want) {
			t.Errorf("%s is routed to %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestTamperCallsReachSCPGuard: the calls FORWARDER-TAMPERED evaluates (the rule reads the same
// tamper patterns) reach scp-guard, grants on rootguard's key and versioned Lambda names included.
func TestTamperCallsReachSCPGuard(t *testing.T) {
	for _, f := range []route.Fields{
		{Source: "aws.kms", DetailType: "AWS API Call via CloudTrail", EventSource: "kms.amazonaws.com", EventName: "CreateGrant"},
		{Source: "aws.lambda", DetailType: "AWS API Call via CloudTrail", EventSource: "lambda.amazonaws.com", EventName: "DeleteFunctionConcurrency20171031"},
		{Source: "aws.events", DetailType: "AWS API Call via CloudTrail", EventSource: "events.amazonaws.com", EventName: "DisableRule"},
	} {
		if got := FunctionsFor(f); len(got) != 1 || got[0] != function.SCPGuard {
			t.Errorf("%s %s reaches %v, want scp-guard", f.Source, f.EventName, got)
		}
	}
}

// TestCheckNamesUnroutedRules: a function table that leaves a group's events to no function
// fails the check by rule name.
func TestCheckNamesUnroutedRules(t *testing.T) {
	if errs := Check(rule.Catalogue(), Table); len(errs) > 0 {
		t.Fatalf("the derived table: %v", errs)
	}
	var fns []function.Function
	for _, f := range function.Table {
		f.Groups = slices.DeleteFunc(slices.Clone(f.Groups), func(g string) bool { return g == function.GroupOnboarding })
		fns = append(fns, f)
	}
	errs := Check(rule.Catalogue(), Derive(rule.Catalogue(), fns, route.Own))
	var text []string
	for _, e := range errs {
		text = append(text, e.Error())
	}
	for _, want := range []string{"rule ONBOARD-REPORT: event 0", "rule ONBOARD-FAILED: event 1"} {
		if !slices.ContainsFunc(text, func(s string) bool { return strings.HasPrefix(s, want) }) {
			t.Errorf("no error %q in %q", want, text)
		}
	}
}

// TestOwners: who raises a rule on events.
func TestOwners(t *testing.T) {
	for id, want := range map[string][]string{
		"ROOT-SIGNIN":        {function.RootActivity},
		"ROOT-EMAIL-CHANGED": {function.RootActivity},
		"EXCEPTION-GRANTED":  {function.SCPGuard},
		"SCP-MISSING":        {function.SCPGuard},
		"SCP-NOT-EFFECTIVE":  {function.Onboarding, function.SCPGuard},
		"POSTURE-ROOT-MFA":   {function.Onboarding},
	} {
		r, _ := rule.ByID(id)
		if got := Owners(r); !slices.Equal(got, want) {
			t.Errorf("%s: owners %v, want %v", id, got, want)
		}
	}
}
