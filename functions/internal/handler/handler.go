// Package handler is the evaluator handler shared by the root-activity, scp-guard, onboarding and
// audit functions: an EventBridge event in, the rule engine over the live organization facts,
// each finding out on the rootguard event bus. Its dependencies are small interfaces and
// functions, so tests pass hand-written fakes.
//
// Failures are classified at this edge: an event that cannot be decoded or is not routed to the
// function is refused with an error that says why (Lambda then keeps it in the on-failure
// destination); a finding that cannot be put on the bus is an error (Lambda retries). Facts that
// cannot be read do not fail the invocation: the engine raises the finding with the unknowns
// marked and the strictest severity (fail closed).
package handler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/rootguard/rootguard/internal/cloudtrail"
	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/function"
	"github.com/rootguard/rootguard/internal/metric"
	"github.com/rootguard/rootguard/internal/org"
	"github.com/rootguard/rootguard/internal/route"
	"github.com/rootguard/rootguard/internal/routing"
	"github.com/rootguard/rootguard/internal/rule"
	"github.com/rootguard/rootguard/internal/statekey"
)

// Sentinel errors: the event is refused, and retrying it cannot help.
var (
	// ErrDecode: the event is not a CloudTrail event rootguard can read.
	ErrDecode = errors.New("event cannot be decoded")
	// ErrNotRouted: the event does not match the function's route.
	ErrNotRouted = errors.New("event not routed to this function")
)

// Publisher puts findings on the rootguard event bus (notify.Bus).
type Publisher interface {
	Publish(ctx context.Context, findings []finding.Finding) error
}

// Facts are the live organization facts (awsorg.Facts through a small adapter).
type Facts interface {
	// For returns the facts bound to one invocation's context.
	For(ctx context.Context) org.Facts
	// Invalidate drops the cached facts an event changes; called before evaluating every event.
	Invalidate(ev *cloudtrail.Event)
}

// Evaluator is the handler of root-activity, scp-guard and onboarding.
type Evaluator struct {
	// Function is the function's name (function.RootActivity, ...); its route is checked.
	Function string
	Engine   *rule.Engine
	// Groups are the rule groups the function evaluates.
	Groups []rule.Group
	Facts  Facts
	Out    Publisher
	Log    *slog.Logger
	// Metrics may be nil.
	Metrics *metric.Recorder
	// OnboardingWait, when positive, is the longest an onboarding event waits for the new
	// account to become readable (within the invocation's deadline, see Settle).
	OnboardingWait time.Duration
	// Sleep waits (default: a timer that stops at the context's end) and Now is the clock
	// (default time.Now); tests replace them.
	Sleep func(ctx context.Context, d time.Duration) error
	Now   func() time.Time
	// Respond, when set (scp-guard), reverts protection changes and resolves open findings
	// (revert.go).
	Respond *Responder
	// CentralAccount is the account the heartbeat's canaries are accepted from; when empty, the
	// account of the invoked function's ARN (see checkOrigin).
	CentralAccount string
	// Custody, when set, is the state table's exception grants and trust suspensions: read for
	// every event, written with what the event changes (scp-guard). Without it no exception counts.
	Custody Custody
}

// Handle evaluates one EventBridge event.
func (h *Evaluator) Handle(ctx context.Context, raw json.RawMessage) error {
	defer flush(h.Log, h.Metrics)
	hc := *h
	hc.Log = WithRequest(ctx, h.Log)
	return hc.handle(ctx, raw)
}

func (h *Evaluator) handle(ctx context.Context, raw json.RawMessage) error {
	h.Log.Debug("event received", "event", string(raw))
	ev, err := cloudtrail.Decode(raw)
	if err != nil {
		err = fmt.Errorf("%s: %w: %w", h.Function, ErrDecode, err)
		h.refuse(envelopeID(raw), err)
		return err
	}
	if err := h.checkOrigin(ctx, ev); err != nil {
		return err
	}
	if err := h.checkRoute(ev); err != nil {
		h.refuse(ev.ID(), err)
		return err
	}
	if !routing.Evaluates(h.Function, Fields(ev)) {
		// Taken only for the organization facts it changes (route.FactChangePatterns): the
		// function drops them from its cache and evaluates none of its rules.
		h.Facts.Invalidate(ev)
		h.Log.Info("cached facts dropped", "eventId", ev.ID(), "eventName", ev.EventName, "accountId", ev.AccountID(),
			"change", org.ChangeOf(ev).Kind.String())
		return nil
	}
	facts := h.factsFor(ctx, ev)
	if h.OnboardingWait > 0 {
		h.settle(ctx, facts, ev)
	}
	cu := custodyFor(ctx, h.Custody)
	findings := h.Engine.EvaluateWith(ev, facts, cu, h.Groups...)
	if fn, _ := function.Lookup(h.Function); fn.Writes(statekey.Grant) { // the function that records custody (scp-guard)
		if err := witness(ctx, h.Log, h.Metrics, h.Engine, h.Custody, cu, ev, h.Now); err != nil {
			return err
		}
	}
	if h.Respond != nil {
		return h.respond(ctx, ev, facts, findings)
	}
	return h.publish(ctx, ev.ID(), ev.EventName, ev.AccountID(), findings)
}

// checkRoute refuses an event the function's route does not match (as EventBridge would).
func (h *Evaluator) checkRoute(ev *cloudtrail.Event) error {
	r, ok := routing.For(h.Function)
	if !ok {
		return fmt.Errorf("%s: %w: the function has no route", h.Function, ErrNotRouted)
	}
	f := Fields(ev)
	if !r.Matches(f) {
		return fmt.Errorf("%s: %w: source %q, detail-type %q, eventSource %q, eventName %q, userIdentity.type %q",
			h.Function, ErrNotRouted, f.Source, f.DetailType, f.EventSource, f.EventName, f.UserIdentityType)
	}
	return nil
}

// Fields are the values of an event the routing table tests.
func Fields(ev *cloudtrail.Event) route.Fields {
	f := route.Fields{EventSource: ev.EventSource, EventName: ev.EventName}
	if ev.Envelope != nil {
		f.Source, f.DetailType = ev.Envelope.Source, ev.Envelope.DetailType
	}
	if ev.UserIdentity != nil {
		f.UserIdentityType = ev.UserIdentity.Type
	}
	return f
}

func (h *Evaluator) refuse(eventID string, err error) {
	h.Log.Error("event refused", "eventId", eventID, "error", err.Error(), "retryable", false)
	h.Metrics.Add(metric.Errors, 1, metric.Dim{Name: "Kind", Value: "refused"})
}

// publish logs one line per finding (or one "no finding" line), counts them and puts them on
// the bus.
func (h *Evaluator) publish(ctx context.Context, eventID, eventName, accountID string, findings []finding.Finding) error {
	return publish(ctx, h.Log, h.Metrics, h.Out, eventID, eventName, accountID, findings)
}

func publish(ctx context.Context, log *slog.Logger, m *metric.Recorder, out Publisher, eventID, eventName, accountID string, findings []finding.Finding) error {
	if len(findings) == 0 {
		log.Info("no finding", "eventId", eventID, "eventName", eventName, "accountId", accountID)
		return nil
	}
	for _, f := range findings {
		log.Info("finding", "eventId", eventID, "eventName", eventName, "rule", f.Rule, "severity", f.Severity.String(),
			"accountId", f.AccountID, "findingId", f.ID, "canary", f.Canary)
		if f.Canary {
			m.Add(metric.CanaryFindings, 1, metric.Dim{Name: "Rule", Value: f.Rule})
		} else {
			m.Add(metric.Findings, 1, metric.Dim{Name: "Rule", Value: f.Rule}, metric.Dim{Name: "Severity", Value: f.Severity.String()})
		}
	}
	if err := out.Publish(ctx, findings); err != nil {
		log.Error("findings not put on the bus", "eventId", eventID, "count", len(findings), "error", err.Error(), "retryable", true)
		m.Add(metric.Errors, 1, metric.Dim{Name: "Kind", Value: "bus"})
		m.Add(metric.DeliveryFailures, 1, metric.Dim{Name: "Channel", Value: "bus"})
		return fmt.Errorf("event %s: %w", eventID, err)
	}
	return nil
}

func flush(log *slog.Logger, m *metric.Recorder) {
	if err := m.Flush(); err != nil {
		log.Warn("metrics not written", "error", err.Error())
	}
}

// WithRequest adds the Lambda request id of the invocation, when there is one, to every line
// the logger writes.
func WithRequest(ctx context.Context, log *slog.Logger) *slog.Logger {
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc.AwsRequestID != "" {
		return log.With("requestId", lc.AwsRequestID)
	}
	return log
}

// envelopeID reads the id of an event that could not be decoded, for the log.
func envelopeID(raw []byte) string {
	var probe struct {
		ID     string `json:"id"`
		Detail struct {
			EventID string `json:"eventID"`
		} `json:"detail"`
		EventID string `json:"eventID"`
	}
	if json.Unmarshal(raw, &probe) != nil {
		return ""
	}
	for _, id := range []string{probe.Detail.EventID, probe.EventID, probe.ID} {
		if id != "" {
			return id
		}
	}
	return ""
}

// settle waits for the account an onboarding event names to become readable: its
// Organizations record and its root credential state. It retries with jittered exponential
// backoff until both read, OnboardingWait has passed, or the invocation's deadline is near (a
// tenth of the remaining time, at least a second, is kept for evaluating and publishing). It
// never fails: what is still unreadable afterwards is reported by the engine as
// POSTURE-UNVERIFIED.
func (h *Evaluator) settle(ctx context.Context, facts org.Facts, ev *cloudtrail.Event) {
	ch := org.ChangeOf(ev)
	if ch.Kind != org.AccountJoined || ch.Account == "" {
		return
	}
	id := ch.Account
	now := h.Now
	if now == nil {
		now = time.Now
	}
	start := now()
	stop := start.Add(h.OnboardingWait)
	if dl, ok := ctx.Deadline(); ok {
		keep := max(dl.Sub(start)/10, time.Second)
		if limit := dl.Add(-keep); limit.Before(stop) {
			stop = limit
		}
	}
	sleep := h.Sleep
	if sleep == nil {
		sleep = sleepCtx
	}
	wait := 250 * time.Millisecond
	for attempt := 1; ; attempt++ {
		_, aerr := facts.Account(id)
		rc, rerr := facts.RootCredentials(id)
		if aerr == nil && rerr == nil && rc != nil {
			if attempt > 1 {
				h.Log.Info("new account readable", "eventId", ev.ID(), "accountId", id, "attempts", attempt, "waited", now().Sub(start).String())
			}
			return
		}
		why := errors.Join(aerr, rerr)
		if why == nil {
			why = errors.New("root credential state unknown")
		}
		d := wait/2 + rand.N(wait/2+1)
		if now().Add(d).After(stop) {
			h.Log.Warn("new account still unreadable; reporting what is known", "eventId", ev.ID(), "accountId", id,
				"attempts", attempt, "waited", now().Sub(start).String(), "error", why.Error())
			return
		}
		h.Log.Debug("new account not readable yet", "eventId", ev.ID(), "accountId", id, "attempt", attempt, "error", why.Error())
		if sleep(ctx, d) != nil {
			return
		}
		wait = min(wait*2, 10*time.Second)
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
