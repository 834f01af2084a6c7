package heartbeat_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/rootguard/rootguard/functions/internal/handler"
	"github.com/rootguard/rootguard/functions/internal/heartbeat"
	"github.com/rootguard/rootguard/functions/internal/notify"
	"github.com/rootguard/rootguard/internal/canary"
	"github.com/rootguard/rootguard/internal/cloudtrail"
	"github.com/rootguard/rootguard/internal/function"
	"github.com/rootguard/rootguard/internal/metric"
	"github.com/rootguard/rootguard/internal/org"
	"github.com/rootguard/rootguard/internal/route"
	"github.com/rootguard/rootguard/internal/routing"
	"github.com/rootguard/rootguard/internal/rule"
)

// The heartbeat's whole path, in process: the heartbeat handler puts the canaries on a fake
// central bus; the routing table (as the central rules apply it, canary patterns only for the
// central account) hands them to the real evaluator handlers (real engine, canary facts); those
// put their findings on a fake findings bus; the real notifier handler takes them, with real
// senders over fake SNS and Security Hub clients. Every function writes its EMF metric lines to
// one log, as CloudWatch Logs gathers them, and the heartbeat alarms of package canary are
// evaluated over the datapoints of that log.

const (
	centralAccount = "999988887777"
	region         = "eu-west-1"
	staxDomain     = "stax.example"
)

// groups are the rule groups each evaluator function evaluates (as functions/<name>/main.go).
var groups = map[string][]rule.Group{
	function.RootActivity: {rule.GroupRoot},
	function.SCPGuard:     {rule.GroupProtection},
	function.Onboarding:   {rule.GroupOnboarding},
}

// bus is a fake event bus: PutEvents queues the entries as the events a rule target receives,
// refusing the entries refuse selects.
type bus struct {
	now    func() time.Time
	events []json.RawMessage
	n      int
	refuse func(e ebtypes.PutEventsRequestEntry) bool
}

func (b *bus) PutEvents(_ context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	out := &eventbridge.PutEventsOutput{}
	for _, e := range in.Entries {
		if b.refuse != nil && b.refuse(e) {
			out.FailedEntryCount++
			out.Entries = append(out.Entries, ebtypes.PutEventsResultEntry{ErrorCode: aws.String("InternalFailure"), ErrorMessage: aws.String("injected")})
			continue
		}
		b.n++
		id := fmt.Sprintf("bus-event-%d", b.n)
		at := b.now()
		if e.Time != nil {
			at = *e.Time
		}
		raw, err := json.Marshal(map[string]any{
			"version": "0", "id": id, "detail-type": aws.ToString(e.DetailType), "source": aws.ToString(e.Source),
			"account": centralAccount, "time": at.UTC().Format(time.RFC3339), "region": region, "resources": []string{},
			"detail": json.RawMessage(aws.ToString(e.Detail)),
		})
		if err != nil {
			return nil, err
		}
		b.events = append(b.events, raw)
		out.Entries = append(out.Entries, ebtypes.PutEventsResultEntry{EventId: aws.String(id)})
	}
	return out, nil
}

func (b *bus) drain() []json.RawMessage {
	out := b.events
	b.events = nil
	return out
}

// liveFacts stands for the organization read through AWS: a canary must never reach it.
type liveFacts struct{ calls int }

func (l *liveFacts) For(context.Context) org.Facts { l.calls++; return org.Empty{} }
func (l *liveFacts) Invalidate(*cloudtrail.Event)  { l.calls++ }
func (l *liveFacts) String() string                { return fmt.Sprintf("%d live facts calls", l.calls) }
func quiet() *slog.Logger                          { return slog.New(slog.NewJSONHandler(io.Discard, nil)) }
func scheduled(at time.Time) json.RawMessage       { return schedule(heartbeat.ScheduledSource, at) }
func schedule(src string, at time.Time) json.RawMessage {
	return envelope(src, heartbeat.ScheduledDetailType, at, "{}")
}

func envelope(source, detailType string, at time.Time, detail string) json.RawMessage {
	raw, _ := json.Marshal(map[string]any{"version": "0", "id": "sched-" + at.Format("1504"), "detail-type": detailType,
		"source": source, "account": centralAccount, "time": at.UTC().Format(time.RFC3339), "region": region,
		"resources": []string{}, "detail": json.RawMessage(detail)})
	return raw
}

type snsFake struct{ published []string }

func (s *snsFake) Publish(_ context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	s.published = append(s.published, aws.ToString(in.TopicArn)+": "+aws.ToString(in.Subject))
	return &sns.PublishOutput{MessageId: aws.String("m")}, nil
}

type hubFake struct{ imported []string }

func (h *hubFake) BatchImportFindings(_ context.Context, in *securityhub.BatchImportFindingsInput, _ ...func(*securityhub.Options)) (*securityhub.BatchImportFindingsOutput, error) {
	for _, f := range in.Findings {
		h.imported = append(h.imported, aws.ToString(f.Id))
	}
	return &securityhub.BatchImportFindingsOutput{FailedCount: aws.Int32(0), SuccessCount: aws.Int32(int32(len(in.Findings)))}, nil
}

// pipeline is rootguard with one stage possibly broken.
type pipeline struct {
	t     *testing.T
	clock time.Time
	// logs gathers every function's EMF lines, as CloudWatch Logs does.
	logs bytes.Buffer

	orgBus, findingsBus *bus
	heartbeat           *heartbeat.Handler
	table               []route.Route
	evaluators          map[string]*handler.Evaluator
	notifier            *notify.Handler
	live                *liveFacts
	sns                 *snsFake
	hub                 *hubFake

	// Breakers: skipHeartbeat skips the runs it returns true for; notifierDown fails every
	// notifier invocation before its handler runs; inTransit rewrites a finding event on its way
	// to the notifier.
	skipHeartbeat func(run int) bool
	notifierDown  bool
	inTransit     func(raw json.RawMessage) json.RawMessage

	// errs are the errors the functions returned, by function (Lambda retries them, then keeps
	// the event in the on-failure queue).
	errs map[string][]error
}

func newPipeline(t *testing.T) *pipeline {
	t.Helper()
	p := &pipeline{t: t, table: slices.Clone(routing.Table), evaluators: map[string]*handler.Evaluator{}, live: &liveFacts{},
		sns: &snsFake{}, hub: &hubFake{}, errs: map[string][]error{}}
	now := func() time.Time { return p.clock }
	recorder := func(fn string) *metric.Recorder {
		m := metric.New(&p.logs, fn)
		m.SetClock(now)
		return m
	}
	p.orgBus, p.findingsBus = &bus{now: now}, &bus{now: now}
	p.heartbeat = &heartbeat.Handler{API: p.orgBus, Bus: "rootguard", Log: quiet(), Metrics: recorder(function.Heartbeat), Now: now}
	eng, err := rule.NewEngine(rule.Config{StaxDomains: []string{staxDomain}})
	if err != nil {
		t.Fatal(err)
	}
	for fn, gs := range groups {
		p.evaluators[fn] = &handler.Evaluator{Function: fn, Engine: eng, Groups: gs, Facts: p.live,
			Out: &handler.Bus{API: p.findingsBus, Name: "rootguard-findings", Backoff: time.Nanosecond},
			Log: quiet(), Metrics: recorder(fn), Now: now, CentralAccount: centralAccount,
			Sleep: func(context.Context, time.Duration) error { return errors.New("a canary must not wait") }}
	}
	p.evaluators[function.Onboarding].OnboardingWait = time.Minute
	p.notifier = &notify.Handler{Log: quiet(), Metrics: recorder(function.Notifier), Channels: []notify.Channel{
		{Name: notify.ChannelAlerts, MinSeverity: 0, People: true, Sender: &notify.Alerts{API: p.sns, TopicARN: "arn:aws:sns:eu-west-1:999988887777:rootguard-alerts"}},
		{Name: notify.ChannelChat, MinSeverity: 0, People: true, Sender: &notify.Chat{API: p.sns, TopicARN: "arn:aws:sns:eu-west-1:999988887777:rootguard-chat"}},
		{Name: notify.ChannelSecurityHub, MinSeverity: 0, Sender: &notify.SecurityHub{API: p.hub, Region: region, Now: now,
			Account: func(context.Context) (string, error) { return centralAccount, nil }}},
	}}
	return p
}

// routed lists the functions whose routes (in p.table) take an event put by account, as the
// central rules do: a canary pattern takes only the central account's events.
func (p *pipeline) routed(raw json.RawMessage) []string {
	ev, err := cloudtrail.Decode(raw)
	if err != nil {
		p.t.Fatalf("an event on the central bus cannot be decoded: %v", err)
	}
	f := handler.Fields(ev)
	var out []string
	for _, r := range p.table {
		if slices.ContainsFunc(r.Patterns, func(pt route.Pattern) bool {
			return pt.Matches(f) && (!pt.Canary || ev.Envelope.Account == centralAccount)
		}) {
			out = append(out, r.Function)
		}
	}
	return out
}

// run is one heartbeat period: the schedule fires at the period's start plus 30 s, and every
// stage runs a few seconds later.
func (p *pipeline) run(i int, at time.Time) {
	ctx := context.Background()
	p.clock = at
	if p.skipHeartbeat == nil || !p.skipHeartbeat(i) {
		if err := p.heartbeat.Handle(ctx, scheduled(at)); err != nil {
			p.errs[function.Heartbeat] = append(p.errs[function.Heartbeat], err)
		}
	}
	p.clock = at.Add(2 * time.Second)
	for _, raw := range p.orgBus.drain() {
		for _, fn := range p.routed(raw) {
			if err := p.evaluators[fn].Handle(ctx, raw); err != nil {
				p.errs[fn] = append(p.errs[fn], err)
			}
		}
	}
	p.clock = at.Add(4 * time.Second)
	for _, raw := range p.findingsBus.drain() {
		var ev struct {
			Source     string `json:"source"`
			DetailType string `json:"detail-type"`
		}
		if err := json.Unmarshal(raw, &ev); err != nil || ev.Source != route.FindingSource || ev.DetailType != route.FindingDetailType {
			continue // the findings rule takes nothing else
		}
		if p.inTransit != nil {
			raw = p.inTransit(raw)
		}
		if p.notifierDown {
			p.errs[function.Notifier] = append(p.errs[function.Notifier], errors.New("notifier: Runtime.ExitError"))
			continue
		}
		if err := p.notifier.Handle(ctx, raw); err != nil {
			p.errs[function.Notifier] = append(p.errs[function.Notifier], err)
		}
	}
}

// datapoints reads the EMF lines of every function.
func datapoints(t *testing.T, logs []byte) []canary.Datapoint {
	t.Helper()
	var out []canary.Datapoint
	sc := bufio.NewScanner(bytes.NewReader(logs))
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("metric line %q: %v", sc.Text(), err)
		}
		var meta struct {
			Timestamp         int64
			CloudWatchMetrics []struct {
				Namespace  string
				Dimensions [][]string
				Metrics    []struct{ Name string }
			}
		}
		b, _ := json.Marshal(line["_aws"])
		if err := json.Unmarshal(b, &meta); err != nil || len(meta.CloudWatchMetrics) == 0 {
			t.Fatalf("metric line %q is not EMF: %v", sc.Text(), err)
		}
		for _, d := range meta.CloudWatchMetrics {
			for _, set := range d.Dimensions {
				dims := map[string]string{}
				for _, name := range set {
					dims[name], _ = line[name].(string)
				}
				for _, m := range d.Metrics {
					v, _ := line[m.Name].(float64)
					out = append(out, canary.Datapoint{Namespace: d.Namespace, Metric: m.Name, Dimensions: dims, Time: time.UnixMilli(meta.Timestamp).UTC(), Value: v})
				}
			}
		}
	}
	return out
}

// periods of the test: the heartbeat runs at the start of three periods, and the alarms are
// evaluated just after the third ends (over the second and third).
var (
	start   = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	runs    = 3
	checkAt = start.Add(time.Duration(runs)*canary.Period + 5*time.Second)
)

// states runs the pipeline over the periods and returns each heartbeat alarm's state, by rule.
func (p *pipeline) states() map[string]canary.State {
	p.t.Helper()
	for i := range runs {
		p.run(i, start.Add(time.Duration(i)*canary.Period+30*time.Second))
	}
	points := datapoints(p.t, p.logs.Bytes())
	out := map[string]canary.State{}
	for _, a := range canary.Alarms() {
		s, err := a.Evaluate(points, checkAt)
		if err != nil {
			p.t.Fatal(err)
		}
		out[a.Kind.Rule] = s
	}
	return out
}

// expect returns the wanted states: ALARM for the rules given, OK for the others.
func expect(alarming ...string) map[string]canary.State {
	out := map[string]canary.State{}
	for _, k := range canary.Kinds {
		out[k.Rule] = canary.StateOK
		if slices.Contains(alarming, k.Rule) {
			out[k.Rule] = canary.StateAlarm
		}
	}
	return out
}

func allRules() []string {
	var out []string
	for _, k := range canary.Kinds {
		out = append(out, k.Rule)
	}
	return out
}

// findingRule reads the rule of a finding event (or a finding bus entry's detail).
func findingRule(detail string) string {
	var f struct {
		Rule string `json:"rule"`
	}
	_ = json.Unmarshal([]byte(detail), &f)
	return f.Rule
}

// scenario is one way of breaking the pipeline, and what must follow.
type scenario struct {
	name       string
	breakStage func(p *pipeline)
	want       map[string]canary.State
	// check looks at the pipeline afterwards (the breakage happened as intended).
	check func(t *testing.T, p *pipeline)
}

func scenarios() []scenario {
	out := []scenario{
		{name: "every stage works", breakStage: func(*pipeline) {}, want: expect(),
			check: func(t *testing.T, p *pipeline) {
				if len(p.errs) > 0 {
					t.Errorf("functions failed: %v", p.errs)
				}
			}},
		{name: "no heartbeat run", breakStage: func(p *pipeline) { p.skipHeartbeat = func(int) bool { return true } }, want: expect(allRules()...)},
		{name: "one heartbeat missed is tolerated", breakStage: func(p *pipeline) { p.skipHeartbeat = func(i int) bool { return i == runs-1 } }, want: expect()},
		{name: "two heartbeats missed in a row", breakStage: func(p *pipeline) { p.skipHeartbeat = func(i int) bool { return i >= runs-2 } }, want: expect(allRules()...)},
		{name: "notifier down", breakStage: func(p *pipeline) { p.notifierDown = true }, want: expect(allRules()...),
			check: func(t *testing.T, p *pipeline) {
				// The evaluators did count their canary findings: the alarms must not take them.
				n := 0
				for _, d := range datapoints(t, p.logs.Bytes()) {
					if d.Metric == canary.MetricName && d.Dimensions["Function"] != function.Notifier {
						n++
					}
				}
				if n == 0 {
					t.Error("no evaluator counted a canary finding: the scenario does not show that the alarms ignore them")
				}
			}},
	}
	for i, k := range canary.Kinds {
		other := canary.Kinds[(i+1)%len(canary.Kinds)]
		out = append(out,
			scenario{name: k.Name + ": central bus refuses its canary", want: expect(k.Rule),
				breakStage: func(p *pipeline) {
					p.orgBus.refuse = func(e ebtypes.PutEventsRequestEntry) bool {
						return strings.Contains(aws.ToString(e.Detail), fmt.Sprintf("rootguard-canary-%s-", k.Name))
					}
				},
				check: func(t *testing.T, p *pipeline) {
					if len(p.errs[function.Heartbeat]) != runs {
						t.Errorf("heartbeat errors %v: a partial failure must fail every run", p.errs[function.Heartbeat])
					}
				}},
			scenario{name: k.Name + ": its canary pattern missing from the route", want: expect(k.Rule),
				breakStage: func(p *pipeline) {
					for i, r := range p.table {
						if r.Function == k.Function {
							r.Patterns = slices.DeleteFunc(slices.Clone(r.Patterns), func(pt route.Pattern) bool { return pt.Canary })
							p.table[i] = r
						}
					}
				}},
			scenario{name: k.Name + ": its evaluator refuses the event", want: expect(k.Rule),
				// Another evaluator's code behind this function's rule (a mixed-up deployment).
				breakStage: func(p *pipeline) {
					e := *p.evaluators[other.Function]
					p.evaluators[k.Function] = &e
				},
				check: func(t *testing.T, p *pipeline) {
					if errs := p.errs[k.Function]; len(errs) != runs || !errors.Is(errs[0], handler.ErrNotRouted) {
						t.Errorf("%s errors %v, want it to refuse every canary as not routed", k.Function, errs)
					}
				}},
			scenario{name: k.Name + ": findings bus refuses its finding", want: expect(k.Rule),
				breakStage: func(p *pipeline) {
					p.findingsBus.refuse = func(e ebtypes.PutEventsRequestEntry) bool { return findingRule(aws.ToString(e.Detail)) == k.Rule }
				},
				check: func(t *testing.T, p *pipeline) {
					if len(p.errs[k.Function]) != runs {
						t.Errorf("%s errors %v, want every run to fail putting its finding", k.Function, p.errs[k.Function])
					}
				}},
			scenario{name: k.Name + ": notifier cannot read its finding", want: expect(k.Rule),
				// The finding arrives without a severity (say, a producer and a notifier of
				// different versions): the notifier refuses it.
				breakStage: func(p *pipeline) {
					p.inTransit = func(raw json.RawMessage) json.RawMessage {
						var ev map[string]any
						_ = json.Unmarshal(raw, &ev)
						d, _ := ev["detail"].(map[string]any)
						if d["rule"] != k.Rule {
							return raw
						}
						delete(d, "severity")
						out, _ := json.Marshal(ev)
						return out
					}
				},
				check: func(t *testing.T, p *pipeline) {
					errs := p.errs[function.Notifier]
					if len(errs) == 0 || !slices.ContainsFunc(errs, func(e error) bool { return errors.Is(e, notify.ErrNotFinding) }) {
						t.Errorf("notifier errors %v, want it to refuse the finding", errs)
					}
				}},
		)
	}
	return out
}

// TestHeartbeatAlarmFiresWhenAStageIsBroken: every heartbeat alarm is OK when every stage works;
// breaking one stage raises the alarm of every canary rule it affects, and only those.
func TestHeartbeatAlarmFiresWhenAStageIsBroken(t *testing.T) {
	for _, sc := range scenarios() {
		t.Run(sc.name, func(t *testing.T) {
			p := newPipeline(t)
			sc.breakStage(p)
			got := p.states()
			for _, k := range canary.Kinds {
				if got[k.Rule] != sc.want[k.Rule] {
					t.Errorf("alarm rootguard-heartbeat-%s (%s) is %s, want %s", k.Name, k.Rule, got[k.Rule], sc.want[k.Rule])
				}
			}
			if sc.check != nil {
				sc.check(t, p)
			}
			if p.live.calls != 0 {
				t.Errorf("%s: a canary read the live organization", p.live)
			}
			if len(p.sns.published) > 0 || len(p.hub.imported) > 0 {
				t.Errorf("canaries delivered: SNS %v, Security Hub %v", p.sns.published, p.hub.imported)
			}
		})
	}
}

// TestCanaryNeverDelivered: the notifier sends a canary finding to no channel, neither SNS
// (email, chat) nor Security Hub, and counts it; the same finding without the canary mark goes
// to all three (so the fakes do see deliveries).
func TestCanaryNeverDelivered(t *testing.T) {
	p := newPipeline(t)
	at := start.Add(30 * time.Second)
	p.clock = at
	if err := p.heartbeat.Handle(context.Background(), scheduled(at)); err != nil {
		t.Fatal(err)
	}
	for _, raw := range p.orgBus.drain() {
		for _, fn := range p.routed(raw) {
			if err := p.evaluators[fn].Handle(context.Background(), raw); err != nil {
				t.Fatal(err)
			}
		}
	}
	findings := p.findingsBus.drain()
	var rules []string
	for _, raw := range findings {
		_, f, err := notify.DecodeFinding(raw)
		if err != nil {
			t.Fatal(err)
		}
		if !f.Canary {
			t.Errorf("finding %s (%s) of a canary is not marked as one", f.ID, f.Rule)
		}
		rules = append(rules, f.Rule)
		if err := p.notifier.Handle(context.Background(), raw); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range canary.Kinds {
		if !slices.Contains(rules, k.Rule) {
			t.Errorf("no %s finding among %v", k.Rule, rules)
		}
	}
	if len(p.sns.published) > 0 || len(p.hub.imported) > 0 {
		t.Errorf("canaries delivered: SNS %v, Security Hub %v", p.sns.published, p.hub.imported)
	}
	counted := map[string]float64{}
	for _, d := range datapoints(t, p.logs.Bytes()) {
		if d.Metric == canary.MetricName && d.Dimensions["Function"] == function.Notifier {
			counted[d.Dimensions["Rule"]] += d.Value
		}
	}
	for _, r := range rules {
		if counted[r] == 0 {
			t.Errorf("the notifier did not count the %s canary finding (counts %v)", r, counted)
		}
	}

	// The control: unmarked, the same findings reach every channel.
	for _, raw := range findings {
		var ev map[string]any
		_ = json.Unmarshal(raw, &ev)
		delete(ev["detail"].(map[string]any), "canary")
		plain, _ := json.Marshal(ev)
		if err := p.notifier.Handle(context.Background(), plain); err != nil {
			t.Fatal(err)
		}
	}
	if len(p.sns.published) != 2*len(findings) || len(p.hub.imported) != len(findings) {
		t.Errorf("unmarked findings: %d SNS publishes, %d Security Hub imports, want %d and %d",
			len(p.sns.published), len(p.hub.imported), 2*len(findings), len(findings))
	}
}

// TestScheduledEventConstants: the heartbeat takes the same scheduled events as the audit.
func TestScheduledEventConstants(t *testing.T) {
	if heartbeat.ScheduledSource != handler.ScheduledSource || heartbeat.SchedulerSource != handler.SchedulerSource ||
		heartbeat.ScheduledDetailType != handler.ScheduledDetailType {
		t.Error("heartbeat and handler disagree on scheduled events")
	}
	// A schedule from EventBridge Scheduler works end to end too.
	p := newPipeline(t)
	if err := p.heartbeat.Handle(context.Background(), schedule(heartbeat.SchedulerSource, start)); err != nil {
		t.Fatal(err)
	}
	if n := len(p.orgBus.drain()); n != len(canary.Kinds) {
		t.Errorf("%d canaries on the bus, want %d", n, len(canary.Kinds))
	}
}
