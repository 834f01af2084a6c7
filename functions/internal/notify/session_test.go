package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/go-cmp/cmp"

	"github.com/rootguard/rootguard/events"
	"github.com/rootguard/rootguard/internal/cloudtrail"
	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/org"
	"github.com/rootguard/rootguard/internal/rule"
)

// updates records the session updates each channel received: the finding's severity and new
// calls, in order. It can fail the next n sends.
type updates struct {
	mu   sync.Mutex
	got  []string
	fail int
}

func (u *updates) Send(_ context.Context, fs []finding.Finding) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.fail > 0 {
		u.fail--
		return fmt.Errorf("injected send failure")
	}
	for _, f := range fs {
		u.got = append(u.got, f.Severity.String()+" new="+strings.Join(f.NewCalls, ","))
	}
	return nil
}

func (u *updates) list() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.got)
}

type sessionChannels struct{ alerts, chat, hub *updates }

func sessionHandler(t *testing.T, log io.Writer) (*Handler, sessionChannels, *DynamoLedger) {
	t.Helper()
	h, _ := ledgerHandler(t, log)
	cs := sessionChannels{&updates{}, &updates{}, &updates{}}
	h.Channels[0].Sender, h.Channels[1].Sender, h.Channels[2].Sender = cs.alerts, cs.chat, cs.hub
	l := h.Ledger.(*DynamoLedger)
	h.Sessions = l
	return h, cs, l
}

// call is one call of a root session, as the rules report it.
func call(id, name string, sev finding.Severity, readOnly bool) finding.Finding {
	f := sample(id, sev)
	f.Rule, f.Title, f.EventID, f.EventName = "ROOT-ACTIVITY", "Root activity on stax-sandbox-1", "e-"+name, name
	f.Calls = []string{name}
	if !readOnly {
		f.WriteCalls = []string{name}
	}
	f.Description = "The root user called " + name + "." + callsMarker + name + "."
	return f
}

func TestSessionUpdates(t *testing.T) {
	ctx := context.Background()
	h, cs, _ := sessionHandler(t, io.Discard)
	var delivered []finding.Finding
	h.Channels[0].Sender = senderFunc(func(_ context.Context, fs []finding.Finding) error {
		delivered = append(delivered, fs...)
		return cs.alerts.Send(ctx, fs)
	})
	steps := []finding.Finding{
		call("s1", "s3:ListBuckets (read-only)", finding.Low, true),
		call("s1", "iam:ListUsers (read-only)", finding.Low, true), // read-only: no update
		call("s1", "iam:CreateUser", finding.High, false),
		call("s1", "iam:GetUser (read-only)", finding.Low, true), // read-only: no update
		call("s1", "iam:CreateUser", finding.High, false),        // a known write: no update
		call("s1", "iam:AttachUserPolicy", finding.High, false),
		call("s1", "cloudtrail:DeleteTrail (failed)", finding.Low, false), // a failed write is still new
		call("s1", "iam:AttachUserPolicy", finding.High, false),
	}
	for i, f := range steps {
		if err := h.Handle(ctx, event(t, f)); err != nil {
			t.Fatalf("call %d (%s): %v", i, f.Calls[0], err)
		}
	}
	want := []string{"LOW new=", "HIGH new=iam:CreateUser", "HIGH new=iam:AttachUserPolicy", "HIGH new=cloudtrail:DeleteTrail (failed)"}
	if diff := cmp.Diff(want, cs.alerts.list()); diff != "" {
		t.Errorf("alerts (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want[1:], cs.chat.list()); diff != "" {
		t.Errorf("chat, minimum MEDIUM (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, cs.hub.list()); diff != "" {
		t.Errorf("securityhub (-want +got):\n%s", diff)
	}
	last := delivered[len(delivered)-1]
	wantCalls := []string{"cloudtrail:DeleteTrail (failed)", "iam:AttachUserPolicy", "iam:CreateUser", "iam:GetUser (read-only)", "iam:ListUsers (read-only)", "s3:ListBuckets (read-only)"}
	if diff := cmp.Diff(wantCalls, last.Calls); diff != "" {
		t.Errorf("last update's calls, new first (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"cloudtrail:DeleteTrail (failed)", "iam:AttachUserPolicy", "iam:CreateUser"}, last.WriteCalls); diff != "" {
		t.Errorf("last update's write calls (-want +got):\n%s", diff)
	}
	wantDesc := "New calls in this session: cloudtrail:DeleteTrail (failed). The root user called cloudtrail:DeleteTrail (failed)." +
		callsMarker + strings.Join(wantCalls, ", ") + "."
	if last.Description != wantDesc {
		t.Errorf("description:\n got %q\nwant %q", last.Description, wantDesc)
	}
	if last.Severity != finding.High || last.ID != "s1" {
		t.Errorf("last update: %s %s, want s1 HIGH (the session's highest severity, same finding id)", last.ID, last.Severity)
	}
}

type senderFunc func(context.Context, []finding.Finding) error

func (s senderFunc) Send(ctx context.Context, fs []finding.Finding) error { return s(ctx, fs) }

// TestSessionUpdatesConcurrent: a session opened by a first alert, then 20 calls (5 new writes,
// 3 repeated writes, 12 read-only), each sent twice at once by 8 notifiers racing, while each
// channel fails some sends (retried as Lambda retries): every channel gets exactly 5 updates,
// one per new write, none lost, none twice.
func TestSessionUpdatesConcurrent(t *testing.T) {
	ctx := context.Background()
	var log syncBuf
	h, cs, _ := sessionHandler(t, &log)
	if err := h.Handle(ctx, event(t, call("s2", "sts:GetCallerIdentity (read-only)", finding.Low, true))); err != nil {
		t.Fatal(err)
	}
	writes := []string{"iam:CreateUser", "iam:AttachUserPolicy", "iam:CreateAccessKey", "cloudtrail:StopLogging", "s3:PutBucketPolicy"}
	var calls []finding.Finding
	for _, w := range writes {
		calls = append(calls, call("s2", w, finding.High, false))
	}
	for i := range 3 {
		calls = append(calls, call("s2", writes[i], finding.High, false))
	}
	for i := range 12 {
		calls = append(calls, call("s2", fmt.Sprintf("s3:GetObject%d (read-only)", i), finding.Low, true))
	}
	rng := rand.New(rand.NewPCG(7, 11))
	rng.Shuffle(len(calls), func(i, j int) { calls[i], calls[j] = calls[j], calls[i] })
	cs.alerts.fail, cs.chat.fail, cs.hub.fail = 3, 2, 2

	queue := make(chan finding.Finding)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failed []string
	for range 8 {
		wg.Go(func() {
			for f := range queue {
				var err error
				for range 3 { // Lambda's attempt and two retries
					hc := *h
					if err = hc.Handle(ctx, event(t, f)); err == nil {
						break
					}
				}
				if err != nil {
					mu.Lock()
					failed = append(failed, err.Error())
					mu.Unlock()
				}
			}
		})
	}
	for _, f := range calls {
		queue <- f
		queue <- f // EventBridge delivers an event twice at times
	}
	close(queue)
	wg.Wait()
	if len(failed) > 0 {
		t.Fatalf("invocations failed after retries: %v", failed)
	}
	for name, u := range map[string]*updates{"alerts": cs.alerts, "chat": cs.chat, "securityhub": cs.hub} {
		var got []string
		for _, s := range u.list() {
			if s != "LOW new=" { // the first alert
				got = append(got, s)
			}
		}
		var want []string
		for _, w := range writes {
			want = append(want, "HIGH new="+w)
		}
		slices.Sort(got)
		slices.Sort(want)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s updates (-want +got):\n%s", name, diff)
		}
	}
}

// TestSessionFromRules: the notifier understands the session findings the rules raise (calls,
// write calls and the description's list of calls).
func TestSessionFromRules(t *testing.T) {
	ctx := context.Background()
	raw, err := events.Read("ROOT-ACTIVITY/MEDIUM.one-root-session-three-calls.json")
	if err != nil {
		t.Fatal(err)
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(raw, &raws); err != nil {
		t.Fatal(err)
	}
	var evs []*cloudtrail.Event
	for _, r := range raws {
		ev, err := cloudtrail.Decode(r)
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	facts, err := org.LoadSnapshot(bytes.NewReader(events.Org()))
	if err != nil {
		t.Fatal(err)
	}
	eng, err := rule.NewEngine(rule.Config{StaxDomains: []string{"stax.example"}, ProtectionSCPNames: []string{"Stax-Protection*"}})
	if err != nil {
		t.Fatal(err)
	}
	h, cs, _ := sessionHandler(t, io.Discard)
	var last finding.Finding
	h.Channels[2].Sender = senderFunc(func(_ context.Context, fs []finding.Finding) error {
		last = fs[len(fs)-1]
		return cs.hub.Send(ctx, fs)
	})
	var writes []string
	for _, ev := range evs {
		for _, f := range eng.Evaluate(ev, facts) {
			if !ev.ReadOnly.Bool() && !slices.Equal(f.WriteCalls, f.Calls) {
				t.Errorf("%s: write calls %v, want the call %v", ev.EventName, f.WriteCalls, f.Calls)
			}
			if ev.ReadOnly.Bool() && len(f.WriteCalls) > 0 {
				t.Errorf("%s (read-only): write calls %v, want none", ev.EventName, f.WriteCalls)
			}
			writes = append(writes, f.WriteCalls...)
			if err := h.Deliver(ctx, f); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(writes) == 0 || len(cs.hub.list()) == 0 {
		t.Fatalf("the sample raised no session write call (%v) or nothing was delivered (%v)", writes, cs.hub.list())
	}
	if strings.Count(last.Description, callsMarker) != 1 || !strings.HasSuffix(last.Description, strings.Join(last.Calls, ", ")+".") {
		t.Errorf("the delivered description does not end with the session's calls once:\n%s", last.Description)
	}
}

// TestNewCallsAttribute: a session update's new calls travel as the newCalls message attribute
// of both SNS channels, as one escaped line; other findings carry no such attribute.
func TestNewCallsAttribute(t *testing.T) {
	api := &fakeSNS{}
	f := call("s3", "iam:CreateUser", finding.High, false)
	f.NewCalls = []string{"iam:CreateUser", "evil:Call\x1b[31m\r\n<!here>"}
	senders := []Sender{&Alerts{API: api, TopicARN: "arn:aws:sns:us-east-1:111111111111:alerts"}, &Chat{API: api, TopicARN: "arn:aws:sns:us-east-1:111111111111:chat"}}
	for _, s := range senders {
		if err := s.Send(context.Background(), []finding.Finding{f, sample("plain", finding.High)}); err != nil {
			t.Fatal(err)
		}
	}
	if len(api.in) != 4 {
		t.Fatalf("%d publishes, want 4", len(api.in))
	}
	for i, in := range api.in {
		v, ok := in.MessageAttributes["newCalls"]
		if i%2 == 1 {
			if ok {
				t.Errorf("publish %d of a finding without new calls has newCalls %q", i, aws.ToString(v.StringValue))
			}
			continue
		}
		got := aws.ToString(v.StringValue)
		if !strings.HasPrefix(got, "iam:CreateUser, evil:Call") || strings.ContainsAny(got, "\x1b\r\n") {
			t.Errorf("publish %d: newCalls %q, want the calls on one escaped line", i, got)
		}
	}
}

func ExampleSessionID() {
	fmt.Println(SessionID("root-activity-1f2e"))
	fmt.Println(Key{FindingID: "root-activity-1f2e", Update: "2-" + setHash([]string{"iam:CreateUser", "iam:AttachUserPolicy"})}.ID())
	// Output:
	// finding#root-activity-1f2e#session
	// finding#root-activity-1f2e#calls-2-c1e23c3cce485013
}
