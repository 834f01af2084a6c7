package rule

import (
	"fmt"
	"strings"

	"github.com/rootguard/rootguard/internal/cloudtrail"
	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/org"
	"github.com/rootguard/rootguard/internal/route"
)

var ruleImpersonated = &Rule{
	ID:        "SCP-IMPERSONATED",
	ASFFTypes: scpTypes, Events: []route.Event{apiCall("organizations", "CreatePolicy", "UpdatePolicy", "AttachPolicy")},
	Lower: Lowering{ByException: always[*finding.Finding], ByTrusted: always[*cloudtrail.Event], CoveredBy: policyOf},
	Title: "A policy poses as the protection SCP",
	Group: GroupProtection,
	When: "`CreatePolicy` of an SCP whose name matches the protection names, `UpdatePolicy` that renames a policy into the names, " +
		"or `AttachPolicy` of a protection-named SCP that is not root-guarding; made by anyone but a trusted principal",
	Severity: "HIGH when the policy is not root-guarding (a decoy: it would make the audit believe protection is in place); " +
		"LOW when it is root-guarding (a new protection SCP: confirm it was expected); LOW when the call failed",
	Why: "Protection is judged by content, not by name: a protection-named SCP that does not deny root is a decoy that makes " +
		"people (and tools that trust names) believe the organization is protected, and anyone with organizations:* can create one.",
	Remediation: "Stax confirms with whoever made the change that the policy was expected; a decoy is renamed out of the " +
		"protection names or deleted, and the root-guarding Stax-Protection SCP is checked to be attached at the organization root.",
	References: []string{refSCP, refStaxSCP, refOrgsEvents},
	eval:       evalImpersonated,
}

// createdPolicy reads a CreatePolicy event: the new policy as the response records it, else (a
// failed call) the name, type and content of the request.
func createdPolicy(ev *cloudtrail.Event) org.Policy {
	if p, ok := org.CreatedPolicy(ev); ok {
		return p
	}
	p := org.Policy{Name: ev.Param("name"), Type: ev.Param("type")}
	if ev.HasParam("content") {
		c := ev.Param("content")
		p.Content = &c
	}
	return p
}

func evalImpersonated(c *Ctx) []Hit {
	ev := c.Ev
	if !orgsEvent(ev, "CreatePolicy", "UpdatePolicy", "AttachPolicy") {
		return nil
	}
	var p org.Policy
	var how string
	guarding, why := false, ""
	switch ev.EventName {
	case "CreatePolicy":
		p = createdPolicy(ev)
		if (p.Type != "" && p.Type != org.PolicyTypeSCP) || !c.Cfg.IsProtectionName(p.Name) {
			return nil
		}
		guarding, why = contentGuards(p.Content, "")
		how = fmt.Sprintf("created the SCP %q", p.Name)
	case "UpdatePolicy":
		newName := ev.Param("name")
		if newName == "" || !c.Cfg.IsProtectionName(newName) {
			return nil
		}
		prev, err := c.Facts.Policy(ev.Param("policyId"))
		if err == nil && (isProtectionPolicy(c.Cfg, prev) || (prev.Type != "" && prev.Type != org.PolicyTypeSCP)) {
			return nil // a protection SCP renamed within the names is SCP-MODIFIED's; other types do not count
		}
		p = prev
		p.ID = ev.Param("policyId")
		old := prev.Name
		if err != nil || old == "" {
			old = "a name rootguard does not know"
		}
		if ev.HasParam("content") {
			content := ev.Param("content")
			guarding, why = contentGuards(&content, "")
		} else {
			guarding, why = rootGuarding(c.Facts, prev, "")
		}
		how = fmt.Sprintf("renamed the policy %s from %s to %q, into the protection SCP names", p.ID, old, newName)
		p.Name = newName
	case "AttachPolicy":
		found, err := c.Facts.Policy(ev.Param("policyId"))
		if err != nil || !isProtectionPolicy(c.Cfg, found) {
			return nil
		}
		p = found
		guarding, why = rootGuarding(c.Facts, p, "")
		if guarding {
			return nil // attaching a root-guarding protection SCP is what should happen
		}
		how = fmt.Sprintf("attached the protection-named SCP %s to %s", policyLabel(p), targetLabel(c, ev.Param("targetId")))
	}
	sev := finding.High
	judged := "It is not root-guarding: " + why + ". It is a decoy: it carries the protection name without restricting root, so anyone who judges protection by name would believe the organization is protected."
	if guarding {
		sev = finding.Low
		judged = "Its content denies root, so it is a new protection SCP: confirm it was expected."
	}
	if ev.Failed() {
		sev = finding.Low
	}
	resources := []string{}
	if p.ID != "" {
		resources = append(resources, p.ID)
	}
	if t := ev.Param("targetId"); t != "" {
		resources = append(resources, t)
	}
	m := c.managementSubject()
	return []Hit{{
		Severity:    sev,
		AccountID:   m.ID,
		Title:       fmt.Sprintf("Policy %s poses as a protection SCP", policyLabel(p)),
		Description: fmt.Sprintf("%s %s %s; the name matches the protection SCP names (%s). %s%s", ev.Actor(), how, where(ev), strings.Join(c.Cfg.ProtectionSCPNames, ", "), judged, failedNote(ev)),
		Resources:   resources,
	}}
}
