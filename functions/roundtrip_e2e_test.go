//go:build linux

package functions

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/rootguard/rootguard/events"
	"github.com/rootguard/rootguard/internal/canary"
	"github.com/rootguard/rootguard/internal/function"
	"github.com/rootguard/rootguard/internal/org"
	"github.com/rootguard/rootguard/internal/route"
	"github.com/rootguard/rootguard/internal/routing"
	"github.com/rootguard/rootguard/internal/testenv/awsfake"
)

// TestCloudTrailRoundTrip runs the real heartbeat binary under the Lambda emulator against the
// fake AWS endpoints. A scheduled heartbeat assumes the management account's heartbeat role
// (fake STS) and writes /rootguard/heartbeat in every configured region (the fake SSM, through
// the real SDK client). The test then plays CloudTrail and the management forwarders: the
// recorded calls of two regions come back as the CloudTrail events EventBridge would forward,
// are routed by the routing table to the heartbeat, and counted: one EMF CloudTrailRoundTrip line
// per region in the function's log. The round-trip alarms, evaluated over those datapoints, stay
// OK for the two regions and fire for the region whose call never came back. A member
// account's write of the same parameter is refused with its reason.
func TestCloudTrailRoundTrip(t *testing.T) {
	snap, err := org.LoadSnapshot(bytes.NewReader(events.Org()))
	if err != nil {
		t.Fatal(err)
	}
	doc := snap.Doc()
	mgmt, central := doc.Organization.ManagementAccountID, "999988887777"
	fake, err := awsfake.New(doc, awsfake.Options{CallerAccount: central, RoleName: auditRole, OtherRoleNames: []string{canary.RoundTripRoleName}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	rie := tool(t, []string{"aws-lambda-rie"}, riePackage)
	bins := buildFunctions(t, filepath.Join(t.TempDir(), "bin"), []string{function.Heartbeat})
	regions := []string{"us-east-1", "eu-west-1", "ap-southeast-2"}
	roleARN := canary.RoundTripRoleARN(mgmt)
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "TZ=UTC", "AWS_LAMBDA_FUNCTION_TIMEOUT=30",
		"ROOTGUARD_EVENT_BUS=rootguard-org", "ROOTGUARD_HEARTBEAT_REGIONS=" + strings.Join(regions, ","),
		"ROOTGUARD_HEARTBEAT_ROLE_ARN=" + roleARN}
	for k, v := range fake.Env() {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	hb := startLambda(t, rie, function.Heartbeat, bins[function.Heartbeat], env)
	t.Cleanup(hb.proc.stop)
	defer func() {
		if t.Failed() {
			t.Logf("heartbeat log:\n%s", hb.proc.out.String())
		}
	}()

	at := time.Now().UTC().Truncate(time.Second)
	sched, _ := json.Marshal(map[string]any{"version": "0", "id": "sched-rt-1", "detail-type": "Scheduled Event", "source": "aws.events",
		"account": central, "time": at.Format(time.RFC3339), "region": "us-east-1", "resources": []string{}, "detail": map[string]any{}})
	if err := hb.invoke(ctx, sched); err != nil {
		t.Fatalf("heartbeat: %v", err)
	}

	// The PutParameter calls reached the fake: one per region, in the management account,
	// signed with the credentials of the assumed heartbeat role.
	puts := fake.SSMPuts()
	var got []string
	for _, p := range puts {
		got = append(got, p.Region)
		if p.Account != mgmt || p.AccessKeyID != "ASIA"+mgmt+"ROLE" || p.Name != canary.RoundTripParameter || p.Value != at.Format(time.RFC3339) {
			t.Errorf("put %+v: want %s = %s in the management account %s, as its role", p, canary.RoundTripParameter, at.Format(time.RFC3339), mgmt)
		}
	}
	if !sameRegions(got, regions) {
		t.Fatalf("PutParameter in %v, want %v", got, regions)
	}
	if n := fake.Calls(awsfake.STS, "AssumeRole"); n != 1 {
		t.Errorf("%d AssumeRole calls, want 1 (the role's credentials are cached)", n)
	}
	if n := len(fake.Events()); n != len(canary.Kinds) {
		t.Errorf("%d canaries on the bus, want %d (the round trip comes on top of them)", n, len(canary.Kinds))
	}

	// CloudTrail and the forwarders bring back the calls of two regions; the routing table
	// sends them to the heartbeat.
	for _, p := range puts {
		if p.Region == "ap-southeast-2" {
			continue // its call never comes back
		}
		ev := p.CloudTrailEvent(roleARN)
		var e struct {
			Source     string `json:"source"`
			DetailType string `json:"detail-type"`
			Detail     struct {
				EventSource, EventName string
				UserIdentity           struct{ Type string } `json:"userIdentity"`
				RequestParameters      struct{ Name string } `json:"requestParameters"`
			} `json:"detail"`
		}
		_ = json.Unmarshal(ev, &e)
		fns := routing.FunctionsFor(route.Fields{Source: e.Source, DetailType: e.DetailType, EventSource: e.Detail.EventSource,
			EventName: e.Detail.EventName, UserIdentityType: e.Detail.UserIdentity.Type, RequestName: e.Detail.RequestParameters.Name})
		if !slices.Equal(fns, []string{function.Heartbeat}) {
			t.Fatalf("the round trip from %s is routed to %v, want only the heartbeat", p.Region, fns)
		}
		if err := hb.invoke(ctx, ev); err != nil {
			t.Fatalf("round trip from %s: %v", p.Region, err)
		}
	}
	// A member account's own write of the parameter is refused with the reason.
	forged := puts[0]
	forged.Account = "444444444444"
	err = hb.invoke(ctx, forged.CloudTrailEvent("arn:aws:iam::444444444444:role/"+canary.RoundTripRoleName))
	var ie *invocationError
	if !errors.As(err, &ie) || !strings.Contains(ie.Message, "not the management account") {
		t.Errorf("a member's parameter write: %v, want it refused as not from the management account", err)
	}

	// The EMF lines in the log, and the alarms over them.
	points := roundTripPoints(t, hb.proc.out.String())
	counted := map[string]float64{}
	for _, p := range points {
		counted[p.Dimensions["Region"]] += p.Value
	}
	if counted["us-east-1"] != 1 || counted["eu-west-1"] != 1 || len(counted) != 2 {
		t.Errorf("CloudTrailRoundTrip counted %v, want us-east-1 and eu-west-1 once each", counted)
	}
	evalAt := at.Truncate(canary.RoundTripPeriod).Add(canary.RoundTripPeriod)
	var states []string
	for _, a := range canary.RoundTripAlarms(regions) {
		st, err := a.Evaluate(points, evalAt)
		if err != nil {
			t.Fatal(err)
		}
		states = append(states, fmt.Sprintf("%s %s", a.Name, st))
	}
	want := []string{"cloudtrail-round-trip-us-east-1 OK", "cloudtrail-round-trip-eu-west-1 OK", "cloudtrail-round-trip-ap-southeast-2 ALARM"}
	if !slices.Equal(states, want) {
		t.Errorf("alarm states %v, want %v", states, want)
	}
	t.Logf("round trip: %d PutParameter (regions %v), counted %v, alarms %v", len(puts), got, counted, states)
}

// roundTripPoints reads the CloudTrailRoundTrip datapoints of the EMF lines in a function's log.
func roundTripPoints(t *testing.T, log string) []canary.Datapoint {
	t.Helper()
	var out []canary.Datapoint
	sc := bufio.NewScanner(strings.NewReader(log))
	sc.Buffer(make([]byte, 0, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.Contains(line, `"_aws"`) || !strings.Contains(line, canary.RoundTripMetric) {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line[strings.Index(line, "{"):]), &m); err != nil {
			t.Fatalf("EMF line %q: %v", line, err)
		}
		aws, _ := m["_aws"].(map[string]any)
		ts, _ := aws["Timestamp"].(float64)
		dirs, _ := aws["CloudWatchMetrics"].([]any)
		dims := map[string]string{}
		for _, d := range dirs {
			for _, set := range jsonField(d, "Dimensions").([]any) {
				for _, name := range set.([]any) {
					dims[name.(string)] = fmt.Sprint(m[name.(string)])
				}
			}
			ns, _ := jsonField(d, "Namespace").(string)
			v, _ := m[canary.RoundTripMetric].(float64)
			out = append(out, canary.Datapoint{Namespace: ns, Metric: canary.RoundTripMetric, Dimensions: dims, Time: time.UnixMilli(int64(ts)), Value: v})
		}
	}
	return out
}

// jsonField is a field of a JSON object.
func jsonField(v any, key string) any {
	m, _ := v.(map[string]any)
	return m[key]
}

func sameRegions(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
