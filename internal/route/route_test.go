package route

import (
	"slices"
	"testing"
)

// TestNoLoops: rootguard's own events (its findings on the bus, and its heartbeat) are never
// taken by an evaluator as if they were CloudTrail events, whatever they carry.
func TestNoLoops(t *testing.T) {
	for _, et := range []string{"", "Root", "AssumedRole"} {
		for _, name := range []string{"", "ConsoleLogin", "DetachPolicy", "CreateAccountResult"} {
			f := Fields{Source: FindingSource, DetailType: FindingDetailType, EventName: name, UserIdentityType: et}
			if fns := FunctionsFor(f); len(fns) > 0 {
				t.Errorf("a finding event %+v is routed to %v", f, fns)
			}
		}
	}
}

// TestEveryEvaluatorHasARoute: the functions that take CloudTrail events each have a route, and
// every route belongs to a known function.
func TestEveryEvaluatorHasARoute(t *testing.T) {
	for _, fn := range []string{RootActivity, SCPGuard, Onboarding} {
		if _, ok := For(fn); !ok {
			t.Errorf("%s has no route", fn)
		}
	}
	for _, r := range Table {
		if !slices.Contains(Functions, r.Function) {
			t.Errorf("route for unknown function %s", r.Function)
		}
	}
	both := Fields{Source: "aws.signin", DetailType: SignInDetailTypes[1], EventSource: "signin.amazonaws.com", EventName: "ConsoleLogin", UserIdentityType: "Root"}
	if fns := FunctionsFor(both); !slices.Equal(fns, []string{RootActivity}) {
		t.Errorf("the guide's sign-in spelling is routed to %v", fns)
	}
}

// evaluators are the functions that evaluate their rules on an event (not only drop facts).
func evaluators(f Fields) []string {
	return slices.DeleteFunc(FunctionsFor(f), func(fn string) bool { return !Evaluates(fn, f) })
}

// TestGuardEventsReachSCPGuard: the IAM and CloudTrail calls of the guard rules reach scp-guard's
// rules, and their harmless neighbours (turning a feature on, starting logging) reach no rule.
func TestGuardEventsReachSCPGuard(t *testing.T) {
	for _, tc := range []struct {
		source, eventSource, name string
		want                      []string
	}{
		{"aws.iam", "iam.amazonaws.com", "DisableOrganizationsRootCredentialsManagement", []string{SCPGuard}},
		{"aws.iam", "iam.amazonaws.com", "DisableOrganizationsRootSessions", []string{SCPGuard}},
		{"aws.iam", "iam.amazonaws.com", "EnableOrganizationsRootSessions", nil},
		{"aws.cloudtrail", "cloudtrail.amazonaws.com", "StopLogging", []string{SCPGuard}},
		{"aws.cloudtrail", "cloudtrail.amazonaws.com", "PutEventSelectors", []string{SCPGuard}},
		{"aws.cloudtrail", "cloudtrail.amazonaws.com", "StartLogging", nil},
		{"aws.organizations", "organizations.amazonaws.com", "CreatePolicy", []string{SCPGuard}},
		{"aws.organizations", "organizations.amazonaws.com", "AttachPolicy", []string{SCPGuard}},
	} {
		f := Fields{Source: tc.source, DetailType: "AWS API Call via CloudTrail", EventSource: tc.eventSource, EventName: tc.name, UserIdentityType: "AssumedRole"}
		if got := evaluators(f); !slices.Equal(got, tc.want) {
			t.Errorf("%s is routed to %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestTamperCallsReachSCPGuard: the calls FORWARDER-TAMPERED evaluates (the rule reads the same
// TamperPatterns) reach scp-guard, grants on rootguard's key and versioned Lambda names included.
func TestTamperCallsReachSCPGuard(t *testing.T) {
	for _, f := range []Fields{
		{Source: "aws.kms", DetailType: "AWS API Call via CloudTrail", EventSource: "kms.amazonaws.com", EventName: "CreateGrant"},
		{Source: "aws.lambda", DetailType: "AWS API Call via CloudTrail", EventSource: "lambda.amazonaws.com", EventName: "DeleteFunctionConcurrency20171031"},
		{Source: "aws.events", DetailType: "AWS API Call via CloudTrail", EventSource: "events.amazonaws.com", EventName: "DisableRule"},
	} {
		if got := FunctionsFor(f); len(got) != 1 || got[0] != SCPGuard {
			t.Errorf("%s %s reaches %v, want scp-guard", f.Source, f.EventName, got)
		}
	}
}
