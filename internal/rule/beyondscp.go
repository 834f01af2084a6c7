package rule

import (
	"fmt"
	"strings"

	"github.com/rootguard/rootguard/internal/cloudtrail"
	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/route"
)

// References of ROOT-BEYOND-SCP's task list (aws-facts.md §3.1 to §3.3).
const (
	refBillingTrail = "https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/logging-using-cloudtrail.html"
	refAccountAPI   = "https://docs.aws.amazon.com/accounts/latest/reference/API_Operations.html"
	refNotBySCP     = "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html#not-restricted-by-scp"
)

// BeyondSCPTask is one root task that no SCP can restrict or that only root can make, as
// CloudTrail records it. The list is data: ROOT-BEYOND-SCP matches on it and nothing else.
type BeyondSCPTask struct {
	// EventSource is the CloudTrail eventSource.
	EventSource string
	// EventName is the CloudTrail eventName; "" matches every call of the source that is not
	// read-only (the names are unconfirmed, so the whole service is taken).
	EventName string
	// Task says what the call does.
	Task string
	// Source is where the fact comes from.
	Source string
}

// beyondSCPTasks is the one list of root tasks beyond any SCP (rules.md, "Root tasks beyond any
// SCP"; aws-facts.md §3.3).
var beyondSCPTasks = []BeyondSCPTask{
	{"billingconsole.amazonaws.com", "CloseAccount", "close the account", refBillingTrail},
	{"billingconsole.amazonaws.com", "SetAccountPreferences", "change the account name, email or root password", refBillingTrail},
	{"billingconsole.amazonaws.com", "SetIAMAccessPreference", "turn IAM access to billing on or off", refBillingTrail},
	{"billingconsole.amazonaws.com", "SetSecurityQuestions", "set the security challenge questions", refBillingTrail},
	{"billingconsole.amazonaws.com", "SetAdditionalContacts", "change the alternate contacts", refBillingTrail},
	{"billingconsole.amazonaws.com", "SetContactAddress", "change the contact address", refBillingTrail},
	{"account.amazonaws.com", "CloseAccount", "close the account", "Elastic rule impact_aws_account_closed (account, billingconsole and organizations sources)"},
	{"account.amazonaws.com", "PutAccountName", "change the account name", refAccountAPI},
	{"account.amazonaws.com", "StartPrimaryEmailUpdate", "request a change of the root email", refAccountAPI},
	{"account.amazonaws.com", "AcceptPrimaryEmailUpdate", "change the root email", refAccountAPI},
	{"account.amazonaws.com", "PutAlternateContact", "change an alternate contact", refAccountAPI},
	{"account.amazonaws.com", "DeleteAlternateContact", "delete an alternate contact", refAccountAPI},
	{"account.amazonaws.com", "PutContactInformation", "change the contact information", refAccountAPI},
	{"organizations.amazonaws.com", "CloseAccount", "close the account", "Elastic rule impact_aws_account_closed (account, billingconsole and organizations sources)"},
	{"signin.amazonaws.com", "PasswordUpdated", "change the root password", "Panther rule aws_root_password_changed"},
	{"supportplans.amazonaws.com", "", "change the support plan (any call that is not read-only)", refNotBySCP + " (changing the support level as root)"},
	{"taxconsole.amazonaws.com", "", "change tax settings (any call that is not read-only)", refRootTasks + " (tax invoices and settings)"},
	{"taxconsole.amazon.com", "", "change tax settings (any call that is not read-only; the source is seen spelled so too)", refRootTasks + " (tax invoices and settings)"},
	{"cloudfront.amazonaws.com", "*CloudFrontKeyPair*", "manage CloudFront key pairs (root only; event names unconfirmed)", refNotBySCP + " (trusted-signer functionality for CloudFront)"},
	{"iam.amazonaws.com", "*CloudFrontKeyPair*", "manage CloudFront key pairs (root only; event names unconfirmed)", refNotBySCP + " (trusted-signer functionality for CloudFront)"},
}

// BeyondSCPTasks returns the list ROOT-BEYOND-SCP matches on.
func BeyondSCPTasks() []BeyondSCPTask { return append([]BeyondSCPTask(nil), beyondSCPTasks...) }

// readOnlyCall reports a read-only call: readOnly true, or a name that only reads.
func readOnlyCall(ev *cloudtrail.Event) bool {
	if ev.ReadOnly.Bool() {
		return true
	}
	for _, p := range []string{"Get", "List", "Describe", "Download", "View"} {
		if strings.HasPrefix(ev.EventName, p) {
			return true
		}
	}
	return false
}

// beyondSCPTask returns the task an event performs, or false.
func beyondSCPTask(ev *cloudtrail.Event) (BeyondSCPTask, bool) {
	for _, t := range beyondSCPTasks {
		if t.EventSource != ev.EventSource {
			continue
		}
		switch {
		case t.EventName == "":
			if !readOnlyCall(ev) {
				return t, true
			}
		case strings.HasPrefix(t.EventName, "*") && strings.HasSuffix(t.EventName, "*"):
			if strings.Contains(ev.EventName, strings.Trim(t.EventName, "*")) {
				return t, true
			}
		case t.EventName == ev.EventName:
			return t, true
		}
	}
	return BeyondSCPTask{}, false
}

// BeyondSCPNeverLowered reports a ROOT-BEYOND-SCP finding that no exception or trusted principal
// may lower: closing the account (rules.md, "Never lowered").
func BeyondSCPNeverLowered(f finding.Finding) bool {
	return f.Rule == beyondSCPRule.ID && !beyondSCPRule.Lower.ByException(&f)
}

var beyondSCPRule = &Rule{
	ID:        "ROOT-BEYOND-SCP",
	ASFFTypes: []string{typeRootUsage, "TTPs/Defense Evasion/Root Task Beyond SCP"}, Events: []route.Event{anyRootCall, rootSignIn("PasswordUpdated")},
	// Closing the account is never lowered (rules.md, "Never lowered").
	Lower: Lowering{ByException: func(f *finding.Finding) bool { return f.EventName != "CloseAccount" }},
	Title: "Root task beyond any SCP",
	Group: GroupRoot,
	When: "a root call that no SCP can restrict or that only root can make (see \"Root tasks beyond any SCP\"): closing the account, changing the account's name, email or root password, " +
		"billing access, security questions, alternate contacts, support plan, tax settings, CloudFront key pairs",
	Severity:    "`CloseAccount`: CRITICAL everywhere; otherwise Stax-owned (or unknown): CRITICAL, customer-owned: HIGH; read-only calls LOW; failed LOW",
	Why:         "The protection SCP cannot stop these root tasks (SCPs do not restrict them, or never apply), so the alert is the only control: closing the account, or changing its email or password, takes it out of its owner's custody.",
	Remediation: "Confirm at once with the account's owner that the root task was requested and approved. If not: for a closure, reopen the account within the post-closure period through AWS Support; for an email, password or contact change, recover the root user through the owner's mailbox, reset the password and MFA, and review the session in CloudTrail.",
	References:  []string{refRootTasks, refNotBySCP, refBillingTrail, refAccountAPI},
	eval:        evalBeyondSCP,
}

func evalBeyondSCP(c *Ctx) []Hit {
	ev := c.Ev
	if !humanRoot(ev) {
		return nil
	}
	task, ok := beyondSCPTask(ev)
	if !ok {
		return nil
	}
	s := c.Subject(ev.AccountID())
	sev := finding.Critical
	why := "Root credentials of a Stax-owned account are Stax's custody; this task takes the account, or its root, out of it."
	switch {
	case ev.EventName == "CloseAccount":
		why = "Closing the account destroys its workloads and data after the post-closure period, whoever owns it."
	case s.Ownership == finding.CustomerOwned:
		sev = finding.High
		why = "Root credentials of customer-owned accounts are the customer's; the customer must confirm this task."
	case s.Ownership == finding.Unknown:
		why = "The account's ownership is unknown, so it is treated as Stax-owned."
	}
	if ev.Failed() || readOnlyCall(ev) {
		sev = finding.Low
	}
	return []Hit{{
		Severity:  sev,
		AccountID: s.ID,
		Title:     fmt.Sprintf("Root task beyond any SCP on %s: %s", s.Label(), task.Task),
		Description: fmt.Sprintf("The root user (%s) called %s (%s) in the %s %s. The protection SCP could not have stopped it: SCPs cannot restrict this root task. %s%s",
			ev.Actor(), callName(ev), task.Task, s.Describe(), where(ev), why, failedNote(ev)),
		RemediationPrefix: s.Actor() + " must confirm the task was approved.",
	}}
}
