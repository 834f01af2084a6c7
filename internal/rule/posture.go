package rule

import (
	"fmt"
	"strings"

	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/org"
)

// Account is what a posture check reads about one account.
type Account struct {
	Facts   org.Facts
	Cfg     *Config
	Subject Subject
	// Parent is where the account is when the facts do not know it yet (onboarding), else "".
	Parent string

	creds    *org.RootCredentials
	credsErr error
	// unknown names the root credential fields the facts leave null.
	unknown []string
}

// Check is a posture check on one account: applies is false when the check does not apply to
// it (or cannot be made); otherwise hit.Severity is zero when it passed, else the finding's
// severity, title and description.
type Check func(a *Account) (hit Hit, applies bool)

// known reads one root credential field: ok is false when the facts leave it null.
func known(p *bool) (v, ok bool) {
	if p == nil {
		return false, false
	}
	return *p, true
}

func (a *Account) readCreds() {
	a.creds, a.credsErr = a.Facts.RootCredentials(a.Subject.ID)
	if a.credsErr != nil || a.creds == nil {
		return
	}
	for _, f := range []struct {
		name string
		v    *bool
	}{
		{"mfaEnabled", a.creds.MFAEnabled}, {"passwordPresent", a.creds.PasswordPresent},
		{"accessKeysPresent", a.creds.AccessKeysPresent}, {"signingCertificatesPresent", a.creds.SigningCertificatesPresent},
	} {
		if f.v == nil {
			a.unknown = append(a.unknown, f.name)
		}
	}
}

// checkRules are the rules with a posture check, in catalogue order (set by init: the checks
// of the onboarding rule's evaluation read them).
var checkRules []*Rule

func init() {
	for _, r := range catalogue {
		if r.Check != nil {
			checkRules = append(checkRules, r)
		}
	}
}

// checkResult is the outcome of the posture checks of one account.
type checkResult struct {
	results []string // one line per check, for the onboarding report
	hits    []ruleHit
}

type ruleHit struct {
	rule *Rule
	hit  Hit
}

// accountChecks runs every rule's posture check on one account, in catalogue order.
func accountChecks(a *Account, dayKey string) checkResult {
	a.readCreds()
	var out checkResult
	for _, r := range checkRules {
		h, applies := r.Check(a)
		switch {
		case !applies:
		case h.Severity == 0:
			out.results = append(out.results, r.ID+" passed")
		default:
			h.AccountID, h.IDParts = a.Subject.ID, []string{a.Subject.ID, dayKey}
			out.hits = append(out.hits, ruleHit{rule: r, hit: h})
			out.results = append(out.results, fmt.Sprintf("%s %s", r.ID, h.Severity))
		}
	}
	return out
}

func checkFailed(sev finding.Severity, title, desc string) (Hit, bool) {
	return Hit{Severity: sev, Title: title, Description: desc}, true
}

var passed = func() (Hit, bool) { return Hit{}, true }

// The posture rules, in the order their checks run (after SCP-NOT-EFFECTIVE's).
var (
	postureRootAccessKeys = &Rule{
		ID:          "POSTURE-ROOT-ACCESS-KEYS",
		Title:       "Root access keys exist",
		Group:       GroupPosture,
		When:        "root access keys exist (any account)",
		Severity:    "CRITICAL",
		Why:         "Root access keys are long-lived credentials with unrestricted power; no account should have them.",
		Remediation: "The account's owner deletes the root access keys (centralised root access: IAMDeleteRootUserCredentials) after checking what used them.",
		References:  []string{"https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user_manage_add-key.html"},
		ASFFTypes:   []string{typeBestPractices + "Root Access Keys"},
		Lower:       neverLowered,
		Check:       checkRootAccessKeys,
	}
	postureRootMFA = &Rule{
		ID:          "POSTURE-ROOT-MFA",
		Title:       "Root MFA not enabled where it is expected",
		Group:       GroupPosture,
		When:        "root MFA not enabled where it is expected: Stax-owned management (CRITICAL); customer-owned account that still has a root password (MEDIUM, the customer must act). No root credentials at all is compliant",
		Severity:    "Stax-owned management: CRITICAL; customer-owned (or unknown ownership) with a root password: MEDIUM",
		Why:         "Stax enables and manages root MFA on Stax-owned management accounts; on customer-owned accounts a root password without MFA is the customer's risk to fix.",
		Remediation: "Enable MFA on the root user (Stax for Stax-owned management accounts; the customer for customer-owned accounts), or remove the root credentials altogether (centralised root access).",
		References:  []string{refRootMFA, refCentralRootMgmt},
		ASFFTypes:   []string{typeBestPractices + "Root MFA"},
		Lower:       exceptionLowers,
		Check:       checkRootMFA,
	}
	postureRootCredentials = &Rule{
		ID:          "POSTURE-ROOT-CREDENTIALS",
		Title:       "Root credentials on a Stax-owned member account",
		Group:       GroupPosture,
		When:        "a Stax-owned member account has a root password or signing certificates",
		Severity:    "HIGH",
		Why:         "Stax-owned member accounts keep no root credentials; a leftover password or certificate is a credential nobody manages.",
		Remediation: "Stax deletes the root password and signing certificates (centralised root access: sts:AssumeRoot with IAMDeleteRootUserCredentials).",
		References:  []string{refCentralRootMgmt},
		ASFFTypes:   []string{typeBestPractices + "Root Credentials"},
		Lower:       exceptionLowers,
		Check:       checkRootCredentials,
	}
	postureUnverified = &Rule{
		ID:          "POSTURE-UNVERIFIED",
		Title:       "Root credential state could not be verified",
		Group:       GroupPosture,
		When:        "the root credential state could not be read: `rootCredentials` absent or null, or a field a check needs is explicitly null (an omitted boolean counts as false)",
		Severity:    "LOW",
		Why:         "A check that cannot be made is not a pass.",
		Remediation: "Stax makes the root credential state readable (the audit role in the account, or centralised root access for AssumeRoot audits) and re-runs the audit.",
		References:  []string{refCentralRootMgmt},
		ASFFTypes:   []string{typeBestPractices + "Root Credential State Unverified"},
		Lower:       exceptionLowers,
		Check:       checkUnverified,
	}
)

var postureRules = []*Rule{postureRootAccessKeys, postureRootMFA, postureRootCredentials, postureUnverified}

// checkProtection is SCP-NOT-EFFECTIVE's check: the protection SCP on a member account.
func checkProtection(a *Account) (Hit, bool) {
	s := a.Subject
	if s.Role == finding.Management {
		return Hit{}, false
	}
	effect, why := protectionState(a.Facts, a.Cfg, s.ID, parentIfUnknown(a.Facts, s.ID, a.Parent))
	if effect == Effective {
		return passed()
	}
	return checkFailed(finding.High, "Protection SCP not effective on "+s.Label(),
		fmt.Sprintf("The protection SCP is not effective on the %s: %s. Nothing limits what root credentials can do there.", s.Describe(), why))
}

func checkRootAccessKeys(a *Account) (Hit, bool) {
	if a.creds == nil {
		return Hit{}, false
	}
	keys, ok := known(a.creds.AccessKeysPresent)
	switch {
	case !ok:
		return Hit{}, false
	case !keys:
		return passed()
	}
	s := a.Subject
	return checkFailed(finding.Critical, "Root access keys exist on "+s.Label(),
		fmt.Sprintf("The root user of the %s has access keys: long-lived credentials with unrestricted power.", s.Describe()))
}

func checkRootMFA(a *Account) (Hit, bool) {
	if a.creds == nil {
		return Hit{}, false
	}
	s := a.Subject
	mfa, mfaOK := known(a.creds.MFAEnabled)
	pw, pwOK := known(a.creds.PasswordPresent)
	keys, keysOK := known(a.creds.AccessKeysPresent)
	switch {
	case s.Role == finding.Management && s.Ownership != finding.CustomerOwned:
		if !mfaOK || !pwOK || !keysOK {
			return Hit{}, false
		}
		if !mfa && (pw || keys) {
			return checkFailed(finding.Critical, "Root MFA off on "+s.Label(),
				fmt.Sprintf("The root user of the %s has credentials but no MFA. Stax enables and manages root MFA on its management accounts, so it has been removed.", s.Describe()))
		}
		return passed()
	case s.Ownership != finding.StaxOwned: // customer-owned, or unknown member
		if !mfaOK || !pwOK {
			return Hit{}, false
		}
		if pw && !mfa {
			return checkFailed(finding.Medium, "Root MFA off on "+s.Label(),
				fmt.Sprintf("The root user of the %s has a password but no MFA. Root MFA on customer-owned accounts is the customer's responsibility: the customer must enable it or remove the root password.", s.Describe()))
		}
		return passed()
	}
	return Hit{}, false
}

// checkRootCredentials: no root credentials on Stax-owned members (and on members of unknown
// ownership: fail closed).
func checkRootCredentials(a *Account) (Hit, bool) {
	s := a.Subject
	if a.creds == nil || s.Role == finding.Management || s.Ownership == finding.CustomerOwned {
		return Hit{}, false
	}
	pw, pwOK := known(a.creds.PasswordPresent)
	certs, certsOK := known(a.creds.SigningCertificatesPresent)
	switch {
	case !pwOK || !certsOK:
		return Hit{}, false
	case !pw && !certs:
		return passed()
	}
	var what []string
	if pw {
		what = append(what, "a root password")
	}
	if certs {
		what = append(what, "root signing certificates")
	}
	return checkFailed(finding.High, "Root credentials left on "+s.Label(),
		fmt.Sprintf("The %s has %s. Stax-owned member accounts keep no root credentials.", s.Describe(), strings.Join(what, " and ")))
}

// checkUnverified reports a root credential state that is unknown, or has null fields.
func checkUnverified(a *Account) (Hit, bool) {
	s := a.Subject
	if a.credsErr != nil || a.creds == nil {
		why := "the snapshot has no root credential state for it"
		if a.credsErr != nil {
			why = "it could not be read: " + a.credsErr.Error()
		}
		return checkFailed(finding.Low, "Root credential state unverified on "+s.Label(),
			fmt.Sprintf("The root credential state of the %s is unknown (%s), so the root MFA, password and access-key checks could not be made.", s.Describe(), why))
	}
	if len(a.unknown) == 0 {
		return Hit{}, false
	}
	return checkFailed(finding.Low, "Root credential state partly unverified on "+s.Label(),
		fmt.Sprintf("The root credential state of the %s has unknown fields (%s), so the checks that need them could not be made.", s.Describe(), strings.Join(a.unknown, ", ")))
}
