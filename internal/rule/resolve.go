package rule

import (
	"github.com/rootguard/rootguard/internal/cloudtrail"
	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/org"
	"github.com/rootguard/rootguard/internal/policy"
	"github.com/rootguard/rootguard/internal/statekey"
)

// Open is a finding that stays open until the protection it is about is restored, with what
// tells its restoration. Live it is kept in the state table (item id OpenKeyPrefix + Key), in a
// replay in memory (Tracker).
type Open struct {
	// Key names the protection the finding is about (see OpenKey); an event that may restore it
	// lists the same key in ResolveKeys.
	Key string `json:"key"`
	// Finding is the finding as it was raised; resolving sends it again.
	Finding finding.Finding `json:"finding"`
	// Baseline is, for SCP-MODIFIED, the policy's content before the change (nil when unknown):
	// restored content must cover it again.
	Baseline *string `json:"baseline,omitempty"`
}

// OpenKeyPrefix starts the id of every open-finding item in the state table.
const OpenKeyPrefix = statekey.Open

// Open-finding keys, by the protection a finding is about.
func keyDetached(policyID, target string) string { return "detached/" + policyID + "/" + target }
func keyModified(policyID string) string         { return "modified/" + policyID }
func keyPolicyType(root string) string           { return "policy-type/" + root }
func keyAccount(account string) string           { return "account/" + account }

// OpenRecord returns the record that keeps a finding open until the protection it is about is
// restored; ok is false for a finding that does not stay open: one not about a successful
// protection change (failed calls, root, onboarding and audit findings), SCP-MODIFIED that only
// tightens (LOW), SCP-DELETED and ACCOUNT-LEFT-ORG (nothing rootguard sees can restore them). An
// INFORMATIONAL finding (approved exception, trusted automation) stays open too: it is resolved
// when the protection comes back, also after the exception expired. before are the facts as they
// were before ev (as for Plan).
func (e *Engine) OpenRecord(f finding.Finding, ev *cloudtrail.Event, before org.Facts) (Open, bool) {
	if ev == nil || ev.Failed() || f.Status != "" || ev.EventSource != cloudtrail.SourceOrganizations {
		return Open{}, false
	}
	if before == nil {
		before = org.Empty{}
	}
	p := ev.Param
	o := Open{Finding: f}
	switch {
	case f.Rule == scpDetached.ID && ev.EventName == "DetachPolicy" && p("policyId") != "" && p("targetId") != "":
		o.Key = keyDetached(p("policyId"), p("targetId"))
	case f.Rule == scpModified.ID && ev.EventName == "UpdatePolicy" && p("policyId") != "":
		if f.Severity == finding.Low {
			return Open{}, false
		}
		o.Key = keyModified(p("policyId"))
		if prev, err := before.Policy(p("policyId")); err == nil && prev.Content != nil && *prev.Content != "" {
			c := *prev.Content
			o.Baseline = &c
		}
	case f.Rule == scpPolicyTypeDisabled.ID && ev.EventName == "DisablePolicyType" && p("rootId") != "":
		o.Key = keyPolicyType(p("rootId"))
	case f.Rule == scpNotEffective.ID && ev.EventName == "MoveAccount" && p("accountId") != "":
		o.Key = keyAccount(p("accountId"))
	default:
		return Open{}, false
	}
	return o, true
}

// ResolveKeys lists the keys of the open findings an event may resolve (see Restores): a
// successful AttachPolicy, UpdatePolicy, EnablePolicyType or MoveAccount.
func ResolveKeys(ev *cloudtrail.Event) []string {
	if ev == nil || ev.Failed() || ev.EventSource != cloudtrail.SourceOrganizations {
		return nil
	}
	p := ev.Param
	switch ev.EventName {
	case "AttachPolicy":
		if p("policyId") != "" && p("targetId") != "" {
			return []string{keyDetached(p("policyId"), p("targetId"))}
		}
	case "UpdatePolicy":
		if p("policyId") != "" {
			return []string{keyModified(p("policyId"))}
		}
	case "EnablePolicyType":
		if p("rootId") != "" && p("policyType") == org.PolicyTypeSCP {
			return []string{keyPolicyType(p("rootId"))}
		}
	case "MoveAccount":
		if p("accountId") != "" {
			return []string{keyAccount(p("accountId"))}
		}
	}
	return nil
}

// Restores reports whether a successful event restores the protection an open finding is about
// (before are the facts as they were before ev):
//
//   - SCP-DETACHED: the protection SCP attached again to the target it was detached from;
//   - SCP-MODIFIED: the policy's name matches the protection names again and its content covers
//     the content before the change (nothing of it weakened), or, when that is unknown, denies root;
//   - SCP-POLICY-TYPE-DISABLED: the SCP policy type enabled again at that root;
//   - SCP-NOT-EFFECTIVE after a move: the account moved to where a root-guarding protection
//     applies.
func (e *Engine) Restores(o Open, ev *cloudtrail.Event, before org.Facts) bool {
	keys := ResolveKeys(ev)
	if len(keys) == 0 || keys[0] != o.Key {
		return false
	}
	if before == nil {
		before = org.Empty{}
	}
	p := ev.Param
	switch o.Finding.Rule {
	case scpDetached.ID, scpPolicyTypeDisabled.ID:
		return true
	case scpModified.ID:
		cur, err := before.Policy(p("policyId"))
		if err != nil {
			return false
		}
		name, content := cur.Name, cur.ContentText()
		if v := p("name"); v != "" {
			name = v
		}
		if v := p("content"); v != "" {
			content = v
		}
		if name == "" || !e.cfg.IsProtectionName(name) || content == "" {
			return false
		}
		if o.Baseline == nil {
			doc, err := policy.Parse(content)
			return err == nil && doc.DeniesRoot()
		}
		ch, err := policy.Compare(*o.Baseline, content)
		return err == nil && ch.Kind != policy.Weakened
	case scpNotEffective.ID:
		effect, _ := protectionState(before, &e.cfg, p("accountId"), p("destinationParentId"))
		return effect == Effective
	}
	return false
}

// Resolved returns the finding again, resolved: status resolved, resolvedAt (RFC 3339) and
// resolvedBy (the id of the event that restored the protection, or finding.ResolvedByAudit).
// It carries its rule's ASFF types, as when it was raised (an open finding is stored without
// them).
func Resolved(f finding.Finding, at, by string) finding.Finding {
	f.Status, f.ResolvedAt, f.ResolvedBy = finding.StatusResolved, at, by
	f.Revert = ""
	if r, ok := ByID(f.Rule); ok && len(f.Types) == 0 {
		f.Types = r.ASFFTypes
	}
	return f
}

// Tracker keeps the open findings of a replay in memory.
type Tracker struct {
	eng  *Engine
	open map[string][]Open
}

// NewTracker returns an empty Tracker.
func (e *Engine) NewTracker() *Tracker { return &Tracker{eng: e, open: map[string][]Open{}} }

// Step records the findings ev raised that stay open, and returns the open findings ev resolves
// (before are the facts as they were before ev). A finding ev raises itself is never resolved
// by ev.
func (t *Tracker) Step(ev *cloudtrail.Event, findings []finding.Finding, before org.Facts) []finding.Finding {
	var out []finding.Finding
	for _, k := range ResolveKeys(ev) {
		kept := t.open[k][:0]
		for _, o := range t.open[k] {
			if t.eng.Restores(o, ev, before) {
				out = append(out, Resolved(o.Finding, ev.Time(), ev.ID()))
				continue
			}
			kept = append(kept, o)
		}
		if len(kept) == 0 {
			delete(t.open, k)
		} else {
			t.open[k] = kept
		}
	}
	for _, f := range findings {
		if o, ok := t.eng.OpenRecord(f, ev, before); ok {
			t.open[o.Key] = append(t.open[o.Key], o)
		}
	}
	return out
}

// OpenCount is the number of open findings kept.
func (t *Tracker) OpenCount() int {
	n := 0
	for _, l := range t.open {
		n += len(l)
	}
	return n
}

// EvaluateAll evaluates one event like Evaluate, plans the revert of its findings (see
// Engine.Plan) and resolves the open findings it restores (tracker, may be nil), all against
// the organization as it was before the event; then it applies the event to the state.
func (r *Replayer) EvaluateAll(ev *cloudtrail.Event, revertRole string, tracker *Tracker) (findings []finding.Finding, plan []finding.RevertCall, resolved []finding.Finding) {
	return r.step(ev, true, revertRole, tracker)
}

// step is one event of a replay: evaluate it against the state before it, plan its revert (when
// asked) and resolve what it restores from that same state, record what it tells of ownership
// and the exceptions it grants or the trust it suspends, then apply it to the state.
func (r *Replayer) step(ev *cloudtrail.Event, planning bool, revertRole string, tracker *Tracker) (findings []finding.Finding, plan []finding.RevertCall, resolved []finding.Finding) {
	findings = r.eng.EvaluateWith(ev, r.State, r.Custody)
	if planning {
		for _, f := range findings {
			plan = append(plan, r.eng.Plan(f, ev, r.State, revertRole)...)
		}
	}
	if tracker != nil {
		resolved = tracker.Step(ev, findings, r.State)
	}
	r.recordOwnership(ev, findings)
	r.Custody.Apply(r.eng.Witness(ev, r.Custody))
	r.State.Apply(ev)
	return findings, plan, resolved
}
