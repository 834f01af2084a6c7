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
