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
	refCentralRootMgmt = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user.html#id_root-user-access-management"
	refCreateAccount   = "https://docs.aws.amazon.com/organizations/latest/APIReference/API_CreateAccountStatus.html"
)

// onboardingEvents are the events of an account's creation (its result, from Organizations or
// Control Tower) and of an account joining by invitation.
var onboardingEvents = []route.Event{
	serviceEvent("organizations", "CreateAccountResult"),
	serviceEvent("controltower", "CreateManagedAccount"),
	apiCall("organizations", "AcceptHandshake"),
}

var onboardingRules = []*Rule{
	{
		ID:        "ONBOARD-REPORT",
		ASFFTypes: []string{typeBestPractices + "Account Onboarding"}, Lower: exempt, Events: onboardingEvents,
		Title:       "Account onboarding report",
		Group:       GroupOnboarding,
		When:        "an account joined or was created: ownership, role, protection SCP, root credential state, and each check's result",
		Severity:    "INFORMATIONAL",
		Why:         "Every new account must start inside the policy: protection SCP effective, root credentials as the ownership model expects.",
		Remediation: "Read the check results; each failed check is raised as its own finding with its own remediation.",
		References:  []string{refCreateAccount},
		eval:        evalOnboarding,
	},
	{
		ID:        "ONBOARD-FAILED",
		ASFFTypes: []string{typeBestPractices + "Account Onboarding Failure"}, Lower: exempt, Events: onboardingEvents[:2],
		Title:       "Account creation failed",
		Group:       GroupOnboarding,
		When:        "account creation failed (`state` `FAILED`; report `failureReason`); finding's account: the management account (the event's `recipientAccountId`)",
		Severity:    "LOW",
		Why:         "A failed creation may leave a half-provisioned request or reveal a reused root email address.",
		Remediation: "Stax checks the failure reason (e.g. EMAIL_ALREADY_EXISTS means the root email is already used by another AWS account) and retries or cleans up the request.",
		References:  []string{refCreateAccount},
		eval:        evalOnboardFailed,
	},
}

func evalOnboarding(c *Ctx) []Hit {
	ch := org.ChangeOf(c.Ev)
	if ch.Kind != org.AccountJoined || ch.Account == "" {
		return nil
	}
	account, parent := ch.Account, ch.Parent
	s := c.Subject(account)
	if parent == "" {
		if ps, err := c.Facts.Parents(account); err == nil && len(ps) > 0 {
			parent = ps[0]
		} else if o, err := c.organization(); err == nil {
			parent = o.RootID // new and invited accounts join at the root
		}
	}
	checks := accountChecks(&Account{Facts: c.Facts, Cfg: c.Cfg, Subject: s, Parent: parent}, day(c.Ev.Time()))
	lines := checks.results
	how := map[string]string{
		"CreateAccountResult":  "was created (Organizations CreateAccount)",
		"CreateManagedAccount": "was created by Control Tower Account Factory",
		"AcceptHandshake":      "joined the organization by accepting an invitation",
	}[c.Ev.EventName]
	hits := []Hit{{
		Severity:  finding.Informational,
		AccountID: s.ID,
		Title:     "Onboarding report for " + s.Label(),
		Description: fmt.Sprintf("The %s %s %s. Checks: %s.",
			s.Describe(), how, where(c.Ev), strings.Join(lines, "; ")),
		IDParts: []string{s.ID},
	}}
	c.extra = append(c.extra, checks.hits...)
	return hits
}

func evalOnboardFailed(c *Ctx) []Hit {
	ev := c.Ev
	var reason, name string
	switch {
	case ev.EventSource == cloudtrail.SourceOrganizations && ev.EventName == "CreateAccountResult":
		d := ev.ServiceEventDetails
		if d == nil || d.CreateAccountStatus == nil || d.CreateAccountStatus.State != "FAILED" {
			return nil
		}
		reason, name = d.CreateAccountStatus.FailureReason, d.CreateAccountStatus.AccountName
	case ev.EventSource == cloudtrail.SourceControlTower && ev.EventName == "CreateManagedAccount":
		d := ev.ServiceEventDetails
		if d == nil || d.CreateManagedAccountStatus == nil || d.CreateManagedAccountStatus.State != "FAILED" {
			return nil
		}
		reason = d.CreateManagedAccountStatus.Message
		if d.CreateManagedAccountStatus.Account != nil {
			name = d.CreateManagedAccountStatus.Account.Name
		}
	default:
		return nil
	}
	if reason == "" {
		reason = "no reason given"
	}
	if name == "" || name == "****" {
		name = "(name redacted)"
	}
	m := c.Subject(ev.AccountID())
	return []Hit{{
		Severity:    finding.Low,
		AccountID:   m.ID,
		Title:       "Account creation failed: " + reason,
		Description: fmt.Sprintf("Creating account %s from the %s failed with %s %s.", name, m.Describe(), reason, where(ev)),
	}}
}

func day(t string) string {
	if len(t) >= 10 {
		return t[:10]
	}
	return t
}

// parentIfUnknown returns parent only when the facts do not know the account's own parents.
func parentIfUnknown(facts org.Facts, account, parent string) string {
	if _, err := facts.Parents(account); err == nil {
		return ""
	}
	return parent
}
