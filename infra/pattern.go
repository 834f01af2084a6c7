package infra

import (
	"github.com/rootguard/rootguard/shared/route"
)

// Rule states of an EventBridge rule.
const (
	// StateEnabled matches everything except read-only CloudTrail management events.
	StateEnabled = "ENABLED"
	// StateAllManagementEvents also matches read-only management events (root reconnaissance).
	StateAllManagementEvents = "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"
)

// EventPattern returns the EventBridge event pattern of one routing-table pattern: every listed
// field must equal one of its values.
func EventPattern(p route.Pattern) map[string]any {
	out := map[string]any{}
	put := func(m map[string]any, key string, values []string) {
		if len(values) > 0 {
			m[key] = values
		}
	}
	put(out, "source", p.Sources)
	put(out, "detail-type", p.DetailTypes)
	detail := map[string]any{}
	put(detail, "eventSource", p.EventSources)
	put(detail, "eventName", p.EventNames)
	if len(p.UserIdentityTypes) > 0 {
		detail["userIdentity"] = map[string]any{"type": p.UserIdentityTypes}
	}
	if len(detail) > 0 {
		out["detail"] = detail
	}
	return out
}

// RoutePattern returns the one event pattern of a function's rule: its only pattern, or the
// "$or" of all of them.
func RoutePattern(r route.Route) map[string]any {
	if len(r.Patterns) == 1 {
		return EventPattern(r.Patterns[0])
	}
	var or []any
	for _, p := range r.Patterns {
		or = append(or, EventPattern(p))
	}
	return map[string]any{"$or": or}
}

// RouteState returns the rule state a route needs: all management events when any of its
// patterns matters for read-only calls.
func RouteState(r route.Route) string {
	for _, p := range r.Patterns {
		if p.AllManagementEvents {
			return StateAllManagementEvents
		}
	}
	return StateEnabled
}

// FindingPattern is the pattern of the findings-bus rule that feeds notifier.
func FindingPattern() map[string]any {
	return map[string]any{
		"source":      []string{route.FindingSource},
		"detail-type": []string{route.FindingDetailType},
	}
}

// ForwardedRoutes are the routes whose events also happen outside the management account and
// are forwarded from every member account.
func ForwardedRoutes() []route.Route {
	var out []route.Route
	for _, r := range route.Table {
		if r.Forwarded {
			out = append(out, r)
		}
	}
	return out
}
