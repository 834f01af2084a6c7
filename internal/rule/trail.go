package rule

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/rootguard/rootguard/internal/cloudtrail"
	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/org"
	"github.com/rootguard/rootguard/internal/route"
)

const (
	refTrailOrg       = "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/creating-trail-organization.html"
	refEventSelectors = "https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_PutEventSelectors.html"
)

// trailEventNames are the CloudTrail calls that can blind rootguard.
var trailEventNames = []string{"StopLogging", "DeleteTrail", "UpdateTrail", "PutEventSelectors", "PutInsightSelectors"}

var ruleTrailTampered = classifiedByID(&Rule{
	ID:    "TRAIL-TAMPERED",
	Lower: neverLowered, Events: []route.Event{apiCall("cloudtrail", trailEventNames...)},
	Title: "The trail that feeds rootguard was tampered with",
	Group: GroupProtection,
	When: "CloudTrail `StopLogging`, `DeleteTrail`, `UpdateTrail` (turning off multi-region, organization or global service events), " +
		"or `PutEventSelectors` / `PutInsightSelectors` that drops management events, on a trail of the management account (the organization trail) " +
		"or of a delegated administrator; and in the audit, when the facts say no organization trail is logging management events",
	Severity: "CRITICAL (EventBridge gets no CloudTrail events without a logging trail: every rule goes blind); MEDIUM when the call failed; " +
		"on a member account's own trail: LOW; the audit says so, at LOW, when the trails are unknown",
	Why: "EventBridge delivers CloudTrail events only while a trail with logging on records them: stopping, deleting or narrowing the " +
		"organization trail blinds every rootguard rule, and is the first thing an attacker who wants silence does.",
	Remediation: "Stax restores the organization trail at once (StartLogging, recreate it, re-enable multi-region, organization and global " +
		"service events and management events in its selectors), then reviews what happened while it was off and who changed it.",
	References: []string{refTrailOrg, refEventSelectors},
	eval:       evalTrailTampered,
})

// rawBool reads requestParameters[name] as a boolean; ok is false when absent or not a boolean.
func rawBool(ev *cloudtrail.Event, name string) (v, ok bool) {
	raw, present := ev.RequestParameters[name]
	if !present || json.Unmarshal(raw, &v) != nil {
		return false, false
	}
	return v, true
}

// trailTamper says what a CloudTrail call does to its trail that blinds rootguard ("" nothing).
func trailTamper(ev *cloudtrail.Event) string {
	switch ev.EventName {
	case "StopLogging":
		return "stopped logging on the trail"
	case "DeleteTrail":
		return "deleted the trail"
	case "UpdateTrail":
		var off []string
		for _, f := range []struct{ param, what string }{
			{"isMultiRegionTrail", "multi-region logging"},
			{"isOrganizationTrail", "organization-wide logging"},
			{"includeGlobalServiceEvents", "global service events (IAM, STS, Organizations, sign-in)"},
		} {
			if v, ok := rawBool(ev, f.param); ok && !v {
				off = append(off, f.what)
			}
		}
		if len(off) == 0 {
			return ""
		}
		return "turned off " + strings.Join(off, " and ") + " on the trail"
	case "PutEventSelectors":
		if keepsManagement(ev) {
			return ""
		}
		return "replaced the trail's event selectors with ones that drop management (write) events"
	case "PutInsightSelectors":
		raw, ok := ev.RequestParameters["insightSelectors"]
		var sel []json.RawMessage
		if !ok || json.Unmarshal(raw, &sel) != nil || len(sel) > 0 {
			return ""
		}
		return "removed every insight selector of the trail (no more anomaly detection on management events)"
	}
	return ""
}

// keepsManagement reports whether a PutEventSelectors request still records write management
// events: a basic selector with includeManagementEvents true or omitted (the default) and
// readWriteType All or WriteOnly, or an advanced selector on eventCategory Management that does
// not keep read-only events only.
func keepsManagement(ev *cloudtrail.Event) bool {
	if raw, ok := ev.RequestParameters["advancedEventSelectors"]; ok && string(raw) != "null" {
		var adv []struct {
			FieldSelectors []struct {
				Field  string   `json:"field"`
				Equals []string `json:"equals"`
			} `json:"fieldSelectors"`
		}
		if json.Unmarshal(raw, &adv) != nil {
			return true // unreadable: not claimed as a drop
		}
		for _, s := range adv {
			mgmt, readOnly := false, false
			for _, f := range s.FieldSelectors {
				switch f.Field {
				case "eventCategory":
					mgmt = len(f.Equals) > 0 && strings.EqualFold(f.Equals[0], "Management")
				case "readOnly":
					readOnly = len(f.Equals) == 1 && f.Equals[0] == "true"
				}
			}
			if mgmt && !readOnly {
				return true
			}
		}
		return false
	}
	raw, ok := ev.RequestParameters["eventSelectors"]
	if !ok {
		return true
	}
	var sel []struct {
		IncludeManagementEvents *bool  `json:"includeManagementEvents"`
		ReadWriteType           string `json:"readWriteType"`
	}
	if json.Unmarshal(raw, &sel) != nil {
		return true
	}
	for _, s := range sel {
		if (s.IncludeManagementEvents == nil || *s.IncludeManagementEvents) && s.ReadWriteType != "ReadOnly" {
			return true
		}
	}
	return false
}

// trailAccount is the account that owns the trail named in the request (its ARN's account), else
// the account that recorded the event.
func trailAccount(ev *cloudtrail.Event) (name, account string) {
	name = ev.Param("name")
	if name == "" {
		name = ev.Param("trailName")
	}
	if strings.HasPrefix(name, "arn:") {
		if parts := strings.Split(name, ":"); len(parts) > 4 && org.IsAccountID(parts[4]) {
			return name, parts[4]
		}
	}
	return name, ev.AccountID()
}

func evalTrailTampered(c *Ctx) []Hit {
	ev := c.Ev
	if ev.EventSource != cloudtrail.SourceCloudTrail {
		return nil
	}
	what := trailTamper(ev)
	if what == "" {
		return nil
	}
	name, account := trailAccount(ev)
	if name == "" {
		name = "(unnamed)"
	}
	mgmt := ""
	if o, err := c.organization(); err == nil {
		mgmt = o.ManagementAccountID
	}
	s := c.Subject(account)
	sev := finding.Critical
	scope := "a trail of the management account (the organization trail lives there): without it EventBridge receives no CloudTrail events and every rootguard rule goes blind"
	switch {
	case mgmt == "":
		scope = "a trail of an account whose role is unknown (the management account is unknown), so it is treated as the organization trail (fail closed)"
	case account != mgmt:
		sev = finding.Low
		scope = "the member account's own trail; the organization trail (in the management account) is not affected"
	}
	if ev.Failed() {
		if sev == finding.Critical {
			sev = finding.Medium
		} else {
			sev = finding.Low
		}
	}
	return []Hit{{
		Severity:    sev,
		AccountID:   s.ID,
		Title:       fmt.Sprintf("Trail %s tampered with on %s", name, s.Label()),
		Description: fmt.Sprintf("%s %s %s (cloudtrail:%s, trail %s) in the %s. It is %s.%s", ev.Actor(), what, where(ev), ev.EventName, name, s.Describe(), scope, failedNote(ev)),
		Resources:   []string{name},
	}}
}

// auditTrails is the audit's TRAIL-TAMPERED check on the organization facts.
func auditTrails(o org.Organization, stamp string) (Hit, bool) {
	covered, known, why := o.TrailCoverage()
	switch {
	case covered:
		return Hit{}, false
	case !known:
		return Hit{
			Severity:    finding.Low,
			AccountID:   o.ManagementAccountID,
			Title:       "Organization trail unverified in organization " + o.ID,
			Description: fmt.Sprintf("The audit of organization %s at %s could not verify that an organization trail logs management events: %s. Nothing is assumed either way.", o.ID, stamp, why),
		}, true
	}
	return Hit{
		Severity:    finding.Critical,
		AccountID:   o.ManagementAccountID,
		Title:       "No organization trail logging management events in organization " + o.ID,
		Description: fmt.Sprintf("The audit of organization %s at %s found that %s. Without a logging trail EventBridge receives no CloudTrail events and every rootguard rule is blind.", o.ID, stamp, why),
	}, true
}

// auditCustody runs the organization-level checks on the features and trails the facts hold.
func auditCustody(o org.Organization, stamp, dayKey string, add func(r *Rule, h Hit)) {
	if h, ok := auditCentralAccess(o, stamp); ok {
		h.IDParts = []string{o.ID, dayKey}
		add(ruleCentralAccessDisabled, h)
	}
	if h, ok := auditTrails(o, stamp); ok {
		h.IDParts = []string{o.ID, dayKey}
		add(ruleTrailTampered, h)
	}
}
