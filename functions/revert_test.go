//go:build linux

package functions

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rootguard/rootguard/events"
	"github.com/rootguard/rootguard/functions/internal/handler"
	"github.com/rootguard/rootguard/internal/cloudtrail"
	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/function"
	"github.com/rootguard/rootguard/internal/org"
	"github.com/rootguard/rootguard/internal/testenv/awsfake"
)

const (
	revertRoleName = "rootguard-revert"
	revertRole     = "arn:aws:iam::111111111111:role/" + revertRoleName
	// The sample organization's root protection SCP and root.
	protPolicy = "p-st4xprot01"
	protRoot   = "r-st4x"
)

// recordState is the Security Hub RecordState a finding is imported with.
func recordState(f finding.Finding) string {
	if f.Status == finding.StatusResolved {
		return "ARCHIVED"
	}
	return "ACTIVE"
}

// TestRevert runs scp-guard with ROOTGUARD_REVERT=dry-run and on against the Organizations fake:
// dry-run changes nothing, on restores the organization, the revert role's own changes are
// never reverted, a fourth change within the hour gives up, and the restoration resolves the
// finding (Security Hub gets it again, ARCHIVED, with a newer UpdatedAt).
func TestRevert(t *testing.T) {
	h := setupWith(t, setupOptions{fake: func(o *awsfake.Options) { o.RevertRoleName = revertRoleName }})
	base, err := events.Read("SCP-DETACHED/CRITICAL.protection-detached-from-root.json")
	if err != nil {
		t.Fatal(err)
	}
	admin := "arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_AdministratorAccess_4f1c2b7a9d3e6f80"
	detach := map[string]any{"policyId": protPolicy, "targetId": protRoot}
	n := 0
	event := func(name, issuer string, params map[string]any) []byte {
		n++
		return orgsEventFrom(t, base, fmt.Sprintf("revert-test-%d-%d", time.Now().UnixNano(), n), name, issuer, params, time.Now().UTC())
	}

	t.Run("dry-run changes nothing", func(t *testing.T) {
		r := h.startRevert(t, handler.RevertDryRun)
		f := r.send(t, event("DetachPolicy", admin, detach))
		got := r.only(t, f, "SCP-DETACHED")
		if !strings.HasPrefix(got.Revert, "dry-run at ") || !strings.Contains(got.Revert, "organizations:AttachPolicy (PolicyId "+protPolicy+", TargetId "+protRoot+")") {
			t.Errorf("revert note %q", got.Revert)
		}
		if w := h.fake.Writes(); len(w) != 0 {
			t.Errorf("dry-run wrote to Organizations: %+v", w)
		}
		if attached(h.fake.Doc(), protPolicy, protRoot) {
			t.Error("the protection SCP is attached again after a dry-run")
		}
		r.deliver(t)
	})

	t.Run("on restores the organization and resolves the finding", func(t *testing.T) {
		r := h.startRevert(t, handler.RevertOn)
		f := r.send(t, event("DetachPolicy", admin, detach))
		got := r.only(t, f, "SCP-DETACHED")
		if !strings.HasPrefix(got.Revert, "reverted by rootguard at ") || !strings.Contains(got.Revert, "done") ||
			!strings.Contains(got.Description, "Revert: reverted by rootguard") {
			t.Errorf("revert note %q, description %q", got.Revert, got.Description)
		}
		w := h.fake.Writes()
		if len(w) != 1 || w[0].Operation != "AttachPolicy" || w[0].Params["PolicyId"] != protPolicy || w[0].Params["TargetId"] != protRoot || !w[0].Role {
			t.Fatalf("writes %+v, want one AttachPolicy of %s to %s by an assumed role", w, protPolicy, protRoot)
		}
		if !attached(h.fake.Doc(), protPolicy, protRoot) {
			t.Fatal("the protection SCP is not attached to the root again")
		}
		if h.fake.Calls(awsfake.STS, "AssumeRole") == 0 {
			t.Error("scp-guard did not assume the revert role")
		}

		// The revert's own AttachPolicy arrives: it resolves the finding and reverts nothing.
		own := event("AttachPolicy", revertRole, detach)
		res := r.send(t, own)
		ownID := mustDecode(t, own).ID()
		if len(res) != 1 || res[0].ID != got.ID || res[0].Status != finding.StatusResolved || res[0].ResolvedBy != ownID || res[0].ResolvedAt == "" {
			t.Fatalf("after the re-attach: %+v, want %s resolved by %s", res, got.ID, ownID)
		}
		if len(h.fake.Writes()) != 1 {
			t.Errorf("the revert's own change was reverted: %+v", h.fake.Writes())
		}
		r.deliver(t)
		var active, archived map[string]any
		for _, raw := range h.fake.Findings()[r.hub:] {
			var a map[string]any
			if err := json.Unmarshal(raw, &a); err != nil {
				t.Fatal(err)
			}
			if a["Id"] != got.ID {
				continue
			}
			switch a["RecordState"] {
			case "ACTIVE":
				active = a
			case "ARCHIVED":
				archived = a
			}
		}
		if active == nil || archived == nil {
			t.Fatalf("Security Hub: active %v, archived %v; want both for %s", active != nil, archived != nil, got.ID)
		}
		if !parseTime(t, archived["UpdatedAt"]).After(parseTime(t, active["UpdatedAt"])) {
			t.Errorf("ARCHIVED UpdatedAt %v is not after %v", archived["UpdatedAt"], active["UpdatedAt"])
		}
		if _, ok := archived["Workflow"]; ok {
			t.Error("the resolution set Workflow, which belongs to the customer")
		}
	})

	t.Run("on restores weakened content", func(t *testing.T) {
		r := h.startRevert(t, handler.RevertOn)
		var orig string
		for _, p := range h.fake.Doc().Policies {
			if p.ID == protPolicy {
				orig = p.ContentText()
			}
		}
		raw, err := events.Read("SCP-MODIFIED/CRITICAL.root-deny-statement-removed.json")
		if err != nil {
			t.Fatal(err)
		}
		got := r.only(t, r.send(t, raw), "SCP-MODIFIED")
		w := h.fake.Writes()
		if len(w) != 1 || w[0].Operation != "UpdatePolicy" || w[0].Params["PolicyId"] != protPolicy || w[0].Params["Content"] != orig {
			t.Fatalf("writes %+v, want UpdatePolicy of %s back to its recorded content", w, protPolicy)
		}
		if !strings.HasPrefix(got.Revert, "reverted by rootguard") {
			t.Errorf("revert note %q", got.Revert)
		}
		// The revert's own UpdatePolicy: the finding is resolved, nothing is reverted.
		res := r.send(t, event("UpdatePolicy", revertRole, map[string]any{"policyId": protPolicy, "content": orig}))
		var resolved []finding.Finding
		for _, f := range res {
			if f.Status == finding.StatusResolved {
				resolved = append(resolved, f)
			} else if f.Revert != "" {
				t.Errorf("own change planned: %+v", f)
			}
		}
		if len(resolved) != 1 || resolved[0].ID != got.ID {
			t.Errorf("resolved %+v, want %s", resolved, got.ID)
		}
		if len(h.fake.Writes()) != 1 {
			t.Errorf("writes after the own change: %+v", h.fake.Writes())
		}
		r.deliver(t)
	})

	t.Run("the revert role's own change is never reverted", func(t *testing.T) {
		r := h.startRevert(t, handler.RevertOn)
		// A detach made by the revert role raises its finding, but is not reverted.
		f := r.send(t, event("DetachPolicy", revertRole, detach))
		got := r.only(t, f, "SCP-DETACHED")
		if got.Revert != "" || len(h.fake.Writes()) != 0 {
			t.Errorf("own change reverted: note %q, writes %+v", got.Revert, h.fake.Writes())
		}
		// A role whose name and session imitate the revert role's is not it.
		f = r.send(t, event("DetachPolicy", "arn:aws:iam::111111111111:role/evil/"+revertRoleName, detach))
		if got := r.only(t, f, "SCP-DETACHED"); !strings.HasPrefix(got.Revert, "reverted by rootguard") {
			t.Errorf("a lookalike of the revert role was trusted: note %q", got.Revert)
		}
		r.deliver(t)
	})

	t.Run("a posture check that passes again is resolved by the audit", h.auditResolves)

	t.Run("a fourth change within the hour gives up", func(t *testing.T) {
		r := h.startRevert(t, handler.RevertOn)
		for i := 1; i <= 4; i++ {
			f := r.send(t, event("DetachPolicy", admin, detach))
			got := r.only(t, f, "SCP-DETACHED")
			switch {
			case i <= 3 && !strings.HasPrefix(got.Revert, fmt.Sprintf("reverted by rootguard")) || i <= 3 && !strings.Contains(got.Revert, fmt.Sprintf("revert %d of at most 3", i)):
				t.Errorf("change %d: note %q", i, got.Revert)
			case i == 4 && (!strings.HasPrefix(got.Revert, handler.GaveUp) || !strings.HasPrefix(got.Title, "Revert gave up")):
				t.Errorf("change 4: note %q, title %q", got.Revert, got.Title)
			}
			if w := len(h.fake.Writes()); w != min(i, 3) {
				t.Errorf("after change %d: %d writes, want %d", i, w, min(i, 3))
			}
		}
		if attached(h.fake.Doc(), protPolicy, protRoot) {
			t.Error("the protection SCP was attached again after giving up")
		}
		r.deliver(t)
	})
}

// auditResolves: a posture check that passes again resolves the earlier audit's finding.
func (h *e2e) auditResolves(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	h.stopEvaluators()
	if err := h.fake.Update(func(d *org.SnapshotDoc) { *d = h.origDoc(t) }); err != nil {
		t.Fatal(err)
	}
	h.resetState(ctx, t) // the open findings of the first audit, which found root access keys in 555555555555
	busStart, hubStart := len(h.fake.Events()), len(h.fake.Findings())
	if err := h.fake.Update(func(d *org.SnapshotDoc) {
		for i := range d.Accounts {
			if d.Accounts[i].ID == "555555555555" && d.Accounts[i].Root != nil {
				f := false
				d.Accounts[i].Root.AccessKeysPresent = &f
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	h.runAudit(ctx, t)
	bus := h.fake.Events()[busStart:]
	var resolved []finding.Finding
	for _, f := range h.checkBus(t, bus) {
		if f.Status == finding.StatusResolved {
			resolved = append(resolved, f)
		}
	}
	if len(resolved) != 1 || resolved[0].Rule != "POSTURE-ROOT-ACCESS-KEYS" || resolved[0].AccountID != "555555555555" || resolved[0].ResolvedBy != finding.ResolvedByAudit {
		t.Fatalf("resolved %+v, want the root access keys finding of 555555555555, by the audit", resolved)
	}
	for i, e := range bus {
		if err := h.notifier.invoke(ctx, busEvent(e, i)); err != nil {
			t.Fatalf("notifier: %v", err)
		}
	}
	h.checkDeliveries(t, h.checkBus(t, bus), h.fake.Findings()[hubStart:])
	archived := 0
	for _, raw := range h.fake.Findings()[hubStart:] {
		var a map[string]any
		if json.Unmarshal(raw, &a) == nil && a["Id"] == resolved[0].ID && a["RecordState"] == "ARCHIVED" {
			archived++
		}
	}
	if archived != 1 {
		t.Errorf("Security Hub got %d ARCHIVED updates of %s, want 1", archived, resolved[0].ID)
	}
}

// revertRun is scp-guard started with a revert mode, on a fresh organization and state table.
type revertRun struct {
	h        *e2e
	fn       *lambdaFn
	bus, hub int // where this run's bus events and Security Hub imports start
}

func (h *e2e) startRevert(t *testing.T, mode string) *revertRun {
	t.Helper()
	h.stopEvaluators()
	if err := h.fake.Update(func(d *org.SnapshotDoc) { *d = h.origDoc(t) }); err != nil {
		t.Fatal(err)
	}
	h.fake.ResetWrites()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h.resetState(ctx, t)
	env := slices.Clone(h.env)
	env = append(env, "ROOTGUARD_REVERT="+mode, "ROOTGUARD_REVERT_ROLE="+revertRole)
	fn := startLambda(t, h.rie, function.SCPGuard, h.bins[function.SCPGuard], env)
	t.Cleanup(fn.proc.stop)
	r := &revertRun{h: h, fn: fn, bus: len(h.fake.Events()), hub: len(h.fake.Findings())}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("scp-guard log:\n%s", fn.proc.out.String())
		}
	})
	return r
}

// send applies an event to the fake organization (the change has happened when the event
// arrives), invokes scp-guard with it and returns the findings it put on the bus.
func (r *revertRun) send(t *testing.T, raw []byte) []finding.Finding {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	before := len(r.h.fake.Events())
	r.h.apply(t, mustDecode(t, raw))
	if err := r.fn.invoke(ctx, raw); err != nil {
		t.Fatalf("scp-guard: %v", err)
	}
	return r.h.checkBus(t, r.h.fake.Events()[before:])
}

// only returns the one finding of a rule.
func (r *revertRun) only(t *testing.T, fs []finding.Finding, rule string) finding.Finding {
	t.Helper()
	var out []finding.Finding
	for _, f := range fs {
		if f.Rule == rule {
			out = append(out, f)
		}
	}
	if len(out) != 1 {
		t.Fatalf("%d %s findings, want 1: %+v", len(out), rule, fs)
	}
	return out[0]
}

// deliver hands this run's bus events to the notifier and checks every delivery.
func (r *revertRun) deliver(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	bus := r.h.fake.Events()[r.bus:]
	for i, e := range bus {
		if err := r.h.notifier.invoke(ctx, busEvent(e, i)); err != nil {
			t.Fatalf("notifier, finding %d: %v", i+1, err)
		}
	}
	r.h.checkDeliveries(t, r.h.checkBus(t, bus), r.h.fake.Findings()[r.hub:])
}

func mustDecode(t *testing.T, raw []byte) *cloudtrail.Event {
	t.Helper()
	ev, err := cloudtrail.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func attached(d org.SnapshotDoc, policy, target string) bool {
	for _, p := range d.Policies {
		if p.ID == policy {
			return slices.Contains(p.Targets, target)
		}
	}
	return false
}

func parseTime(t *testing.T, v any) time.Time {
	t.Helper()
	s, _ := v.(string)
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("time %v: %v", v, err)
	}
	return tm
}

// orgsEventFrom makes an Organizations event from a sample: its id, name, parameters, time,
// and a caller that is a session of role issuer.
func orgsEventFrom(t *testing.T, sample []byte, id, name, issuer string, params map[string]any, at time.Time) []byte {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(sample, &ev); err != nil {
		t.Fatal(err)
	}
	d := ev["detail"].(map[string]any)
	stamp := at.Format(time.RFC3339)
	ev["id"], ev["time"] = "env-"+id, stamp
	d["eventID"], d["eventName"], d["eventTime"], d["requestParameters"], d["responseElements"] = id, name, stamp, params, nil
	delete(d, "errorCode")
	delete(d, "errorMessage")
	ui := d["userIdentity"].(map[string]any)
	roleName := issuer[strings.LastIndex(issuer, "/")+1:]
	ui["arn"] = "arn:aws:sts::111111111111:assumed-role/" + roleName + "/" + revertRoleName
	sc := ui["sessionContext"].(map[string]any)
	sc["sessionIssuer"].(map[string]any)["arn"] = issuer
	sc["sessionIssuer"].(map[string]any)["userName"] = roleName
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
