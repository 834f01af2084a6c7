package infra

import (
	"github.com/rootguard/rootguard/internal/route"
	"github.com/rootguard/rootguard/internal/routing"
)

// Rule states of an EventBridge rule.
const (
	// StateEnabled matches everything except read-only CloudTrail management events.
	StateEnabled = "ENABLED"
	// StateAllManagementEvents also matches read-only management events (root reconnaissance).
	StateAllManagementEvents = "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"
)

// EventPattern returns the EventBridge event pattern of one routing-table pattern: every listed
// field must equal one of its values; a source may also start with one of the pattern's source
// prefixes ({"prefix": "aws."}).
func EventPattern(p route.Pattern) map[string]any {
	out := map[string]any{}
	put := func(m map[string]any, key string, values []string) {
		if len(values) > 0 {
			m[key] = values
		}
	}
	put(out, "source", p.Sources)
	if len(p.SourcePrefixes) > 0 {
		sources := make([]any, 0, len(p.Sources)+len(p.SourcePrefixes))
		for _, v := range p.Sources {
			sources = append(sources, v)
		}
		for _, v := range p.SourcePrefixes {
			sources = append(sources, map[string]any{"prefix": v})
		}
		out["source"] = sources
	}
	put(out, "detail-type", p.DetailTypes)
	detail := map[string]any{}
	put(detail, "eventSource", p.EventSources)
	put(detail, "eventName", p.EventNames)
	if len(p.EventNamePrefixes) > 0 {
		names := make([]any, 0, len(p.EventNames)+len(p.EventNamePrefixes))
		for _, v := range p.EventNames {
			names = append(names, v)
		}
		for _, v := range p.EventNamePrefixes {
			names = append(names, map[string]any{"prefix": v})
		}
		detail["eventName"] = names
	}
	if len(p.UserIdentityTypes) > 0 {
		detail["userIdentity"] = map[string]any{"type": p.UserIdentityTypes}
	}
	if len(p.RequestNames) > 0 {
		detail["requestParameters"] = map[string]any{"name": p.RequestNames}
	}
	if len(detail) > 0 {
		out["detail"] = detail
	}
	return out
}

// CentralPattern returns the one event pattern of a function's rule on the central bus: its only
// pattern, or the "$or" of all of them. A heartbeat (canary) pattern also requires the event's
// account to be the central account, where the heartbeat function puts the canaries: no other
// account of the organization can fake a heartbeat on the central bus. A FromManagement pattern
// (the CloudTrail round trip) requires the management account, given as managementAccount.
func CentralPattern(r route.Route, centralAccount string, managementAccount ...string) map[string]any {
	var out []map[string]any
	for _, p := range r.Patterns {
		ep := EventPattern(p)
		if p.Canary {
			ep["account"] = []string{centralAccount}
		}
		if p.FromManagement {
			ep["account"] = managementAccount
		}
		out = append(out, ep)
	}
	return anyOf(out)
}

// ForwardPattern returns the pattern of a forwarding rule of a route (route.Forwarding): its
// patterns without the heartbeat's (canaries are put on the central bus directly, never
// forwarded), and of its fact-change patterns only what no other rule forwards. It is nil when
// nothing of the route is forwarded.
func ForwardPattern(r route.Route) map[string]any {
	var out []map[string]any
	for _, p := range routing.Forwarding(r) {
		out = append(out, EventPattern(p))
	}
	return anyOf(out)
}

// anyOf is the one pattern matching any of patterns: the only one, or their "$or" (nil for none).
func anyOf(patterns []map[string]any) map[string]any {
	switch len(patterns) {
	case 0:
		return nil
	case 1:
		return patterns[0]
	}
	or := make([]any, len(patterns))
	for i, p := range patterns {
		or[i] = p
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
	for _, r := range routing.Table {
		if r.Forwarded {
			out = append(out, r)
		}
	}
	return out
}
