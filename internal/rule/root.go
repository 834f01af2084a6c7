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
	refRootTasks      = "https://docs.aws.amazon.com/IAM/latest/UserGuide/root-user-tasks.html"
	refCentralRoot    = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user-privileged-task.html"
	refSignInEvents   = "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-aws-console-sign-in-events.html"
	refRootMFA        = "https://docs.aws.amazon.com/IAM/latest/UserGuide/enable-mfa-for-root.html"
	refSCPNotRestrict = "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html"
)

// humanRoot reports a root event made by a person: root identity, no AWS service acting.
func humanRoot(ev *cloudtrail.Event) bool { return ev.IsRoot() && !ev.ServiceActing() }

// where says from where and how the call was made.
func where(ev *cloudtrail.Event) string {
	var parts []string
	if ev.SourceIPAddress != "" {
		parts = append(parts, "from "+ev.SourceIPAddress)
	}
	if ev.Region() != "" {
		parts = append(parts, "in "+ev.Region())
	}
	if ev.Time() != "" {
		parts = append(parts, "at "+ev.Time())
	}
	if ev.UserAgent != "" {
		ua := ev.UserAgent
		if len(ua) > 160 {
			ua = ua[:160] + "..."
		}
		parts = append(parts, "using "+ua)
	}
	return strings.Join(parts, " ")
}

// failedNote is appended to descriptions of failed calls.
func failedNote(ev *cloudtrail.Event) string {
	if !ev.Failed() {
		return ""
	}
	code := ev.ErrorCode
	if code == "" {
		code = "Failure"
	}
	msg := ""
	if ev.ErrorMessage != "" {
		msg = ": " + ev.ErrorMessage
	}
	return fmt.Sprintf(" The call failed (%s%s), so it changed nothing, but the attempt is worth knowing.", code, msg)
}

// sessionKey identifies one root session: the access key, else the source IP and hour.
func sessionKey(ev *cloudtrail.Event) string {
	if ev.UserIdentity != nil && ev.UserIdentity.AccessKeyID != "" {
		return "key:" + ev.UserIdentity.AccessKeyID
	}
	hour := ev.Time()
	if len(hour) >= 13 {
		hour = hour[:13]
	}
	return "ip:" + ev.SourceIPAddress + "@" + hour
}

func callName(ev *cloudtrail.Event) string {
	svc := strings.TrimSuffix(ev.EventSource, ".amazonaws.com")
	name := svc + ":" + ev.EventName
	if ev.Failed() {
		name += " (failed)"
	} else if ev.ReadOnly.Bool() {
		name += " (read-only)"
	}
	return name
}

// accountOfPrincipal extracts the account id of an AssumeRoot targetPrincipal (an id or an ARN).
func accountOfPrincipal(p string) string {
	if org.IsAccountID(p) {
		return p
	}
	parts := strings.Split(p, ":")
	if len(parts) >= 5 && org.IsAccountID(parts[4]) {
		return parts[4]
	}
	return p
}

func taskPolicyName(arn string) string {
	if i := strings.LastIndexByte(arn, '/'); i >= 0 {
		return arn[i+1:]
	}
	return arn
}

var rootRules = []*Rule{
	{
		ID:        "ROOT-SESSION",
		ASFFTypes: []string{typeRootUsage}, Session: true, Events: []route.Event{apiCall("sts", "AssumeRoot"), anyRootCall},
		Lower: Lowering{ByException: always[*finding.Finding], ByTrusted: func(ev *cloudtrail.Event) bool {
			return ev.EventSource == cloudtrail.SourceSTS && ev.EventName == "AssumeRoot"
		}},
		Title: "Centralised root session",
		Group: GroupRoot,
		When:  "`sts:AssumeRoot` call (finding's account: `requestParameters.targetPrincipal`), or any action inside a centralised root session",
		Severity: "AssumeRoot with task policy `IAMAuditRootUserCredentials`: LOW; `IAMCreateRootUserPassword` for a Stax-owned member (or unknown): HIGH; " +
			"any other task policy: MEDIUM; a failed AssumeRoot: LOW; an action inside the session: INFORMATIONAL (LOW when it failed)",
		Why:         "sts:AssumeRoot is the sanctioned path to root tasks on member accounts, but it still grants root power for up to 15 minutes; IAMCreateRootUserPassword recreates a root password the policy says must not exist on Stax-owned members.",
		Remediation: "Confirm the root task was requested and approved (change ticket), that the task policy fits the task, and that the session ended. For IAMCreateRootUserPassword on a Stax-owned member, make sure the password is deleted again (IAMDeleteRootUserCredentials) once the task is done.",
		References:  []string{refCentralRoot},
		eval:        evalRootSession,
	},
	{
		ID:        "ROOT-SIGNIN-STAX-MEMBER",
		ASFFTypes: []string{typeRootUsage}, Lower: exceptionLowers, Events: []route.Event{rootSignIn("ConsoleLogin")},
		Title:       "Root sign-in to a Stax-owned member account",
		Group:       GroupRoot,
		When:        "successful root `ConsoleLogin` to a Stax-owned member account, or to an account of unknown ownership",
		Severity:    "CRITICAL, whether MFA was used or not",
		Why:         "Stax-owned member accounts keep no root credentials; a root sign-in there means the forgotten-password flow on the locked-down root mailbox was used.",
		Remediation: "Stax: treat as a potential compromise of the root mailbox. Confirm with the Stax platform team whether a sanctioned recovery was in progress; if not, reset the root password, review the root mailbox's access, review every action of the session in CloudTrail, and delete the root credentials again (centralised root access: IAMDeleteRootUserCredentials).",
		References:  []string{refSignInEvents, refCentralRoot},
		eval:        evalSignIn(signInStaxMember),
	},
	{
		ID:        "ROOT-SIGNIN-NO-MFA",
		ASFFTypes: []string{typeRootUsage}, Lower: exceptionLowers, Events: []route.Event{rootSignIn("ConsoleLogin")},
		Title:       "Root sign-in without MFA",
		Group:       GroupRoot,
		When:        "successful root `ConsoleLogin` with `additionalEventData.MFAUsed` other than `Yes`",
		Severity:    "Stax-owned management: CRITICAL (its MFA is Stax-managed, so it was removed); customer-owned: HIGH",
		Why:         "A root sign-in without MFA means the root password alone opens the account; on a Stax-owned management account the Stax-managed MFA must have been removed.",
		Remediation: "Whoever owns the account's root (Stax for Stax-owned, the customer otherwise) must confirm the sign-in, rotate the root password, and enable MFA on the root user at once.",
		References:  []string{refSignInEvents, refRootMFA},
		eval:        evalSignIn(signInNoMFA),
	},
	{
		ID:        "ROOT-SIGNIN",
		ASFFTypes: []string{typeRootUsage}, Lower: exceptionLowers, Events: []route.Event{rootSignIn("ConsoleLogin")},
		Title:       "Root sign-in with MFA",
		Group:       GroupRoot,
		When:        "successful root `ConsoleLogin` with MFA (Stax-owned management, customer-owned)",
		Severity:    "MEDIUM (legitimate but rare: someone must confirm it was expected)",
		Why:         "Root sign-ins are legitimate but rare; each one must be expected by the account's owner.",
		Remediation: "The account's owner (Stax for Stax-owned, the customer otherwise) confirms the sign-in was expected and for a task that needs root.",
		References:  []string{refSignInEvents, refRootTasks},
		eval:        evalSignIn(signInWithMFA),
	},
	{
		ID:        "ROOT-SIGNIN-FAILED",
		ASFFTypes: []string{typeRootUsage, "TTPs/Credential Access/Root Sign-In Failure"}, Lower: exceptionLowers, Events: []route.Event{rootSignIn("ConsoleLogin")},
		Title:       "Failed root sign-in",
		Group:       GroupRoot,
		When:        "failed root `ConsoleLogin`",
		Severity:    "MEDIUM",
		Why:         "Someone tried the root password; repeated failures suggest guessing or a phished password.",
		Remediation: "The account's owner checks whether anyone legitimately tried to sign in as root; if not, check the root mailbox for password-recovery mails and make sure root MFA is on.",
		References:  []string{refSignInEvents},
		eval:        evalSignIn(signInFailed),
	},
	{
		ID:        "ROOT-PASSWORD-RECOVERY",
		ASFFTypes: []string{typeRootUsage, "TTPs/Credential Access/Root Password Recovery"}, Lower: exceptionLowers, Events: []route.Event{rootSignIn("PasswordRecoveryRequested", "PasswordRecoveryCompleted")},
		Title:       "Root password recovery",
		Group:       GroupRoot,
		When:        "`PasswordRecoveryRequested` / `PasswordRecoveryCompleted` (source `signin.amazonaws.com`)",
		Severity:    "Requested: HIGH on Stax-owned, MEDIUM on customer-owned; Completed: CRITICAL on Stax-owned, HIGH on customer-owned",
		Why:         "Stax-owned member accounts can only regain root credentials through the forgotten-password flow; a completed recovery means someone now holds the root password.",
		Remediation: "Confirm the recovery was part of an approved root procedure (for Stax-owned accounts, a Stax change); if not, secure the root mailbox, reset the password and review CloudTrail for the session that followed.",
		References:  []string{refSignInEvents},
		eval:        evalPasswordRecovery,
	},
	{
		ID:        "ROOT-ACCESS-KEY-CREATED",
		ASFFTypes: []string{typeRootUsage, "TTPs/Persistence/Root Access Key Created"}, Lower: neverLowered, Events: []route.Event{anyRootCall},
		Title:       "Root access key created",
		Group:       GroupRoot,
		When:        "root `iam:CreateAccessKey` for the root user itself (no `userName` in the request)",
		Severity:    "CRITICAL",
		Why:         "A root access key is a long-lived credential with unrestricted power on the account (and on a management account, unrestricted by any SCP).",
		Remediation: "Delete the root access key at once (IAM console as root, or centralised root access: IAMDeleteRootUserCredentials) and find out who created it and why.",
		References:  []string{"https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user_manage_add-key.html"},
		eval:        evalAccessKeyCreated,
	},
	{
		ID:        "ROOT-MFA-REMOVED",
		ASFFTypes: []string{typeRootUsage, "TTPs/Defense Evasion/Root MFA Removed"}, Lower: neverLowered, Events: []route.Event{anyRootCall},
		Title:       "Root MFA removed",
		Group:       GroupRoot,
		When:        "root `iam:DeactivateMFADevice` or `iam:DeleteVirtualMFADevice`",
		Severity:    "Stax-owned management: CRITICAL; elsewhere HIGH",
		Why:         "Removing root MFA leaves the password as the only factor; on Stax-owned management accounts root MFA is Stax-managed.",
		Remediation: "Re-enable MFA on the root user at once and find out who removed it and why.",
		References:  []string{refRootMFA},
		eval:        evalMFARemoved,
	},
	beyondSCPRule,
	{
		ID:        "ROOT-UNRESTRICTED-ACTION",
		ASFFTypes: []string{typeRootUsage}, Lower: exceptionLowers, Session: true, Events: []route.Event{anyRootCall},
		Title:       "Root action not restricted by the protection SCP",
		Group:       GroupRoot,
		When:        "any other root API call in the management account, or in a member account where the protection SCP is not effective",
		Severity:    "HIGH; LOW for read-only calls (`readOnly` true) and failed calls",
		Why:         "SCPs never apply to the management account, and without the protection SCP nothing limits what root can do in a member account.",
		Remediation: "Confirm the root session was sanctioned and review each call it made; restore the protection SCP where it is missing.",
		References:  []string{refSCPNotRestrict, refRootTasks},
		eval:        evalRootCall(rootCallUnrestricted),
	},
	{
		ID:        "ROOT-ACTIVITY",
		ASFFTypes: []string{typeRootUsage}, Lower: exceptionLowers, Session: true, Events: []route.Event{anyRootCall},
		Title:       "Root activity in a member account",
		Group:       GroupRoot,
		When:        "any other root API call in a member account (e.g. a key created by root for an IAM user)",
		Severity:    "Stax-owned member or unknown ownership: HIGH (root credentials exist where the policy says none may); customer-owned: MEDIUM; LOW when the call failed or was read-only",
		Why:         "Root credentials are used in a member account; on Stax-owned members they should not exist at all.",
		Remediation: "Confirm the root session was sanctioned and review each call it made; on Stax-owned members delete the root credentials again once done.",
		References:  []string{refRootTasks},
		eval:        evalRootCall(rootCallMember),
	},
}

func evalRootSession(c *Ctx) []Hit {
	ev := c.Ev
	if ev.EventSource == cloudtrail.SourceSTS && ev.EventName == "AssumeRoot" {
		target := accountOfPrincipal(ev.Param("targetPrincipal"))
		s := c.Subject(target)
		task := taskPolicyName(ev.ParamObject("taskPolicyArn", "arn"))
		if task == "" {
			task = "(none given)"
		}
		sev := finding.Medium
		why := "Task policy " + task + " grants root power on the account for up to 15 minutes."
		switch {
		case ev.Failed():
			sev = finding.Low
		case task == "IAMAuditRootUserCredentials":
			sev = finding.Low
			why = "The IAMAuditRootUserCredentials task policy only reads the root credential state."
		case task == "IAMCreateRootUserPassword" && (s.Ownership == finding.Unknown || (s.Ownership == finding.StaxOwned && s.Role != finding.Management)):
			sev = finding.High
			why = "IAMCreateRootUserPassword recreates a root password on a Stax-owned member account, where the policy says no root credential may exist."
		}
		return []Hit{{
			Severity:          sev,
			AccountID:         target,
			Title:             fmt.Sprintf("AssumeRoot (%s) on %s", task, s.Label()),
			Description:       fmt.Sprintf("%s called sts:AssumeRoot with task policy %s on the %s %s. %s%s", ev.Actor(), task, s.Describe(), where(ev), why, failedNote(ev)),
			RemediationPrefix: s.Actor() + " confirms the root task was requested and approved, and that the task policy fits it.",
		}}
	}
	if !humanRoot(ev) || !ev.AssumedRoot() {
		return nil
	}
	s := c.Subject(ev.AccountID())
	sev := finding.Informational
	if ev.Failed() {
		sev = finding.Low
	}
	return []Hit{{
		Severity:    sev,
		AccountID:   s.ID,
		Title:       fmt.Sprintf("Centralised root session on %s", s.Label()),
		Description: fmt.Sprintf("A centralised root session (sts:AssumeRoot) acted on the %s %s. This is the sanctioned path to root tasks, not a root login.%s", s.Describe(), where(ev), failedNote(ev)),
		Remediation: "No action needed if the session matches an approved AssumeRoot request made from the management account; otherwise find the AssumeRoot call and its caller.",
	}}
}

// signIn is the case of a successful or failed root ConsoleLogin a sign-in rule raises.
type signIn int

// The sign-in cases, one per sign-in rule.
const (
	signInStaxMember signIn = iota // ROOT-SIGNIN-STAX-MEMBER: success on a Stax-owned member or unknown
	signInNoMFA                    // ROOT-SIGNIN-NO-MFA: success without MFA
	signInWithMFA                  // ROOT-SIGNIN: success with MFA
	signInFailed                   // ROOT-SIGNIN-FAILED: failure
)

func evalSignIn(which signIn) func(c *Ctx) []Hit {
	return func(c *Ctx) []Hit {
		ev := c.Ev
		if !humanRoot(ev) || ev.EventSource != cloudtrail.SourceSignIn || ev.EventName != "ConsoleLogin" {
			return nil
		}
		s := c.Subject(ev.AccountID())
		success := !ev.Failed()
		mfa := ev.Additional("MFAUsed") == "Yes"
		mfaText := "without MFA (MFAUsed=" + quoteOr(ev.Additional("MFAUsed"), "absent") + ")"
		if mfa {
			mfaText = "with MFA"
		}
		staxMemberOrUnknown := s.Ownership == finding.Unknown || (s.Ownership == finding.StaxOwned && s.Role != finding.Management)
		var sev finding.Severity
		var title, why, remedy string
		switch which {
		case signInStaxMember:
			if !success || !staxMemberOrUnknown {
				return nil
			}
			sev = finding.Critical
			title = "Root sign-in to " + s.Label()
			why = "Stax-owned member accounts keep no root credentials, so this sign-in means the forgotten-password flow on the root mailbox was used."
			if s.Ownership == finding.Unknown {
				why = "The account's ownership is unknown, so it is treated as a Stax-owned member account, which keeps no root credentials."
			}
			remedy = ""
		case signInNoMFA:
			if !success || mfa {
				return nil
			}
			sev = finding.High
			why = "Only the root password protected this sign-in."
			if s.StaxManagement() {
				sev = finding.Critical
				why = "Root MFA on Stax-owned management accounts is enabled and managed by Stax, so it has been removed or bypassed."
			}
			title = "Root sign-in without MFA to " + s.Label()
			remedy = s.Actor() + " must confirm the sign-in, rotate the root password and enable root MFA at once."
		case signInWithMFA:
			if !success || !mfa {
				return nil
			}
			sev = finding.Medium
			title = "Root sign-in to " + s.Label()
			why = "Root sign-ins are legitimate but rare; someone must confirm this one was expected."
			remedy = s.Actor() + " confirms the sign-in was expected and that the task needs root."
		case signInFailed:
			if success {
				return nil
			}
			sev = finding.Medium
			title = "Failed root sign-in to " + s.Label()
			why = "Someone tried to sign in as root and failed (" + quoteOr(ev.ErrorMessage, "no reason given") + ")."
			remedy = s.Actor() + " checks whether anyone legitimately tried to sign in as root; if not, check the root mailbox for recovery mails and make sure root MFA is on."
		}
		return []Hit{{
			Severity:    sev,
			AccountID:   s.ID,
			Title:       title,
			Description: fmt.Sprintf("Root user %s signed in to the console of the %s %s %s. %s", ev.Actor(), s.Describe(), mfaText, where(ev), why),
			Remediation: remedy,
		}}
	}
}

func quoteOr(s, dflt string) string {
	if s == "" {
		return dflt
	}
	return fmt.Sprintf("%q", s)
}

func evalPasswordRecovery(c *Ctx) []Hit {
	ev := c.Ev
	if !humanRoot(ev) || ev.EventSource != cloudtrail.SourceSignIn {
		return nil
	}
	s := c.Subject(ev.AccountID())
	customer := s.Ownership == finding.CustomerOwned
	var sev finding.Severity
	var what string
	switch ev.EventName {
	case "PasswordRecoveryRequested":
		sev, what = finding.High, "requested a root password recovery (a reset mail was sent to the root mailbox)"
		if customer {
			sev = finding.Medium
		}
	case "PasswordRecoveryCompleted":
		sev, what = finding.Critical, "completed a root password recovery: someone now holds the root password"
		if customer {
			sev = finding.High
		}
	default:
		return nil
	}
	if ev.Failed() {
		sev = finding.Low
	}
	why := "On Stax-owned accounts root credentials are recoverable only through this flow on a locked-down mailbox, so it must match an approved Stax root procedure."
	if customer {
		why = "Root credentials of customer-owned accounts are the customer's; the customer must confirm the recovery."
	}
	return []Hit{{
		Severity:    sev,
		AccountID:   s.ID,
		Title:       fmt.Sprintf("Root password recovery %s on %s", strings.ToLower(strings.TrimPrefix(ev.EventName, "PasswordRecovery")), s.Label()),
		Description: fmt.Sprintf("Someone %s of the %s %s. %s%s", what, s.Describe(), where(ev), why, failedNote(ev)),
		Remediation: s.Actor() + " confirms the recovery was approved; if not, secure the root mailbox, reset the root password and review the session that followed in CloudTrail.",
	}}
}

func evalAccessKeyCreated(c *Ctx) []Hit {
	ev := c.Ev
	if !humanRoot(ev) || ev.EventSource != cloudtrail.SourceIAM || ev.EventName != "CreateAccessKey" || ev.Param("userName") != "" {
		return nil
	}
	s := c.Subject(ev.AccountID())
	sev := finding.Critical
	if ev.Failed() {
		sev = finding.Low
	}
	return []Hit{{
		Severity:    sev,
		AccountID:   s.ID,
		Title:       "Root access key created on " + s.Label(),
		Description: fmt.Sprintf("The root user created an access key for itself on the %s %s. A root access key is a long-lived credential with unrestricted power over the account.%s", s.Describe(), where(ev), failedNote(ev)),
		Remediation: s.Actor() + " deletes the root access key at once and finds out who created it and why.",
	}}
}

func evalMFARemoved(c *Ctx) []Hit {
	ev := c.Ev
	if !humanRoot(ev) || ev.EventSource != cloudtrail.SourceIAM || (ev.EventName != "DeactivateMFADevice" && ev.EventName != "DeleteVirtualMFADevice") {
		return nil
	}
	s := c.Subject(ev.AccountID())
	sev := finding.High
	if s.StaxManagement() || s.Ownership == finding.Unknown {
		sev = finding.Critical
	}
	if ev.Failed() {
		sev = finding.Low
	}
	device := ev.Param("serialNumber")
	if device == "" {
		device = "an MFA device"
	}
	why := "Root MFA is the owner's responsibility; without it the root password alone opens the account."
	if s.StaxManagement() {
		why = "Root MFA on Stax-owned management accounts is managed by Stax and must stay on."
	}
	return []Hit{{
		Severity:    sev,
		AccountID:   s.ID,
		Title:       "Root MFA removed on " + s.Label(),
		Description: fmt.Sprintf("The root user called iam:%s on %s in the %s %s. %s%s", ev.EventName, device, s.Describe(), where(ev), why, failedNote(ev)),
		Remediation: s.Actor() + " re-enables MFA on the root user at once and finds out who removed it and why.",
	}}
}

// rootCall is the kind of other root API call a root-call rule raises.
type rootCall int

// The root-call kinds, one per root-call rule.
const (
	rootCallUnrestricted rootCall = iota // ROOT-UNRESTRICTED-ACTION: no protection SCP limits root there
	rootCallMember                       // ROOT-ACTIVITY: a member account the protection SCP covers
)

func evalRootCall(which rootCall) func(c *Ctx) []Hit {
	return func(c *Ctx) []Hit {
		ev := c.Ev
		if !humanRoot(ev) || ev.EventSource == cloudtrail.SourceSignIn {
			return nil
		}
		s := c.Subject(ev.AccountID())
		effect, why := c.protection(s.ID, "")
		unrestricted := s.Role != finding.Member || effect != Effective
		if (which == rootCallUnrestricted) != unrestricted {
			return nil
		}
		lowered := ev.Failed() || ev.ReadOnly.Bool()
		var sev finding.Severity
		var title, text string
		if unrestricted {
			sev = finding.High
			title = "Unrestricted root activity on " + s.Label()
			switch {
			case s.Role == finding.Management:
				text = "SCPs never apply to the management account, so nothing limits what root does there."
			case effect == EffectUnknown:
				text = "Whether the protection SCP applies could not be established (" + why + "), so the call is treated as unrestricted."
			default:
				text = "The protection SCP is not effective here (" + why + "), so nothing limits what root does."
			}
		} else {
			sev = finding.High
			text = "Stax-owned member accounts keep no root credentials, so root credentials exist where the policy says none may."
			if s.Ownership == finding.CustomerOwned {
				sev = finding.Medium
				text = "Root credentials of customer-owned accounts are the customer's; the customer must confirm this activity."
			}
			title = "Root activity on " + s.Label()
		}
		if lowered {
			sev = finding.Low
		}
		detail := ""
		if ev.EventName == "CreateAccessKey" && ev.Param("userName") != "" {
			detail = fmt.Sprintf(" (an access key for IAM user %q)", ev.Param("userName"))
		}
		remedy := s.Actor() + " confirms the root session was sanctioned and reviews each call it made."
		if unrestricted && s.Role != finding.Management {
			remedy += " Restore the protection SCP where it is missing."
		}
		return []Hit{{
			Severity:  sev,
			AccountID: s.ID,
			Title:     title,
			Description: fmt.Sprintf("The root user (%s) called %s%s in the %s %s. %s", ev.Actor(), callName(ev), detail, s.Describe(), where(ev), text) +
				failedNote(ev),
			Remediation: remedy,
		}}
	}
}
