package rule

import (
	"cmp"
	"slices"

	"github.com/rootguard/rootguard/internal/cloudtrail"
	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/org"
)

// SelfMade reports whether an event was made by the revert role: the exact role ARN of the
// event's session issuer (an assumed-role session of that role) equals revertRole. A session
// name is never looked at: any caller chooses its own. An empty revertRole matches nothing.
func SelfMade(ev *cloudtrail.Event, revertRole string) bool {
	if ev == nil || revertRole == "" || ev.UserIdentity == nil {
		return false
	}
	u := ev.UserIdentity
	if u.Type != "AssumedRole" || u.SessionContext == nil || u.SessionContext.SessionIssuer == nil {
		return false
	}
	iss := u.SessionContext.SessionIssuer
	return iss.Type == "Role" && iss.ARN == revertRole
}

// Plan returns the Organizations calls that restore the protection a finding is about, in the
// order they must be made. It is pure: ev is the event that raised the finding and facts are the
// organization as it was just before that event (replay: the overlay before the event is applied;
// live: the facts pinned to the state before the change). There is no plan for a finding that
// is not about a successful protection change (failed calls, audit findings), for INFORMATIONAL
// findings (approved exceptions, trusted automation), for SCP-MODIFIED that only tightens (LOW),
// for SCP-DELETED (its remediation gives the commands to recreate and re-attach), for
// ACCOUNT-LEFT-ORG, nor for an event made by the revert role itself (see SelfMade).
//
//   - SCP-DETACHED: AttachPolicy (PolicyId, TargetId).
//   - SCP-MODIFIED CRITICAL or HIGH with the previous content known: UpdatePolicy (PolicyId,
//     Content = previous; Name = previous when the event renamed it). A rename without new
//     content is undone by Name alone.
//   - SCP-POLICY-TYPE-DISABLED: EnablePolicyType (RootId, PolicyType), then AttachPolicy of every
//     protection-named SCP at every target it had.
//   - SCP-NOT-EFFECTIVE after a MoveAccount: MoveAccount back (AccountId, SourceParentId = where
//     it is now, DestinationParentId = where it was).
func (e *Engine) Plan(f finding.Finding, ev *cloudtrail.Event, facts org.Facts, revertRole string) []finding.RevertCall {
	if ev == nil || ev.Failed() || f.Severity <= finding.Informational || f.Status != "" || SelfMade(ev, revertRole) {
		return nil
	}
	if facts == nil {
		facts = org.Empty{}
	}
	if ev.EventSource != cloudtrail.SourceOrganizations {
		return nil
	}
	call := func(action string, params map[string]string) finding.RevertCall {
		return finding.RevertCall{FindingID: f.ID, Rule: f.Rule, Action: action, Parameters: params}
	}
	p := ev.Param
	switch {
	case f.Rule == scpDetached.ID && ev.EventName == "DetachPolicy":
		if p("policyId") == "" || p("targetId") == "" {
			return nil
		}
		return []finding.RevertCall{call(finding.ActionAttachPolicy, map[string]string{"PolicyId": p("policyId"), "TargetId": p("targetId")})}

	case f.Rule == scpModified.ID && ev.EventName == "UpdatePolicy":
		if f.Severity < finding.High || p("policyId") == "" {
			return nil
		}
		prev, err := facts.Policy(p("policyId"))
		if err != nil {
			return nil
		}
		params := map[string]string{"PolicyId": p("policyId")}
		if p("content") != "" {
			if prev.Content == nil || *prev.Content == "" {
				return nil // the previous content is unknown: nothing to restore it to
			}
			params["Content"] = *prev.Content
		}
		if n := p("name"); n != "" && prev.Name != "" && n != prev.Name {
			params["Name"] = prev.Name
		}
		if len(params) == 1 {
			return nil
		}
		return []finding.RevertCall{call(finding.ActionUpdatePolicy, params)}

	case f.Rule == scpPolicyTypeDisabled.ID && ev.EventName == "DisablePolicyType":
		root := p("rootId")
		if root == "" || p("policyType") != org.PolicyTypeSCP {
			return nil
		}
		out := []finding.RevertCall{call(finding.ActionEnablePolicyType, map[string]string{"RootId": root, "PolicyType": org.PolicyTypeSCP})}
		policies, err := facts.Policies()
		if err != nil {
			return out
		}
		slices.SortFunc(policies, func(a, b org.Policy) int { return cmp.Compare(a.ID, b.ID) })
		for _, pol := range policies {
			if !isProtectionPolicy(&e.cfg, pol) {
				continue
			}
			targets := slices.Clone(pol.Targets)
			slices.Sort(targets)
			for _, t := range targets {
				out = append(out, call(finding.ActionAttachPolicy, map[string]string{"PolicyId": pol.ID, "TargetId": t}))
			}
		}
		return out

	case f.Rule == scpNotEffective.ID && ev.EventName == "MoveAccount":
		account, now, was := p("accountId"), p("destinationParentId"), p("sourceParentId")
		if was == "" {
			if a, err := facts.Account(account); err == nil {
				was = a.ParentID
			}
		}
		if account == "" || now == "" || was == "" || was == now {
			return nil
		}
		return []finding.RevertCall{call(finding.ActionMoveAccount, map[string]string{"AccountId": account, "SourceParentId": now, "DestinationParentId": was})}
	}
	return nil
}

// EvaluatePlan evaluates one event like Evaluate, and plans the revert of its findings (see
// Engine.Plan) against the organization as it was before the event; then it applies the event
// to the state.
func (r *Replayer) EvaluatePlan(ev *cloudtrail.Event, revertRole string) ([]finding.Finding, []finding.RevertCall) {
	out, plan, _ := r.EvaluateAll(ev, revertRole, nil)
	return out, plan
}
