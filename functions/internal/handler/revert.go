package handler

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/rootguard/rootguard/internal/cloudtrail"
	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/metric"
	"github.com/rootguard/rootguard/internal/org"
	"github.com/rootguard/rootguard/internal/rule"
)

// Revert modes (ROOTGUARD_REVERT).
const (
	// RevertOff: no revert; findings are still resolved when the protection comes back.
	RevertOff = "off"
	// RevertDryRun: the plan is logged and reported in the finding, nothing is called.
	RevertDryRun = "dry-run"
	// RevertOn: the plan is executed with the revert role.
	RevertOn = "on"
)

// MaxRevertsPerHour is how many reverts of one resource (a policy at a target, a policy's
// content, a root's policy type, an account's place) scp-guard makes within RevertWindow;
// after that it gives up and raises the finding again.
const MaxRevertsPerHour = 3

// RevertWindow is the window MaxRevertsPerHour counts in.
const RevertWindow = time.Hour

// GaveUp starts the revert note of a finding whose revert was given up.
const GaveUp = "revert gave up: something keeps changing it"

// Executor makes one planned Organizations call with the revert role (awsorg.Reverter).
type Executor interface {
	Do(ctx context.Context, c finding.RevertCall) (note string, err error)
}

// RevertCounter counts the reverts of a resource in the state table (item revert#<resource>,
// expiring with the window).
type RevertCounter interface {
	// Admit records a revert of resource for eventID at now unless MaxRevertsPerHour reverts
	// of it (by other events) were recorded within RevertWindow before now; n is the number of
	// reverts recorded in the window, this one included when admitted. A retry of an event
	// already admitted is admitted again without counting twice.
	Admit(ctx context.Context, resource, eventID string, now time.Time) (admitted bool, n int, err error)
}

// OpenStore keeps the open findings in the state table (items open#<key>, see rule.Open).
type OpenStore interface {
	// Open returns the open findings kept under key.
	Open(ctx context.Context, key string) ([]rule.Open, error)
	// Keep adds open findings (replacing one with the same finding id).
	Keep(ctx context.Context, open []rule.Open) error
	// Drop removes the findings with these ids from key.
	Drop(ctx context.Context, key string, findingIDs []string) error
}

// Responder is scp-guard's response: the revert of protection changes (Mode, opt-in) and the
// resolution of open findings when the protection is restored (always, when Open is set).
type Responder struct {
	// Mode is RevertOff, RevertDryRun or RevertOn.
	Mode string
	// Role is the revert role's ARN: events it made are never reverted (rule.SelfMade).
	Role string
	// Exec makes the calls (RevertOn); Counter limits them (required for RevertOn).
	Exec    Executor
	Counter RevertCounter
	// Open keeps the open findings; nil: findings are not tracked nor resolved.
	Open OpenStore
}

// respond resolves the open findings ev restores, reverts what ev changed (by the mode), keeps
// the findings that stay open, publishes everything and then forgets the resolved findings.
func (h *Evaluator) respond(ctx context.Context, ev *cloudtrail.Event, facts org.Facts, findings []finding.Finding) error {
	r := h.Respond
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	if rule.SelfMade(ev, r.Role) {
		h.Log.Info("own change (revert role): never reverted", "eventId", ev.ID(), "eventName", ev.EventName)
	}
	// Resolution: an open finding is resolved once, after the finding event is on the bus.
	var resolved []finding.Finding
	drop := map[string][]string{}
	if r.Open != nil {
		for _, key := range rule.ResolveKeys(ev) {
			open, err := r.Open.Open(ctx, key)
			if err != nil {
				h.stateError(ev, "read the open findings (nothing resolved by this event)", err)
				continue
			}
			for _, o := range open {
				if h.Engine.Restores(o, ev, facts) {
					resolved = append(resolved, rule.Resolved(o.Finding, ev.Time(), ev.ID()))
					drop[key] = append(drop[key], o.Finding.ID)
					h.Log.Info("finding resolved", "eventId", ev.ID(), "rule", o.Finding.Rule, "findingId", o.Finding.ID, "key", key)
				}
			}
		}
	}
	// Revert, by the mode. The plan is made against the facts as they were before the event.
	var keep []rule.Open
	for i := range findings {
		f := &findings[i]
		o, tracked := h.Engine.OpenRecord(*f, ev, facts)
		plan := h.Engine.Plan(*f, ev, facts, r.Role)
		if len(plan) > 0 && r.Mode != RevertOff && r.Mode != "" {
			note := h.revert(ctx, ev, o.Key, plan, now())
			f.Revert = note
			f.Description += " Revert: " + note
			if strings.HasPrefix(note, GaveUp) {
				f.Title = "Revert gave up: " + f.Title
			}
		}
		if tracked && r.Open != nil {
			o.Finding = *f
			keep = append(keep, o)
		}
	}
	if len(keep) > 0 {
		if err := r.Open.Keep(ctx, keep); err != nil {
			h.stateError(ev, "keep the open findings (they will not be resolved)", err)
		}
	}
	if err := h.publish(ctx, ev.ID(), ev.EventName, ev.AccountID(), append(findings, resolved...)); err != nil {
		return err
	}
	keys := make([]string, 0, len(drop))
	for k := range drop {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := r.Open.Drop(ctx, k, drop[k]); err != nil {
			// Published: a retry would only resolve them again (the notifier delivers once).
			h.Log.Warn("resolved findings not removed from the open findings", "eventId", ev.ID(), "key", k, "error", err.Error())
		}
	}
	return nil
}

// stateError: the state table failed. The findings are published all the same (an alert is
// never held back for the resolution's bookkeeping); the error is logged and counted.
func (h *Evaluator) stateError(ev *cloudtrail.Event, what string, err error) {
	h.Log.Error("state table unavailable", "eventId", ev.ID(), "what", what, "error", err.Error())
	h.Metrics.Add(metric.Errors, 1, metric.Dim{Name: "Kind", Value: "state"})
}

// revert executes (or, in dry-run, describes) one finding's plan and returns the note the
// finding's delivery carries: what was reverted, when, and the result.
func (h *Evaluator) revert(ctx context.Context, ev *cloudtrail.Event, resource string, plan []finding.RevertCall, now time.Time) string {
	r := h.Respond
	at := now.UTC().Format(time.RFC3339)
	calls := make([]string, len(plan))
	for i, c := range plan {
		calls[i] = describeCall(c)
	}
	attrs := []any{"eventId", ev.ID(), "rule", plan[0].Rule, "findingId", plan[0].FindingID, "resource", resource, "mode", r.Mode}
	if r.Mode == RevertDryRun {
		h.Log.Info("revert planned (dry-run)", append(attrs, "calls", calls)...)
		return fmt.Sprintf("dry-run at %s: rootguard would call %s; nothing was changed (ROOTGUARD_REVERT=dry-run).", at, strings.Join(calls, ", then "))
	}
	if r.Exec == nil || r.Counter == nil {
		h.Log.Error("revert not configured", attrs...)
		return fmt.Sprintf("not reverted at %s: the revert role is not configured; Stax must restore the protection by hand: %s.", at, strings.Join(calls, ", then "))
	}
	admitted, n, err := r.Counter.Admit(ctx, resource, ev.ID(), now)
	if err != nil {
		h.Log.Error("revert not made: the revert count could not be read", append(attrs, "error", err.Error())...)
		return fmt.Sprintf("not reverted at %s: the revert count of %s could not be read (%v); Stax must restore the protection by hand: %s.", at, resource, err, strings.Join(calls, ", then "))
	}
	if !admitted {
		h.Log.Warn("revert gave up", append(attrs, "reverts", n)...)
		h.Metrics.Add(metric.Errors, 1, metric.Dim{Name: "Kind", Value: "revert-gave-up"})
		return fmt.Sprintf("%s (%d reverts of %s within the last hour); at %s nothing was called. Stax must find out who keeps changing it and restore the protection by hand: %s.", GaveUp, n, resource, at, strings.Join(calls, ", then "))
	}
	var done []string
	for i, c := range plan {
		note, err := r.Exec.Do(ctx, c)
		if err != nil {
			h.Log.Error("revert call failed", append(attrs, "action", c.Action, "error", err.Error())...)
			msg := fmt.Sprintf("revert failed at %s: %s failed (%v)", at, calls[i], err)
			if len(done) > 0 {
				msg += " after " + strings.Join(done, ", ")
			}
			return msg + "; Stax must restore the protection by hand."
		}
		h.Log.Info("reverted", append(attrs, "action", c.Action, "note", note, "revertsInWindow", n)...)
		if note != "" {
			done = append(done, calls[i]+" ("+note+")")
		} else {
			done = append(done, calls[i])
		}
	}
	return fmt.Sprintf("reverted by rootguard at %s: %s; done (revert %d of at most %d for %s within an hour).", at, strings.Join(done, ", then "), n, MaxRevertsPerHour, resource)
}

// describeCall names a call and its parameters for people; a policy's content is named by its
// size, not printed.
func describeCall(c finding.RevertCall) string {
	keys := make([]string, 0, len(c.Parameters))
	for k := range c.Parameters {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		v := c.Parameters[k]
		if k == "Content" {
			v = fmt.Sprintf("the previous content (%d characters)", len(v))
		}
		parts = append(parts, k+" "+v)
	}
	return c.Action + " (" + strings.Join(parts, ", ") + ")"
}
