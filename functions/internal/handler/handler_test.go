package handler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/google/go-cmp/cmp"

	"github.com/rootguard/rootguard/events"
	"github.com/rootguard/rootguard/internal/cloudtrail"
	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/function"
	"github.com/rootguard/rootguard/internal/metric"
	"github.com/rootguard/rootguard/internal/org"
	"github.com/rootguard/rootguard/internal/rule"
)

// snapFacts serves the sample organization and records invalidations.
type snapFacts struct {
	org.Facts
	mu          sync.Mutex
	invalidated []string
}

func (s *snapFacts) For(context.Context) org.Facts { return s.Facts }
func (s *snapFacts) Invalidate(ev *cloudtrail.Event) {
	s.mu.Lock()
	s.invalidated = append(s.invalidated, ev.ID())
	s.mu.Unlock()
}

func sampleOrg(t testing.TB) *snapFacts {
	t.Helper()
	s, err := org.LoadSnapshot(bytes.NewReader(events.Org()))
	if err != nil {
		t.Fatal(err)
	}
	return &snapFacts{Facts: s}
}

// publisher records what it is given and fails when told.
type publisher struct {
	got []finding.Finding
	err error
}

func (p *publisher) Publish(_ context.Context, fs []finding.Finding) error {
	if p.err != nil {
		return p.err
	}
	p.got = append(p.got, fs...)
	return nil
}

func engine(t testing.TB) *rule.Engine {
	t.Helper()
	eng, err := rule.NewEngine(rule.Config{StaxDomains: []string{"stax.example"}})
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

var groups = map[string][]rule.Group{
	function.RootActivity: {rule.GroupRoot},
	function.SCPGuard:     {rule.GroupProtection},
	function.Onboarding:   {rule.GroupOnboarding},
}

func evaluator(t testing.TB, fn string, facts Facts, out Publisher, log *bytes.Buffer) *Evaluator {
	return &Evaluator{
		Function: fn, Engine: engine(t), Groups: groups[fn], Facts: facts, Out: out,
		Log: slog.New(slog.NewJSONHandler(log, nil)), Metrics: metric.New(log, fn),
	}
}

// readSample returns a sample file as it is (rel is its path relative to events/).
func readSample(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := events.Read(rel)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// logLines decodes the JSON lines of a log.
func logLines(t testing.TB, log *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(log.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q is not JSON: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

func TestEvaluatorPublishes(t *testing.T) {
	tests := []struct {
		fn, file string
		want     []string // "RULE SEVERITY ownership"
	}{
		{function.RootActivity, "ROOT-SIGNIN-NO-MFA/HIGH.customer-root-login-without-mfa.json", []string{"ROOT-SIGNIN-NO-MFA HIGH customer-owned"}},
		{function.RootActivity, "ROOT-SIGNIN-STAX-MEMBER/CRITICAL.sandbox-root-login-without-mfa.json", []string{"ROOT-SIGNIN-STAX-MEMBER CRITICAL stax-owned"}},
		{function.SCPGuard, "SCP-DETACHED/CRITICAL.protection-detached-from-root.json", []string{"SCP-DETACHED CRITICAL stax-owned"}},
		{function.Onboarding, "POSTURE-ROOT-MFA/MEDIUM.joined-customer-account-without-root-mfa.json", []string{"ONBOARD-REPORT INFORMATIONAL customer-owned", "POSTURE-ROOT-MFA MEDIUM customer-owned"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			facts, out, log := sampleOrg(t), &publisher{}, &bytes.Buffer{}
			h := evaluator(t, tt.fn, facts, out, log)
			raw := readSample(t, tt.file)
			if err := h.Handle(context.Background(), raw); err != nil {
				t.Fatalf("Handle: %v", err)
			}
			var got []string
			for _, f := range out.got {
				got = append(got, fmt.Sprintf("%s %s %s", f.Rule, f.Severity, f.Ownership))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			ev, _ := cloudtrail.Decode(raw)
			if diff := cmp.Diff([]string{ev.ID()}, facts.invalidated); diff != "" {
				t.Errorf("invalidated (-want +got):\n%s", diff)
			}
			// One log line per finding with the decision's fields, then one metric line per rule.
			var decisions int
			for _, l := range logLines(t, log) {
				if l["msg"] == "finding" {
					decisions++
					for _, k := range []string{"eventId", "rule", "severity", "accountId"} {
						if s, _ := l[k].(string); s == "" {
							t.Errorf("log line %v has no %s", l, k)
						}
					}
				}
				if _, raw := l["event"]; raw {
					t.Errorf("raw event logged at info level: %v", l)
				}
			}
			if decisions != len(tt.want) {
				t.Errorf("%d decision lines, want %d", decisions, len(tt.want))
			}
			if !strings.Contains(log.String(), `"Findings":1`) {
				t.Errorf("no Findings metric in the log:\n%s", log)
			}
		})
	}
}

func TestEvaluatorNoFinding(t *testing.T) {
	out, log := &publisher{}, &bytes.Buffer{}
	h := evaluator(t, function.RootActivity, sampleOrg(t), out, log)
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-42"})
	if err := h.Handle(ctx, readSample(t, "ROOT-ACTIVITY/none.service-linked-role-invoked-by-service.json")); err != nil {
		t.Fatal(err)
	}
	if len(out.got) != 0 || !strings.Contains(log.String(), `"msg":"no finding"`) || !strings.Contains(log.String(), `"requestId":"req-42"`) {
		t.Errorf("published %v; log:\n%s", out.got, log)
	}
}

func TestEvaluatorRefuses(t *testing.T) {
	signin := readSample(t, "ROOT-SIGNIN/MEDIUM.management-root-login-with-mfa.json")
	tests := []struct {
		name, fn string
		raw      []byte
		want     error
	}{
		{"not JSON", function.RootActivity, []byte(`{"id":`), ErrDecode},
		{"not an event", function.RootActivity, []byte(`{"id":"x","detail-type":"Scheduled Event","detail":{}}`), ErrDecode},
		{"wrong type", function.SCPGuard, []byte(`{"id":"x","detail-type":"AWS API Call via CloudTrail","source":"aws.organizations","detail":{"eventSource":"organizations.amazonaws.com","eventName":"DetachPolicy","requestParameters":{"policyId":7}}}`), ErrDecode},
		{"other function's event", function.SCPGuard, signin, ErrNotRouted},
		{"no route", function.Notifier, signin, ErrNotRouted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, log := &publisher{}, &bytes.Buffer{}
			h := evaluator(t, tt.fn, sampleOrg(t), out, log)
			err := h.Handle(context.Background(), tt.raw)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Handle = %v, want %v", err, tt.want)
			}
			if len(out.got) != 0 {
				t.Errorf("published %v", out.got)
			}
			if !strings.Contains(log.String(), `"msg":"event refused"`) || !strings.Contains(log.String(), `"Kind":"refused"`) {
				t.Errorf("no refusal log line and metric:\n%s", log)
			}
		})
	}
}

func TestEvaluatorDebugLogsRawEvent(t *testing.T) {
	var log bytes.Buffer
	h := evaluator(t, function.RootActivity, sampleOrg(t), &publisher{}, &log)
	h.Log = slog.New(slog.NewJSONHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if err := h.Handle(context.Background(), readSample(t, "ROOT-ACTIVITY/none.service-linked-role-invoked-by-service.json")); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), `"msg":"event received"`) {
		t.Errorf("no raw event at debug level:\n%s", log.String())
	}
}

func TestEvaluatorPublishFails(t *testing.T) {
	log := &bytes.Buffer{}
	h := evaluator(t, function.RootActivity, sampleOrg(t), &publisher{err: errors.New("bus down")}, log)
	err := h.Handle(context.Background(), readSample(t, "ROOT-SIGNIN/MEDIUM.management-root-login-with-mfa.json"))
	if err == nil || !strings.Contains(err.Error(), "bus down") {
		t.Fatalf("Handle = %v, want the bus error", err)
	}
	if !strings.Contains(log.String(), `"DeliveryFailures":1`) {
		t.Errorf("no DeliveryFailures metric:\n%s", log)
	}
}

// brokenFacts fails every read with an error that is not ErrNotFound.
type brokenFacts struct{}

var errThrottled = errors.New("TooManyRequestsException: rate exceeded")

func (brokenFacts) Organization() (org.Organization, error) { return org.Organization{}, errThrottled }
func (brokenFacts) Account(string) (org.Account, error)     { return org.Account{}, errThrottled }
func (brokenFacts) Parents(string) ([]string, error)        { return nil, errThrottled }
func (brokenFacts) PoliciesFor(string) ([]string, error)    { return nil, errThrottled }
func (brokenFacts) Policy(string) (org.Policy, error)       { return org.Policy{}, errThrottled }
func (brokenFacts) Tags(string) (map[string]string, error)  { return nil, errThrottled }
func (brokenFacts) RootCredentials(string) (*org.RootCredentials, error) {
	return nil, errThrottled
}
func (brokenFacts) Accounts() ([]org.Account, error) { return nil, errThrottled }
func (brokenFacts) Policies() ([]org.Policy, error)  { return nil, errThrottled }

// TestEvaluatorFailsClosed: with no facts readable, the finding is still raised, with the
// ownership unknown and the strictest severity.
func TestEvaluatorFailsClosed(t *testing.T) {
	tests := []struct{ fn, file, want string }{
		{function.RootActivity, "ROOT-SIGNIN-NO-MFA/HIGH.customer-root-login-without-mfa.json", "ROOT-SIGNIN-STAX-MEMBER CRITICAL unknown"},
		{function.SCPGuard, "SCP-DETACHED/none.region-restriction-detached.json", "SCP-DETACHED CRITICAL unknown"},
		{function.Onboarding, "POSTURE-ROOT-CREDENTIALS/none.control-tower-account-without-root-credentials.json", "POSTURE-UNVERIFIED LOW unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			out := &publisher{}
			h := evaluator(t, tt.fn, &snapFacts{Facts: brokenFacts{}}, out, &bytes.Buffer{})
			if err := h.Handle(context.Background(), readSample(t, tt.file)); err != nil {
				t.Fatalf("Handle: %v", err)
			}
			var got []string
			for _, f := range out.got {
				got = append(got, fmt.Sprintf("%s %s %s", f.Rule, f.Severity, f.Ownership))
			}
			if !slices.Contains(got, tt.want) {
				t.Errorf("findings %v lack %q", got, tt.want)
			}
		})
	}
}

// flakyFacts makes an account's root credential state unreadable for its first n reads.
type flakyFacts struct {
	org.Facts
	account string
	n       int
	reads   int
}

func (f *flakyFacts) RootCredentials(id string) (*org.RootCredentials, error) {
	if id == f.account {
		f.reads++
		if f.reads <= f.n {
			return nil, fmt.Errorf("assume role in %s: AccessDenied", id)
		}
	}
	return f.Facts.RootCredentials(id)
}

func TestOnboardingWaitsForTheNewAccount(t *testing.T) {
	const file = "POSTURE-ROOT-MFA/MEDIUM.joined-customer-account-without-root-mfa.json" // account 777777777777
	tests := []struct {
		name       string
		unreadable int
		wait       time.Duration
		want       []string
		sleeps     int
	}{
		{"readable at once", 0, time.Minute, []string{"ONBOARD-REPORT", "POSTURE-ROOT-MFA"}, 0},
		{"readable after three tries", 3, time.Minute, []string{"ONBOARD-REPORT", "POSTURE-ROOT-MFA"}, 3},
		{"never readable", 1 << 30, time.Minute, []string{"ONBOARD-REPORT", "POSTURE-UNVERIFIED"}, -1},
		{"no wait configured", 1, 0, []string{"ONBOARD-REPORT", "POSTURE-UNVERIFIED"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			facts := &flakyFacts{Facts: sampleOrg(t).Facts, account: "777777777777", n: tt.unreadable}
			out := &publisher{}
			h := evaluator(t, function.Onboarding, &snapFacts{Facts: facts}, out, &bytes.Buffer{})
			h.OnboardingWait = tt.wait
			clock := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
			var slept []time.Duration
			h.Now = func() time.Time { return clock }
			h.Sleep = func(_ context.Context, d time.Duration) error {
				slept = append(slept, d)
				clock = clock.Add(d)
				return nil
			}
			if err := h.Handle(context.Background(), readSample(t, file)); err != nil {
				t.Fatalf("Handle: %v", err)
			}
			var got []string
			for _, f := range out.got {
				got = append(got, f.Rule)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("rules (-want +got):\n%s", diff)
			}
			switch {
			case tt.sleeps >= 0 && len(slept) != tt.sleeps:
				t.Errorf("slept %d times (%v), want %d", len(slept), slept, tt.sleeps)
			case tt.sleeps < 0:
				var total time.Duration
				for i, d := range slept {
					total += d
					if i > 0 && d < slept[i-1]/2 {
						t.Errorf("backoff shrank: %v", slept)
					}
				}
				if total > tt.wait || total < tt.wait/4 {
					t.Errorf("waited %v in %d sleeps, want most of %v and no more", total, len(slept), tt.wait)
				}
			}
		})
	}
}

func TestOnboardingWaitStopsBeforeTheDeadline(t *testing.T) {
	facts := &flakyFacts{Facts: sampleOrg(t).Facts, account: "777777777777", n: 1 << 30}
	out := &publisher{}
	h := evaluator(t, function.Onboarding, &snapFacts{Facts: facts}, out, &bytes.Buffer{})
	h.OnboardingWait = time.Hour
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := h.Handle(ctx, readSample(t, "POSTURE-ROOT-MFA/MEDIUM.joined-customer-account-without-root-mfa.json")); err != nil {
		t.Fatal(err)
	}
	if ctx.Err() != nil {
		t.Errorf("the wait used the whole deadline (%v)", time.Since(start))
	}
	if len(out.got) != 2 || out.got[1].Rule != "POSTURE-UNVERIFIED" {
		t.Errorf("findings %+v, want the report and POSTURE-UNVERIFIED", out.got)
	}
}

func TestAuditor(t *testing.T) {
	scheduled := []byte(`{"version":"0","id":"sched-1","detail-type":"Scheduled Event","source":"aws.events","account":"111111111111","time":"2026-11-20T06:00:00Z","region":"us-east-1","resources":[],"detail":{}}`)
	t.Run("runs the checks", func(t *testing.T) {
		out, log := &publisher{}, &bytes.Buffer{}
		h := &Auditor{Engine: engine(t), Facts: sampleOrg(t), Out: out, Log: slog.New(slog.NewJSONHandler(log, nil)), Metrics: metric.New(log, function.Audit)}
		if err := h.Handle(context.Background(), scheduled); err != nil {
			t.Fatal(err)
		}
		want, err := engine(t).Audit(sampleOrg(t).Facts, time.Date(2026, 11, 20, 6, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		if len(want) == 0 {
			t.Fatal("the sample organization has no posture finding: the test proves nothing")
		}
		if diff := cmp.Diff(want, out.got); diff != "" {
			t.Errorf("findings (-want +got):\n%s", diff)
		}
	})
	t.Run("refuses other events", func(t *testing.T) {
		h := &Auditor{Engine: engine(t), Facts: sampleOrg(t), Out: &publisher{}, Log: slog.New(slog.NewJSONHandler(&bytes.Buffer{}, nil))}
		err := h.Handle(context.Background(), readSample(t, "ROOT-SIGNIN/MEDIUM.management-root-login-with-mfa.json"))
		if !errors.Is(err, ErrNotRouted) {
			t.Errorf("Handle = %v, want ErrNotRouted", err)
		}
		if err := h.Handle(context.Background(), []byte("[")); !errors.Is(err, ErrDecode) {
			t.Errorf("Handle = %v, want ErrDecode", err)
		}
	})
	t.Run("unreadable organization is an error", func(t *testing.T) {
		h := &Auditor{Engine: engine(t), Facts: &snapFacts{Facts: brokenFacts{}}, Out: &publisher{}, Log: slog.New(slog.NewJSONHandler(&bytes.Buffer{}, nil))}
		if err := h.Handle(context.Background(), scheduled); !errors.Is(err, errThrottled) {
			t.Errorf("Handle = %v, want the facts error", err)
		}
	})
}
