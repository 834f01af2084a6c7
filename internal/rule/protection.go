package rule

import (
	"fmt"
	"slices"
	"strings"

	"github.com/rootguard/rootguard/internal/cloudtrail"
	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/org"
	"github.com/rootguard/rootguard/internal/policy"
	"github.com/rootguard/rootguard/internal/route"
)

const (
	refSCP        = "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html"
	refStaxSCP    = "https://support.stax.io/docs/accounts/service-control-policies-for-global-protection"
	refOrgsEvents = "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_cloudtrail-integration.html"
)

const protectionRemedy = "Stax restores the protection SCP (re-attach it at the organization root, restore its content or re-enable the SCP policy type) and finds out who made the change and why. If it was a sanctioned guardrail toggle, have an exception approver grant it beforehand next time (TagResource rootguard:exception on the policy or the target)."

// resourcesOf: an exception on any resource the finding names covers it (SCP-DETACHED: the
// policy and the target; SCP-MISSING: the organization root).
func resourcesOf(f *finding.Finding) []string {
	return slices.DeleteFunc(slices.Clone(f.Resources), func(s string) bool { return s == "" })
}

// policyOf: an exception on the policy the finding names (its first resource) covers it.
func policyOf(f *finding.Finding) []string {
	if len(f.Resources) > 0 && f.Resources[0] != "" {
		return f.Resources[:1]
	}
	return nil
}

// The protection rules the open findings and the revert plans name.
var (
	scpDetached = &Rule{
		ID:        "SCP-DETACHED",
		ASFFTypes: scpTypes, Events: []route.Event{apiCall("organizations", "DetachPolicy", "AttachPolicy")}, // AttachPolicy resolves it
		Lower:       Lowering{ByException: always[*finding.Finding], ByTrusted: always[*cloudtrail.Event], CoveredBy: resourcesOf},
		Title:       "Protection SCP detached",
		Group:       GroupProtection,
		When:        "`DetachPolicy` of a protection SCP from the root, an OU or an account",
		Severity:    "CRITICAL; MEDIUM when the call failed (an attack signal)",
		Why:         "The Stax-Protection SCP is what limits root credentials in member accounts; detached, every account below the target loses that limit.",
		Remediation: protectionRemedy,
		References:  []string{refSCP, refStaxSCP},
		eval:        evalDetached,
	}
	scpModified = &Rule{
		ID:        "SCP-MODIFIED",
		ASFFTypes: scpTypes, Events: []route.Event{apiCall("organizations", "UpdatePolicy")},
		Lower: Lowering{ByException: always[*finding.Finding], ByTrusted: always[*cloudtrail.Event], CoveredBy: policyOf},
		Title: "Protection SCP modified",
		Group: GroupProtection,
		When:  "`UpdatePolicy` of a protection SCP",
		Severity: "CRITICAL when the root protection is weakened or the new name no longer matches the protection names; LOW when the change only tightens; " +
			"HIGH for any other change, and when the previous content is unknown but the new one still denies root; MEDIUM when the call failed",
		Why:         "Changing the protection SCP's content can silently lift the root restrictions without any detach.",
		Remediation: protectionRemedy,
		References:  []string{refSCP, refStaxSCP},
		eval:        evalModified,
	}
	scpPolicyTypeDisabled = &Rule{
		ID:        "SCP-POLICY-TYPE-DISABLED",
		ASFFTypes: scpTypes, Events: []route.Event{apiCall("organizations", "DisablePolicyType", "EnablePolicyType")}, Lower: neverLowered, // EnablePolicyType resolves it
		Title:       "SCP policy type disabled",
		Group:       GroupProtection,
		When:        "`DisablePolicyType` with `policyType` `SERVICE_CONTROL_POLICY`",
		Severity:    "CRITICAL; MEDIUM when the call failed",
		Why:         "Disabling the SCP policy type stops every SCP from applying and loses every SCP attachment, the protection SCP's included.",
		Remediation: "Stax re-enables the SCP policy type at the root (EnablePolicyType), re-attaches the protection SCP and every other SCP, and finds out who disabled it.",
		References:  []string{refSCP},
		eval:        evalPolicyTypeDisabled,
	}
	scpNotEffective = &Rule{
		ID:        "SCP-NOT-EFFECTIVE",
		ASFFTypes: scpTypes, Events: []route.Event{apiCall("organizations", "MoveAccount")}, Check: checkProtection,
		Lower:       Lowering{ByException: always[*finding.Finding], ByTrusted: func(ev *cloudtrail.Event) bool { return orgsEvent(ev, "MoveAccount") }},
		Title:       "Protection SCP not effective on a member account",
		Group:       GroupProtection,
		When:        "after `MoveAccount` (for the moved account, at its destination), at onboarding, or in the audit: no root-guarding protection SCP applies to a member account; after `MoveAccount` also when the account keeps a root-guarding protection but loses a protection-named SCP that applied at its source",
		Severity:    "HIGH when no root-guarding protection applies; MEDIUM when one still applies but a protection SCP was lost by the move; LOW when the move failed",
		Why:         "Without the protection SCP on its path, nothing limits what root credentials can do in the account.",
		Remediation: "Stax moves the account back under an OU covered by the protection SCP, or attaches the protection SCP where it is missing.",
		References:  []string{refSCP, refStaxSCP},
		eval:        evalMoveAccount,
	}
)

var protectionRules = []*Rule{
	scpDetached,
	{
		ID:        "SCP-DELETED",
		ASFFTypes: scpTypes, Events: []route.Event{apiCall("organizations", "DeletePolicy")}, Lower: Lowering{Never: true, CoveredBy: policyOf},
		Title:       "Protection SCP deleted",
		Group:       GroupProtection,
		When:        "`DeletePolicy` of a protection SCP",
		Severity:    "CRITICAL; MEDIUM when the call failed",
		Why:         "Deleting the protection SCP removes the root restrictions from the whole organization for good.",
		Remediation: protectionRemedy,
		References:  []string{refSCP, refStaxSCP},
		eval:        evalDeleted,
	},
	scpModified,
	scpPolicyTypeDisabled,
	scpNotEffective,
	scpMissing,
	{
		ID:        "ACCOUNT-LEFT-ORG",
		ASFFTypes: []string{typeDefenseLeft, typeConfigOrg}, Lower: neverLowered, Events: []route.Event{apiCall("organizations", "RemoveAccountFromOrganization", "LeaveOrganization")},
		Title:       "Account left the organization",
		Group:       GroupProtection,
		When:        "`LeaveOrganization` (recorded in the member) or `RemoveAccountFromOrganization`",
		Severity:    "CRITICAL; MEDIUM when the call failed",
		Why:         "An account outside the organization escapes every SCP and the Stax MFA regime, with whatever root credentials it has.",
		Remediation: "Stax confirms whether the departure was approved; if not, contact AWS and the account's owner at once, and secure the account's root credentials.",
		References:  []string{refOrgsEvents},
		eval:        evalLeft,
	},
	ruleImpersonated,
	ruleCentralAccessDisabled,
	ruleTrailTampered,
}

func orgsEvent(ev *cloudtrail.Event, names ...string) bool {
	if ev.EventSource != cloudtrail.SourceOrganizations {
		return false
	}
	for _, n := range names {
		if ev.EventName == n {
			return true
		}
	}
	return false
}

// protectionSeverity is CRITICAL, or MEDIUM for a failed attempt (an attack signal).
func protectionSeverity(ev *cloudtrail.Event, sev finding.Severity) finding.Severity {
	if ev.Failed() {
		return finding.Medium
	}
	return sev
}

// managementSubject is the finding's account for protection rules: the management account, or
// the account that recorded the event when the management account is unknown.
func (c *Ctx) managementSubject() Subject {
	if o, err := c.organization(); err == nil && o.ManagementAccountID != "" {
		return c.Subject(o.ManagementAccountID)
	}
	return c.Subject(c.Ev.AccountID())
}

func policyLabel(p org.Policy) string {
	if p.Name != "" {
		return fmt.Sprintf("%s (%s)", p.Name, p.ID)
	}
	return p.ID
}

func targetLabel(c *Ctx, id string) string {
	switch org.TargetKind(id) {
	case "root":
		return "the organization root " + id
	case "ou":
		return "OU " + id
	case "account":
		return "account " + c.Subject(id).Label()
	}
	return id
}

func evalDetached(c *Ctx) []Hit {
	ev := c.Ev
	if !orgsEvent(ev, "DetachPolicy") {
		return nil
	}
	p, prot, known := c.protectionPolicy(ev.Param("policyId"))
	if known && !prot {
		return nil
	}
	target := ev.Param("targetId")
	m := c.managementSubject()
	note := ""
	if !known {
		note = " The policy could not be looked up, so it is treated as a protection SCP (fail closed)."
	}
	return []Hit{{
		Severity:    protectionSeverity(ev, finding.Critical),
		AccountID:   m.ID,
		Title:       fmt.Sprintf("Protection SCP %s detached from %s", policyLabel(p), target),
		Description: fmt.Sprintf("%s detached the protection SCP %s from %s %s. Every member account below it loses the root restrictions unless another protection SCP covers it.%s%s", ev.Actor(), policyLabel(p), targetLabel(c, target), where(ev), note, failedNote(ev)),
		Remediation: protectionRemedy,
		Resources:   []string{p.ID, target},
	}}
}

func evalDeleted(c *Ctx) []Hit {
	ev := c.Ev
	if !orgsEvent(ev, "DeletePolicy") {
		return nil
	}
	p, prot, known := c.protectionPolicy(ev.Param("policyId"))
	if known && !prot {
		return nil
	}
	m := c.managementSubject()
	return []Hit{{
		Severity:    protectionSeverity(ev, finding.Critical),
		AccountID:   m.ID,
		Title:       fmt.Sprintf("Protection SCP %s deleted", policyLabel(p)),
		Description: fmt.Sprintf("%s deleted the protection SCP %s %s. The root restrictions it carried are gone for the whole organization.%s", ev.Actor(), policyLabel(p), where(ev), failedNote(ev)),
		Remediation: protectionRemedy,
		Resources:   []string{p.ID},
	}}
}

func evalModified(c *Ctx) []Hit {
	ev := c.Ev
	if !orgsEvent(ev, "UpdatePolicy") {
		return nil
	}
	p, prot, known := c.protectionPolicy(ev.Param("policyId"))
	if known && !prot {
		return nil
	}
	m := c.managementSubject()
	var reasons []string
	sev := finding.High
	newName := ev.Param("name")
	if newName != "" && !c.Cfg.IsProtectionName(newName) {
		sev = finding.Critical
		reasons = append(reasons, fmt.Sprintf("it was renamed to %q, which no longer matches the protection SCP names (%s)", newName, strings.Join(c.Cfg.ProtectionSCPNames, ", ")))
	}
	content := ev.Param("content")
	switch {
	case content == "":
		if sev != finding.Critical {
			reasons = append(reasons, "its name or description changed (no new content)")
		}
	case p.Content == nil || *p.Content == "":
		doc, err := policy.Parse(content)
		switch {
		case err != nil:
			sev = finding.Critical
			reasons = append(reasons, "the new content could not be read ("+err.Error()+"), so it is treated as weakened")
		case !doc.DeniesRoot():
			sev = finding.Critical
			reasons = append(reasons, "the new content has no Deny aimed at root")
		default:
			reasons = append(reasons, "the previous content is unknown; the new content still denies root")
		}
	default:
		ch, err := policy.Compare(*p.Content, content)
		switch {
		case err != nil:
			sev = finding.Critical
			reasons = append(reasons, "the contents could not be compared ("+err.Error()+"), so the change is treated as weakening")
		case ch.Kind == policy.Weakened:
			sev = finding.Critical
			reasons = append(reasons, "the root protection is weakened: "+strings.Join(ch.Reasons, "; "))
		case ch.Kind == policy.Tightened || ch.Kind == policy.Unchanged:
			if sev != finding.Critical {
				sev = finding.Low
			}
			if ch.Kind == policy.Unchanged {
				reasons = append(reasons, "the content is unchanged in effect")
			} else {
				reasons = append(reasons, "the change only tightens the policy")
			}
		default:
			detail := "the content changed in a way that neither only tightens nor weakens the root Deny"
			if len(ch.Reasons) > 0 {
				detail += ": " + strings.Join(ch.Reasons, "; ")
			}
			reasons = append(reasons, detail)
		}
	}
	if !known {
		sev = finding.Critical
		reasons = append(reasons, "the policy could not be looked up, so it is treated as a protection SCP (fail closed)")
	}
	return []Hit{{
		Severity:    protectionSeverity(ev, sev),
		AccountID:   m.ID,
		Title:       fmt.Sprintf("Protection SCP %s modified", policyLabel(p)),
		Description: fmt.Sprintf("%s updated the protection SCP %s %s: %s.%s", ev.Actor(), policyLabel(p), where(ev), strings.Join(reasons, "; "), failedNote(ev)),
		Remediation: protectionRemedy,
		Resources:   []string{p.ID},
	}}
}

func evalPolicyTypeDisabled(c *Ctx) []Hit {
	ev := c.Ev
	if !orgsEvent(ev, "DisablePolicyType") || ev.Param("policyType") != org.PolicyTypeSCP {
		return nil
	}
	m := c.managementSubject()
	root := ev.Param("rootId")
	return []Hit{{
		Severity:    protectionSeverity(ev, finding.Critical),
		AccountID:   m.ID,
		Title:       "SCP policy type disabled at " + root,
		Description: fmt.Sprintf("%s disabled the SERVICE_CONTROL_POLICY type at the organization root %s %s. Every SCP stops applying and every SCP attachment is lost, the protection SCP's included.%s", ev.Actor(), root, where(ev), failedNote(ev)),
		Resources:   []string{root},
	}}
}

func evalLeft(c *Ctx) []Hit {
	ev := c.Ev
	var account, how string
	switch {
	case orgsEvent(ev, "LeaveOrganization"):
		account = ev.AccountID()
		how = "left the organization (LeaveOrganization, called from inside the account)"
	case orgsEvent(ev, "RemoveAccountFromOrganization"):
		account = ev.Param("accountId")
		how = "was removed from the organization (RemoveAccountFromOrganization)"
	default:
		return nil
	}
	s := c.Subject(account)
	return []Hit{{
		Severity:    protectionSeverity(ev, finding.Critical),
		AccountID:   s.ID,
		Title:       fmt.Sprintf("Account %s left the organization", s.Label()),
		Description: fmt.Sprintf("The %s %s; %s acted %s. Outside the organization it escapes every SCP and the Stax root MFA regime.%s", s.Describe(), how, ev.Actor(), where(ev), failedNote(ev)),
	}}
}

var scpMissing = &Rule{
	ID:        "SCP-MISSING",
	ASFFTypes: scpTypes, Lower: Lowering{ByException: always[*finding.Finding], CoveredBy: resourcesOf},
	Title:       "No protection SCP in the organization",
	Group:       GroupProtection,
	When:        "audit only: the organization has no root-guarding protection SCP attached anywhere (protection-named decoys are ignored, and named), or SCPs are disabled at the root",
	Severity:    "CRITICAL",
	Why:         "The mandatory Stax-Protection SCP is the only control that limits root credentials in member accounts.",
	Remediation: "Stax enables the SCP policy type at the root and attaches the protection SCP to the organization root.",
	References:  []string{refSCP, refStaxSCP},
	AuditOnly:   true,
}
