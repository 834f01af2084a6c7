package routing

import (
	"fmt"
	"strings"
	"testing"

	"github.com/rootguard/rootguard/internal/function"
	"github.com/rootguard/rootguard/internal/route"
)

// TestOnlyAWSSources: every CloudTrail pattern admits only sources AWS writes (exact aws.*
// values or the aws. prefix), so an event someone put on the central bus with a custom source
// and the CloudTrail detail-type reaches no function; only the heartbeat's patterns take the
// canary source (the infrastructure adds the central account to them).
func TestOnlyAWSSources(t *testing.T) {
	for _, r := range Table {
		for i, p := range r.Patterns {
			at := fmt.Sprintf("%s pattern %d", r.Function, i)
			if p.Canary {
				if len(p.Sources) != 1 || p.Sources[0] != route.CanarySource || len(p.SourcePrefixes) > 0 {
					t.Errorf("%s: a canary pattern takes sources %v %v, want only %s", at, p.Sources, p.SourcePrefixes, route.CanarySource)
				}
				continue
			}
			if len(p.Sources) == 0 && len(p.SourcePrefixes) == 0 {
				t.Errorf("%s: no source filter: any source would match", at)
			}
			for _, s := range p.Sources {
				if !strings.HasPrefix(s, route.AWSSource) {
					t.Errorf("%s: source %q is not an AWS source", at, s)
				}
			}
			for _, s := range p.SourcePrefixes {
				if s != route.AWSSource {
					t.Errorf("%s: source prefix %q, want %q", at, s, route.AWSSource)
				}
			}
		}
	}
}

// TestForgedSourcesReachNothing: the reproduction (a custom source with the CloudTrail
// detail-type and a root identity) and look-alikes of the AWS prefix reach no function.
func TestForgedSourcesReachNothing(t *testing.T) {
	for _, src := range []string{"acme.forged", "", "aws", "AWS.iam", "notaws.iam", "rootguard", "xaws.signin"} {
		for _, f := range []route.Fields{
			{Source: src, DetailType: route.APICall, EventSource: "iam.amazonaws.com", EventName: "CreateUser", UserIdentityType: "Root"},
			{Source: src, DetailType: route.SignInDetailTypes[0], EventSource: "signin.amazonaws.com", EventName: "ConsoleLogin", UserIdentityType: "Root"},
			{Source: src, DetailType: route.APICall, EventSource: "organizations.amazonaws.com", EventName: "DetachPolicy", UserIdentityType: "AssumedRole"},
		} {
			if fns := FunctionsFor(f); len(fns) > 0 {
				t.Errorf("%+v reaches %v", f, fns)
			}
		}
	}
	genuine := route.Fields{Source: "aws.s3", DetailType: route.APICall, EventSource: "s3.amazonaws.com", EventName: "DeleteBucketPolicy", UserIdentityType: "Root"}
	if fns := FunctionsFor(genuine); len(fns) != 1 || fns[0] != function.RootActivity {
		t.Errorf("a genuine root S3 call reaches %v, want root-activity", fns)
	}
}
