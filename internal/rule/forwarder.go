package rule

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rootguard/rootguard/internal/cloudtrail"
	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/function"
	"github.com/rootguard/rootguard/internal/org"
	"github.com/rootguard/rootguard/internal/route"
)

// ForwarderTampered is the rule id of a change to rootguard's own resources (forwarderRule's).
var ForwarderTampered = forwarderRule.ID

// DefaultDeploymentPrincipals are the principals that deploy rootguard when none is configured
// (ROOTGUARD_DEPLOYMENT_PRINCIPALS): the service-managed StackSet execution role in member
// accounts and the CDK bootstrap's CloudFormation execution role. A trailing or inner * matches
// any characters; a role ARN matches every session of the role.
var DefaultDeploymentPrincipals = []string{
	"arn:aws:iam::*:role/stacksets-exec-*",
	"arn:aws:iam::*:role/cdk-*-cfn-exec-role-*",
}

// NamePrefix starts the names of rootguard's rules, roles, functions, topics and stacks
// (case-insensitive: the stacks are RootGuard-*).
const NamePrefix = "rootguard"

const refForwarder = "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cross-account.html"

var forwarderRule = classifiedByID(&Rule{
	ID:     "FORWARDER-TAMPERED",
	Lower:  exempt,
	Events: inPart(function.SCPGuard, "tamper", tamperEvents()...),
	Title:  "rootguard's own resources changed",
	Group:  GroupCustody,
	When: "a change to rootguard's own resources by anyone but its deployment role (EventBridge `DisableRule`, `DeleteRule`, `PutRule`, " +
		"`RemoveTargets`, `PutTargets` on rules named with the rootguard prefix; CloudFormation changes to its stacks and StackSet instances; " +
		"Lambda, SNS, DynamoDB, KMS changes to its resources in the central account); and in the audit, an account and region whose " +
		"forwarding rule is missing, disabled or no longer targets the central bus",
	Severity:    "HIGH; MEDIUM when the call failed",
	Why:         "A disabled or retargeted forwarder silences every rule for that account and region, and the change itself is never forwarded: the forwarder that was just disabled cannot report it.",
	Remediation: "The rootguard operators redeploy rootguard (the StackSet instance or the management stack of that account and region) to restore the forwarder, and find out who changed it and why. Attach the rootguard-guard SCP so that only the StackSet execution role can change rootguard's resources in member accounts.",
	References:  []string{refForwarder, "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-concepts.html"},
	eval:        evalForwarderTampered,
})

var forwarderRules = []*Rule{forwarderRule}

// tamperPatterns are the changes to rootguard's own resources that FORWARDER-TAMPERED evaluates
// (scp-guard takes them, forwarded from every account and region): EventBridge rule changes,
// CloudFormation stack and StackSet changes, and Lambda, SNS, DynamoDB and KMS changes. The
// patterns cannot test which resource a call names; the rule does (a rootguard name), so other
// calls reach scp-guard and raise nothing. Lambda records its calls with an API version suffix
// (UpdateFunctionCode20150331v2), hence prefixes there. The source alone names the service (an
// aws.* source is written by AWS only), which keeps the patterns under EventBridge's default
// 2,048-character quota.
var tamperPatterns = []route.Pattern{
	{
		Sources:    []string{"aws.events"},
		EventNames: []string{"DisableRule", "DeleteRule", "PutRule", "RemoveTargets", "PutTargets"},
	},
	{
		Sources: []string{"aws.cloudformation"},
		EventNames: []string{"DeleteStack", "UpdateStack", "CreateChangeSet", "ExecuteChangeSet", "SetStackPolicy",
			"UpdateTerminationProtection", "CancelUpdateStack", "ContinueUpdateRollback", "RollbackStack", "UpdateStackSet",
			"DeleteStackSet", "CreateStackInstances", "UpdateStackInstances", "DeleteStackInstances", "StopStackSetOperation"},
	},
	{
		Sources: []string{"aws.lambda"},
		EventNamePrefixes: []string{"DeleteFunction", "UpdateFunctionCode", "UpdateFunctionConfiguration", "PutFunctionConcurrency",
			"AddPermission", "RemovePermission", "PutFunctionEventInvokeConfig", "UpdateFunctionEventInvokeConfig",
			"UpdateEventSourceMapping", "DeleteEventSourceMapping"},
	},
	{
		Sources:    []string{"aws.sns"},
		EventNames: []string{"DeleteTopic", "SetTopicAttributes", "Subscribe", "Unsubscribe", "AddPermission", "RemovePermission", "PutDataProtectionPolicy"},
	},
	{
		Sources:    []string{"aws.dynamodb"},
		EventNames: []string{"DeleteTable", "UpdateTable", "UpdateTimeToLive", "UpdateContinuousBackups", "PutResourcePolicy", "DeleteResourcePolicy"},
	},
	{
		Sources:    []string{"aws.kms"},
		EventNames: []string{"DisableKey", "ScheduleKeyDeletion", "PutKeyPolicy", "DisableKeyRotation", "DeleteAlias", "UpdateAlias", "CreateGrant"},
	},
}

func tamperEvents() []route.Event {
	out := make([]route.Event, len(tamperPatterns))
	for i, p := range tamperPatterns {
		out[i] = route.Event{Pattern: p}
	}
	return out
}

// tamperParams are, per event source, the request parameters that name the resource a call
// changes. Which calls count is tamperPatterns, the rule's events: the one list the routing, the
// forwarders and this rule share.
var tamperParams = map[string][]string{
	"events.amazonaws.com":         {"name", "rule"},
	"cloudformation.amazonaws.com": {"stackName", "stackSetName"},
	"lambda.amazonaws.com":         {"functionName"},
	"sns.amazonaws.com":            {"topicArn", "subscriptionArn"},
	"dynamodb.amazonaws.com":       {"tableName", "resourceArn"},
	"kms.amazonaws.com":            {"keyId", "aliasName"},
}

// tamperCall reports whether an event is one of tamperPatterns' calls (the envelope's
// source is derived from the event source, so bare CloudTrail records are judged alike).
func tamperCall(ev *cloudtrail.Event) bool {
	f := route.Fields{Source: "aws." + strings.TrimSuffix(ev.EventSource, ".amazonaws.com"), EventName: ev.EventName}
	return slices.ContainsFunc(tamperPatterns, func(p route.Pattern) bool { return p.Matches(f) })
}

// tamperedResource returns the rootguard resource a call changes, or "".
func tamperedResource(ev *cloudtrail.Event) string {
	params, ok := tamperParams[ev.EventSource]
	if !ok || !tamperCall(ev) {
		return ""
	}
	for _, p := range params {
		v := ev.Param(p)
		if isRootguardName(ev.EventSource, v) {
			return v
		}
	}
	return ""
}

// isRootguardName reports whether a resource name or ARN names one of rootguard's resources.
func isRootguardName(source, v string) bool {
	lv := strings.ToLower(v)
	switch source {
	case "events.amazonaws.com":
		return strings.HasPrefix(lv, NamePrefix) || strings.Contains(lv, ":rule/"+NamePrefix)
	case "kms.amazonaws.com":
		return strings.Contains(lv, "alias/"+NamePrefix)
	}
	return strings.Contains(lv, NamePrefix)
}

// isDeployer reports whether the call was made by a deployment principal.
func isDeployer(c *Ctx) bool {
	u := c.Ev.UserIdentity
	if u == nil {
		return false
	}
	patterns := c.Cfg.DeploymentPrincipals
	if len(patterns) == 0 {
		patterns = DefaultDeploymentPrincipals
	}
	arns := []string{u.ARN}
	if u.SessionContext != nil && u.SessionContext.SessionIssuer != nil {
		arns = append(arns, u.SessionContext.SessionIssuer.ARN)
	}
	for _, p := range patterns {
		for _, a := range arns {
			if a != "" && globMatch(p, a) {
				return true
			}
		}
	}
	return false
}

// globMatch matches s against a pattern where * stands for any characters.
func globMatch(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return strings.HasSuffix(s, parts[len(parts)-1])
}

// stackSetsServiceRole is the service-linked role through which service-managed StackSets
// create their execution roles (stacksets-exec-*) in member accounts.
const stackSetsServiceRole = "arn:aws:iam::*:role/aws-service-role/member.org.stacksets.cloudformation.amazonaws.com/AWSServiceRoleForCloudFormationStackSetsOrgMember"

// deployerRoleCalls are the IAM calls that make a role, or change who can assume it or what it
// may do.
var deployerRoleCalls = []string{"CreateRole", "UpdateAssumeRolePolicy", "AttachRolePolicy", "PutRolePolicy"}

// deployerRole returns the ARN of a role an IAM call creates or changes whose name makes it a
// deployment principal (stacksets-exec-*, ...), or "". Whoever holds such a role changes
// rootguard's resources without FORWARDER-TAMPERED, so making one is itself tampering, unless a
// deployment principal or the StackSets service-linked role does it.
func deployerRole(c *Ctx) string {
	ev := c.Ev
	if ev.EventSource != "iam.amazonaws.com" || !slices.Contains(deployerRoleCalls, ev.EventName) {
		return ""
	}
	name := ev.Param("roleName")
	if name == "" || strings.ContainsRune(name, '/') {
		return ""
	}
	arn := "arn:aws:iam::" + ev.AccountID() + ":role/" + name
	patterns := c.Cfg.DeploymentPrincipals
	if len(patterns) == 0 {
		patterns = DefaultDeploymentPrincipals
	}
	if !slices.ContainsFunc(patterns, func(p string) bool { return globMatch(p, arn) }) {
		return ""
	}
	if u := ev.UserIdentity; u != nil && (globMatch(stackSetsServiceRole, u.ARN) ||
		(u.SessionContext != nil && u.SessionContext.SessionIssuer != nil && globMatch(stackSetsServiceRole, u.SessionContext.SessionIssuer.ARN))) {
		return ""
	}
	return arn
}

func evalForwarderTampered(c *Ctx) []Hit {
	ev := c.Ev
	if isDeployer(c) {
		return nil
	}
	if role := deployerRole(c); role != "" {
		sev := finding.High
		if ev.Failed() {
			sev = finding.Medium
		}
		account := ev.AccountID()
		return []Hit{{
			Severity:  sev,
			AccountID: account,
			Title:     fmt.Sprintf("Role %s named like rootguard's deployment role (%s)", role, ev.EventName),
			Description: fmt.Sprintf("%s called %s on %s in account %s %s. A role with that name counts as rootguard's deployment role: "+
				"whoever can assume it may change rootguard's forwarders, functions and stacks without FORWARDER-TAMPERED (and, for "+
				"stacksets-exec-*, past the rootguard-guard SCP). Only AWS's StackSets service-linked role creates those roles.%s",
				ev.Actor(), ev.EventName, role, c.Subject(account).Label(), where(ev), failedNote(ev)),
			Resources: []string{account},
		}}
	}
	res := tamperedResource(ev)
	if res == "" {
		return nil
	}
	sev := finding.High
	if ev.Failed() {
		sev = finding.Medium
	}
	account := ev.AccountID()
	return []Hit{{
		Severity:  sev,
		AccountID: account,
		Title:     fmt.Sprintf("rootguard resource %s changed (%s)", res, ev.EventName),
		Description: fmt.Sprintf("%s called %s on rootguard's resource %s in account %s %s. Only rootguard's deployment role should change it: "+
			"a disabled, deleted or retargeted forwarder (or function, topic, table or key) silences rootguard for that account and region.%s",
			ev.Actor(), ev.EventName, res, c.Subject(account).Label(), where(ev), failedNote(ev)),
		Resources: []string{account},
	}}
}

// ForwarderState is what the audit found of one forwarding rule in one account and region.
type ForwarderState struct {
	Account, Region, Rule string
	// Found: the rule exists. Enabled: its state is not DISABLED. TargetsCentral: one of its
	// targets is the central bus.
	Found, Enabled, TargetsCentral bool
	// Unknown is why the rule could not be read (the finding then says so and is not raised).
	Unknown string
}

// ForwarderAudit raises FORWARDER-TAMPERED for every forwarding rule the audit found missing,
// disabled or no longer targeting the central bus. Finding ids derive from the account, region,
// rule and day, so one broken forwarder is one finding a day.
func (e *Engine) ForwarderAudit(facts org.Facts, states []ForwarderState, now time.Time) []finding.Finding {
	if facts == nil {
		facts = org.Empty{}
	}
	stamp := now.UTC().Format(time.RFC3339)
	c := &Ctx{Ev: &cloudtrail.Event{Record: cloudtrail.Record{EventTime: stamp, UserIdentity: &cloudtrail.UserIdentity{Type: "rootguard-audit"}}},
		Facts: facts, Cfg: &e.cfg}
	var out []finding.Finding
	for _, s := range states {
		var what string
		switch {
		case s.Unknown != "":
			continue
		case !s.Found:
			what = "is missing"
		case !s.Enabled:
			what = "is disabled"
		case !s.TargetsCentral:
			what = "no longer targets the central rootguard bus"
		default:
			continue
		}
		f := e.finding(c, forwarderRule, Hit{
			Severity:  finding.High,
			AccountID: s.Account,
			Title:     fmt.Sprintf("rootguard forwarder %s %s in %s", s.Rule, what, s.Region),
			Description: fmt.Sprintf("The audit at %s found that the forwarding rule %s in account %s, region %s, %s. Root and protection events of "+
				"that account and region no longer reach rootguard, and the change itself was never forwarded.", stamp, s.Rule, s.Account, s.Region, what),
			IDParts:   []string{s.Account, s.Region, s.Rule, now.UTC().Format(time.DateOnly)},
			Resources: []string{s.Account},
		})
		f.EventID, f.EventName, f.Actor, f.Region = "", "", "rootguard audit", s.Region
		out = append(out, f)
	}
	return out
}
