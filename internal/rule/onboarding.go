package rule

import (
	"fmt"
	"strings"

	"github.com/rootguard/rootguard/internal/cloudtrail"
	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/org"
)

const (
	refCentralRootMgmt = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user.html#id_root-user-access-management"
	refCreateAccount   = "https://docs.aws.amazon.com/organizations/latest/APIReference/API_CreateAccountStatus.html"
)

var onboardingRules = []*Rule{
	{
		ID:          "ONBOARD-REPORT",
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
		ID:          "ONBOARD-FAILED",
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

var postureRules = []*Rule{
	{
		ID:          "POSTURE-ROOT-MFA",
		Title:       "Root MFA not enabled where it is expected",
		Group:       GroupPosture,
		When:        "root MFA not enabled where it is expected: Stax-owned management (CRITICAL); customer-owned account that still has a root password (MEDIUM, the customer must act). No root credentials at all is compliant",
		Severity:    "Stax-owned management: CRITICAL; customer-owned (or unknown ownership) with a root password: MEDIUM",
		Why:         "Stax enables and manages root MFA on Stax-owned management accounts; on customer-owned accounts a root password without MFA is the customer's risk to fix.",
		Remediation: "Enable MFA on the root user (Stax for Stax-owned management accounts; the customer for customer-owned accounts), or remove the root credentials altogether (centralised root access).",
		References:  []string{refRootMFA, refCentralRootMgmt},
	},
	{
		ID:          "POSTURE-ROOT-CREDENTIALS",
		Title:       "Root credentials on a Stax-owned member account",
		Group:       GroupPosture,
		When:        "a Stax-owned member account has a root password or signing certificates",
		Severity:    "HIGH",
		Why:         "Stax-owned member accounts keep no root credentials; a leftover password or certificate is a credential nobody manages.",
		Remediation: "Stax deletes the root password and signing certificates (centralised root access: sts:AssumeRoot with IAMDeleteRootUserCredentials).",
		References:  []string{refCentralRootMgmt},
	},
	{
		ID:          "POSTURE-ROOT-ACCESS-KEYS",
		Title:       "Root access keys exist",
		Group:       GroupPosture,
		When:        "root access keys exist (any account)",
		Severity:    "CRITICAL",
		Why:         "Root access keys are long-lived credentials with unrestricted power; no account should have them.",
		Remediation: "The account's owner deletes the root access keys (centralised root access: IAMDeleteRootUserCredentials) after checking what used them.",
		References:  []string{"https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user_manage_add-key.html"},
	},
	{
		ID:          "POSTURE-UNVERIFIED",
		Title:       "Root credential state could not be verified",
		Group:       GroupPosture,
		When:        "the root credential state could not be read: `rootCredentials` absent or null, or a field a check needs is explicitly null (an omitted boolean counts as false)",
		Severity:    "LOW",
		Why:         "A check that cannot be made is not a pass.",
		Remediation: "Stax makes the root credential state readable (the audit role in the account, or centralised root access for AssumeRoot audits) and re-runs the audit.",
		References:  []string{refCentralRootMgmt},
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
	checks := accountChecks(c.Facts, c.Cfg, s, parent, day(c.Ev.Time()))
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

// checkResult is the outcome of the posture and protection checks of one account.
type checkResult struct {
	results []string // one line per check, for the onboarding report
	hits    []ruleHit
}

type ruleHit struct {
	ruleID string
	hit    Hit
}

func day(t string) string {
	if len(t) >= 10 {
		return t[:10]
	}
	return t
}

// accountChecks runs the posture checks, and for members the protection check, on one account.
func accountChecks(facts org.Facts, cfg *Config, s Subject, parent, dayKey string) checkResult {
	var out checkResult
	add := func(id string, sev finding.Severity, title, desc string) {
		out.hits = append(out.hits, ruleHit{ruleID: id, hit: Hit{
			Severity: sev, AccountID: s.ID, Title: title, Description: desc, IDParts: []string{s.ID, dayKey},
		}})
		out.results = append(out.results, fmt.Sprintf("%s %s", id, sev))
	}
	pass := func(id string) { out.results = append(out.results, id+" passed") }

	// Protection SCP (members only).
	if s.Role != finding.Management {
		effect, why := protectionState(facts, cfg, s.ID, parentIfUnknown(facts, s.ID, parent))
		switch effect {
		case Effective:
			pass("SCP-NOT-EFFECTIVE")
		default:
			add("SCP-NOT-EFFECTIVE", finding.High, "Protection SCP not effective on "+s.Label(),
				fmt.Sprintf("The protection SCP is not effective on the %s: %s. Nothing limits what root credentials can do there.", s.Describe(), why))
		}
	}

	creds, err := facts.RootCredentials(s.ID)
	if err != nil || creds == nil {
		why := "the snapshot has no root credential state for it"
		if err != nil {
			why = "it could not be read: " + err.Error()
		}
		add("POSTURE-UNVERIFIED", finding.Low, "Root credential state unverified on "+s.Label(),
			fmt.Sprintf("The root credential state of the %s is unknown (%s), so the root MFA, password and access-key checks could not be made.", s.Describe(), why))
		return out
	}
	var unknown []string
	val := func(name string, p *bool) (bool, bool) {
		if p == nil {
			unknown = append(unknown, name)
			return false, false
		}
		return *p, true
	}
	mfa, mfaOK := val("mfaEnabled", creds.MFAEnabled)
	pw, pwOK := val("passwordPresent", creds.PasswordPresent)
	keys, keysOK := val("accessKeysPresent", creds.AccessKeysPresent)
	certs, certsOK := val("signingCertificatesPresent", creds.SigningCertificatesPresent)

	if keysOK {
		if keys {
			add("POSTURE-ROOT-ACCESS-KEYS", finding.Critical, "Root access keys exist on "+s.Label(),
				fmt.Sprintf("The root user of the %s has access keys: long-lived credentials with unrestricted power.", s.Describe()))
		} else {
			pass("POSTURE-ROOT-ACCESS-KEYS")
		}
	}

	// Root MFA where it is expected.
	switch {
	case s.Role == finding.Management && s.Ownership != finding.CustomerOwned:
		if mfaOK && pwOK && keysOK {
			if !mfa && (pw || keys) {
				add("POSTURE-ROOT-MFA", finding.Critical, "Root MFA off on "+s.Label(),
					fmt.Sprintf("The root user of the %s has credentials but no MFA. Stax enables and manages root MFA on its management accounts, so it has been removed.", s.Describe()))
			} else {
				pass("POSTURE-ROOT-MFA")
			}
		}
	case s.Ownership != finding.StaxOwned: // customer-owned, or unknown member
		if mfaOK && pwOK {
			if pw && !mfa {
				add("POSTURE-ROOT-MFA", finding.Medium, "Root MFA off on "+s.Label(),
					fmt.Sprintf("The root user of the %s has a password but no MFA. Root MFA on customer-owned accounts is the customer's responsibility: the customer must enable it or remove the root password.", s.Describe()))
			} else {
				pass("POSTURE-ROOT-MFA")
			}
		}
	}

	// No root credentials on Stax-owned members (and on members of unknown ownership: fail closed).
	if s.Role != finding.Management && s.Ownership != finding.CustomerOwned && pwOK && certsOK {
		if pw || certs {
			var what []string
			if pw {
				what = append(what, "a root password")
			}
			if certs {
				what = append(what, "root signing certificates")
			}
			add("POSTURE-ROOT-CREDENTIALS", finding.High, "Root credentials left on "+s.Label(),
				fmt.Sprintf("The %s has %s. Stax-owned member accounts keep no root credentials.", s.Describe(), strings.Join(what, " and ")))
		} else {
			pass("POSTURE-ROOT-CREDENTIALS")
		}
	}
	if len(unknown) > 0 {
		add("POSTURE-UNVERIFIED", finding.Low, "Root credential state partly unverified on "+s.Label(),
			fmt.Sprintf("The root credential state of the %s has unknown fields (%s), so the checks that need them could not be made.", s.Describe(), strings.Join(unknown, ", ")))
	}
	return out
}

// parentIfUnknown returns parent only when the facts do not know the account's own parents.
func parentIfUnknown(facts org.Facts, account, parent string) string {
	if _, err := facts.Parents(account); err == nil {
		return ""
	}
	return parent
}
