package rule

import (
	"fmt"
	"strings"

	"github.com/rootguard/rootguard/internal/cloudtrail"
	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/org"
	"github.com/rootguard/rootguard/internal/route"
)

const (
	refCentralRootAccess = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user.html#id_root-user-access-management"
	refListFeature       = "https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListOrganizationsFeatures.html"
)

var ruleCentralAccessDisabled = &Rule{
	ID:        "ROOT-CENTRAL-ACCESS-DISABLED",
	ASFFTypes: []string{typeRootUsage}, Lower: neverLowered, Events: []route.Event{apiCall("iam", "DisableOrganizationsRootCredentialsManagement", "DisableOrganizationsRootSessions")},
	Title: "Centralised root access disabled",
	Group: GroupProtection,
	When: "IAM `DisableOrganizationsRootCredentialsManagement` or `DisableOrganizationsRootSessions` (management account); " +
		"and in the audit, when the organization facts say the organization lacks the `RootCredentialsManagement` feature",
	Severity: "HIGH (members can hold root credentials again, or central root sessions stop); MEDIUM when the call failed; " +
		"the audit says so, at LOW, when the features are unknown",
	Why: "With RootCredentialsManagement, member accounts are created without root credentials and the management account can " +
		"remove them; with RootSessions, root tasks go through short audited sessions. Disabling either lets members hold root credentials again.",
	Remediation: "Stax re-enables the feature from the management account (IAM EnableOrganizationsRootCredentialsManagement / " +
		"EnableOrganizationsRootSessions) and finds out who disabled it and why.",
	References: []string{refCentralRootAccess, refListFeature},
	eval:       evalCentralAccessDisabled,
}

// centralFeatureOf maps the IAM Disable call to the feature it turns off.
var centralFeatureOf = map[string]string{
	"DisableOrganizationsRootCredentialsManagement": org.FeatureRootCredentialsManagement,
	"DisableOrganizationsRootSessions":              org.FeatureRootSessions,
}

func evalCentralAccessDisabled(c *Ctx) []Hit {
	ev := c.Ev
	feature, ok := centralFeatureOf[ev.EventName]
	if !ok || ev.EventSource != cloudtrail.SourceIAM {
		return nil
	}
	m := c.managementSubject()
	effect := "member accounts can hold root credentials again, and the management account can no longer remove them"
	if feature == org.FeatureRootSessions {
		effect = "central root sessions (sts:AssumeRoot) stop, so root tasks in members need root credentials again"
	}
	return []Hit{{
		Severity:    protectionSeverity(ev, finding.High),
		AccountID:   m.ID,
		Title:       fmt.Sprintf("Centralised root access feature %s disabled", feature),
		Description: fmt.Sprintf("%s called iam:%s %s, turning off the organization feature %s: %s.%s", ev.Actor(), ev.EventName, where(ev), feature, effect, failedNote(ev)),
		Remediation: "Stax re-enables the feature from the management account (iam:Enable" + strings.TrimPrefix(ev.EventName, "Disable") + ") and finds out who disabled it and why.",
		Resources:   []string{feature},
	}}
}

// auditCentralAccess is the audit's ROOT-CENTRAL-ACCESS-DISABLED check on the organization facts.
func auditCentralAccess(o org.Organization, stamp string) (Hit, bool) {
	has, known := o.HasFeature(org.FeatureRootCredentialsManagement)
	switch {
	case !known:
		return Hit{
			Severity:    finding.Low,
			AccountID:   o.ManagementAccountID,
			Title:       "Centralised root access unverified in organization " + o.ID,
			Description: fmt.Sprintf("The audit of organization %s at %s could not verify the centralised root access features: the organization facts do not say which IAM organization features are enabled (features unknown; iam:ListOrganizationsFeatures was not read or was refused). Nothing is assumed either way.", o.ID, stamp),
		}, true
	case !has:
		enabled := "none"
		if len(o.Features) > 0 {
			enabled = strings.Join(o.Features, ", ")
		}
		return Hit{
			Severity:    finding.High,
			AccountID:   o.ManagementAccountID,
			Title:       "Centralised root credentials management off in organization " + o.ID,
			Description: fmt.Sprintf("The audit of organization %s at %s found that the IAM organization feature %s is not enabled (enabled features: %s), so member accounts can hold root credentials and the management account cannot remove them centrally.", o.ID, stamp, org.FeatureRootCredentialsManagement, enabled),
		}, true
	}
	return Hit{}, false
}
