package rule

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rootguard/rootguard/internal/cloudtrail"
	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/function"
	"github.com/rootguard/rootguard/internal/org"
)

// GroupCustody: rules about the levers that would silence rootguard (its exceptions, its trusted
// principals, ...). Their findings are never lowered.
const GroupCustody Group = function.GroupCustody

const (
	refTagResource = "https://docs.aws.amazon.com/organizations/latest/APIReference/API_TagResource.html"
	refIAMEvents   = "https://docs.aws.amazon.com/IAM/latest/UserGuide/cloudtrail-integration.html"
)

var custodyRules = []*Rule{
	{
		ID:        "EXCEPTION-GRANTED",
		ASFFTypes: []string{"TTPs/Defense Evasion/Guard Exception Set"}, Lower: exempt,
		Events: inPart(function.SCPGuard, "custody", apiCall("organizations", "TagResource", "UntagResource")),
		Title:  "rootguard exception tag set or removed",
		Group:  GroupCustody,
		When:   "Organizations `TagResource` that sets `rootguard:exception` on any resource, or `UntagResource` that removes it",
		Severity: "set by an exception approver: LOW (the record: reference, resource, expiry, approver); set by anyone else: HIGH (the exception is ignored); " +
			"malformed, over-long or expiring past the maximum: MEDIUM (ignored); removed: INFORMATIONAL; failed: LOW",
		Why: "An exception lowers rootguard's findings to INFORMATIONAL: whoever can grant one can silence rootguard, so only a configured approver's witnessed grant counts, and every grant is on record.",
		Remediation: "Stax security checks that the exception was requested through the change process (its reference) by someone other than the person making the change it covers; " +
			"if not, remove the tag (UntagResource) and review what was changed under it.",
		References: []string{refTagResource},
		eval:       evalExceptionGranted,
	},
	{
		ID:        "TRUSTED-PRINCIPAL-CHANGED",
		ASFFTypes: []string{"TTPs/Privilege Escalation/Trusted Principal Changed"}, Lower: exempt,
		Events: inPart(function.SCPGuard, "custody", apiCall("iam", slices.Concat(trustRoleEvents, trustUserEvents)...)),
		Title:  "Trusted principal or exception approver changed",
		Group:  GroupCustody,
		When: "IAM change to a configured trusted principal or exception approver role or user (`UpdateAssumeRolePolicy`, `AttachRolePolicy`, `DetachRolePolicy`, `PutRolePolicy`, `DeleteRolePolicy`, " +
			"`PutRolePermissionsBoundary`, `DeleteRolePermissionsBoundary`, `UpdateRole`, `DeleteRole`, `CreateRole` of the same name, `AttachUserPolicy`, `PutUserPolicy`, `CreateAccessKey`, " +
			"`CreateLoginProfile`, `UpdateLoginProfile` for a trusted user), made by anyone but that principal itself",
		Severity: "HIGH; MEDIUM when the call failed. After a successful change the principal is neither trusted nor an approver for `--trust-suspension` (default 24 h)",
		Why:      "A trusted principal's changes and an approver's exceptions lower rootguard's findings: whoever can assume or reconfigure that principal inherits the power to silence rootguard.",
		Remediation: "Stax security confirms with the owners of rootguard's configuration that the change was expected; if not, revert it (trust policy, attached policies, keys, login profile), " +
			"find who made it, and review every change the principal made since. Trust and approver status resume when the suspension ends.",
		References: []string{refIAMEvents},
		eval:       evalTrustedPrincipalChanged,
	},
}

// tagChange is an exception-tag change of a TagResource or UntagResource event.
type tagChange struct {
	resource string
	value    string
	removed  bool
}

// exceptionTagChange reads the exception-tag change of an Organizations TagResource (the last
// value set for the key) or UntagResource (the key among tagKeys).
func exceptionTagChange(ev *cloudtrail.Event) (tagChange, bool) {
	if !orgsEvent(ev, "TagResource", "UntagResource") {
		return tagChange{}, false
	}
	t := tagChange{resource: ev.Param("resourceId")}
	if ev.EventName == "UntagResource" {
		var keys []string
		if json.Unmarshal(ev.RequestParameters["tagKeys"], &keys) != nil || !slices.Contains(keys, ExceptionTag) {
			return tagChange{}, false
		}
		t.removed = true
		return t, true
	}
	var tags []struct {
		Key   string `json:"key"`
		Value string `json:"value"`
	}
	if json.Unmarshal(ev.RequestParameters["tags"], &tags) != nil {
		return tagChange{}, false
	}
	found := false
	for _, tg := range tags {
		if tg.Key == ExceptionTag {
			t.value, found = tg.Value, true
		}
	}
	return t, found
}

type grantKind int

const (
	grantApproved grantKind = iota
	grantByOther
	grantInvalid
)

type grantVerdict struct {
	sev      grantKind
	approver string
	ex       Exception
	reason   string
}

// judgeGrant decides whether a TagResource of the exception tag is a grant: made by a configured
// approver that is not suspended, with a well-formed value expiring within the maximum age.
func (c *Ctx) judgeGrant(t tagChange) grantVerdict {
	ev := c.Ev
	at := parseTime(ev.Time())
	approver, ok := configuredPrincipal(ev, c.Cfg.ExceptionApprovers)
	switch {
	case len(c.Cfg.ExceptionApprovers) == 0:
		return grantVerdict{sev: grantByOther, reason: "no exception approvers are configured, so no exception counts"}
	case !ok:
		return grantVerdict{sev: grantByOther, reason: fmt.Sprintf("%s is not a configured exception approver", ev.Actor())}
	}
	if why, susp := c.suspension(approver, at); susp {
		return grantVerdict{sev: grantByOther, approver: approver, reason: why}
	}
	ex, err := ParseException(t.value)
	switch {
	case err != nil:
		return grantVerdict{sev: grantInvalid, approver: approver, reason: "the value is malformed: " + err.Error()}
	case at.IsZero():
		return grantVerdict{sev: grantInvalid, approver: approver, ex: ex, reason: "the event has no time, so the expiry cannot be checked"}
	case ex.Expires.After(at.Add(c.Cfg.ExceptionMaxAge)):
		return grantVerdict{sev: grantInvalid, approver: approver, ex: ex, reason: fmt.Sprintf("it expires %s, more than the maximum %s after it was set", ex.Expires.UTC().Format(time.RFC3339), c.Cfg.ExceptionMaxAge)}
	case !ex.Expires.After(at):
		return grantVerdict{sev: grantInvalid, approver: approver, ex: ex, reason: fmt.Sprintf("it expired (%s) before it was set", ex.Expires.UTC().Format(time.RFC3339))}
	}
	return grantVerdict{sev: grantApproved, approver: approver, ex: ex}
}

// resourceLabel names a tagged resource.
func resourceLabel(c *Ctx, id string) string {
	if org.TargetKind(id) == "" {
		return "policy " + id
	}
	return targetLabel(c, id)
}

func evalExceptionGranted(c *Ctx) []Hit {
	ev := c.Ev
	t, ok := exceptionTagChange(ev)
	if !ok {
		return nil
	}
	account := ev.AccountID()
	if org.TargetKind(t.resource) == "account" {
		account = t.resource
	}
	s := c.Subject(account)
	label := resourceLabel(c, t.resource)
	h := Hit{AccountID: s.ID, Resources: []string{t.resource}}
	switch {
	case ev.Failed():
		verb := "set"
		if t.removed {
			verb = "remove"
		}
		h.Severity = finding.Low
		h.Title = fmt.Sprintf("Attempt to %s the rootguard exception on %s failed", verb, t.resource)
		h.Description = fmt.Sprintf("%s tried to %s the %s tag on %s %s.%s", ev.Actor(), verb, ExceptionTag, label, where(ev), failedNote(ev))
	case t.removed:
		h.Severity = finding.Informational
		h.Title = "rootguard exception removed from " + t.resource
		h.Description = fmt.Sprintf("%s removed the %s tag from %s %s. No exception covers findings about it any more.", ev.Actor(), ExceptionTag, label, where(ev))
		h.Remediation = "Nothing to do: the protection is back to its normal severities."
	default:
		v := c.judgeGrant(t)
		switch v.sev {
		case grantApproved:
			h.Severity = finding.Low
			h.Title = fmt.Sprintf("rootguard exception %s granted on %s", v.ex.Reference, t.resource)
			h.Description = fmt.Sprintf("The exception approver %s (caller %s) granted the exception %s on %s %s, until %s. "+
				"Until then findings about exactly that resource are recorded at INFORMATIONAL, except changes made by the granter itself and the rules that are never lowered.",
				v.approver, ev.Actor(), v.ex.Reference, label, where(ev), v.ex.Expires.UTC().Format(time.RFC3339))
		case grantInvalid:
			h.Severity = finding.Medium
			h.Title = fmt.Sprintf("Invalid rootguard exception on %s ignored", t.resource)
			h.Description = fmt.Sprintf("%s set the %s tag on %s to %q %s, but %s; the exception is ignored.", ev.Actor(), ExceptionTag, label, t.value, where(ev), v.reason)
			h.Remediation = "The approver sets a valid exception (`<reference>;expires=<RFC 3339 time>`, expiring within the maximum age) or removes the tag."
		default:
			h.Severity = finding.High
			h.Title = fmt.Sprintf("rootguard exception on %s set by a non-approver", t.resource)
			h.Description = fmt.Sprintf("%s set the %s tag on %s to %q %s, but %s; the exception is ignored. "+
				"Setting an exception is how rootguard would be silenced before detaching the protection SCP or using root credentials.",
				ev.Actor(), ExceptionTag, label, t.value, where(ev), v.reason)
		}
	}
	return []Hit{h}
}

// Role and user IAM calls TRUSTED-PRINCIPAL-CHANGED watches.
var (
	trustRoleEvents = []string{"UpdateAssumeRolePolicy", "AttachRolePolicy", "DetachRolePolicy", "PutRolePolicy", "DeleteRolePolicy",
		"PutRolePermissionsBoundary", "DeleteRolePermissionsBoundary", "UpdateRole", "DeleteRole", "CreateRole"}
	trustUserEvents = []string{"AttachUserPolicy", "PutUserPolicy", "CreateAccessKey", "CreateLoginProfile", "UpdateLoginProfile"}
)

// iamPrincipal splits a principal ARN into kind (role or user), account and name (the last path
// segment). An STS assumed-role ARN names its role.
func iamPrincipal(arn string) (kind, account, name string) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 {
		return "", "", ""
	}
	account, res := parts[4], parts[5]
	switch {
	case parts[2] == "iam" && strings.HasPrefix(res, "role/"):
		kind, res = "role", strings.TrimPrefix(res, "role/")
	case parts[2] == "iam" && strings.HasPrefix(res, "user/"):
		kind, res = "user", strings.TrimPrefix(res, "user/")
	case parts[2] == "sts" && strings.HasPrefix(res, "assumed-role/"):
		role, _, _ := strings.Cut(strings.TrimPrefix(res, "assumed-role/"), "/")
		return "role", account, role
	default:
		return "", "", ""
	}
	return kind, account, res[strings.LastIndexByte(res, '/')+1:]
}

// trustTargets are the configured trusted principals and approvers an IAM event changes, made by
// anyone but the principal itself.
func trustTargets(c *Ctx) []string {
	ev := c.Ev
	if ev.EventSource != cloudtrail.SourceIAM {
		return nil
	}
	var kind, name string
	switch {
	case slices.Contains(trustRoleEvents, ev.EventName):
		kind, name = "role", ev.Param("roleName")
	case slices.Contains(trustUserEvents, ev.EventName):
		kind, name = "user", ev.Param("userName")
	default:
		return nil
	}
	if name == "" {
		return nil // CreateAccessKey without userName: the caller's own key
	}
	account := ev.AccountID()
	var out []string
	for _, p := range slices.Concat(c.Cfg.TrustedPrincipals, c.Cfg.ExceptionApprovers) {
		k, a, n := iamPrincipal(p)
		if k == kind && a == account && n == name && !actsAs(ev, p) && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

func evalTrustedPrincipalChanged(c *Ctx) []Hit {
	ev := c.Ev
	targets := trustTargets(c)
	if len(targets) == 0 {
		return nil
	}
	var roles []string
	for _, p := range targets {
		var as []string
		if slices.Contains(c.Cfg.TrustedPrincipals, p) {
			as = append(as, "a trusted principal")
		}
		if slices.Contains(c.Cfg.ExceptionApprovers, p) {
			as = append(as, "an exception approver")
		}
		roles = append(roles, fmt.Sprintf("%s (%s)", p, strings.Join(as, " and ")))
	}
	sev := finding.High
	after := ""
	if ev.Failed() {
		sev = finding.Medium
		after = " Trust is not suspended, as the call changed nothing."
	} else if at := parseTime(ev.Time()); !at.IsZero() {
		after = fmt.Sprintf(" Until %s it is neither trusted nor an exception approver: findings it would have lowered are raised at their normal severity.",
			at.Add(c.Cfg.TrustSuspension).UTC().Format(time.RFC3339))
	}
	s := c.Subject(ev.AccountID())
	return []Hit{{
		Severity:  sev,
		AccountID: s.ID,
		Title:     fmt.Sprintf("Trusted principal or approver %s changed by iam:%s", targets[0], ev.EventName),
		Description: fmt.Sprintf("%s called iam:%s on %s %s. Whoever can assume or reconfigure it inherits its power to lower rootguard's findings.%s%s",
			ev.Actor(), ev.EventName, strings.Join(roles, ", "), where(ev), after, failedNote(ev)),
		Resources: targets,
	}}
}
