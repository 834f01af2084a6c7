package rule

import "github.com/rootguard/rootguard/internal/route"

// ASFF finding types (namespace/category/classifier) of the rules. Namespaces and categories
// are the ones Security Hub defines; classifiers are rootguard's.
const (
	typeRootUsage     = "Unusual Behaviors/User/Root Credential Usage"
	typeDefenseSCP    = "TTPs/Defense Evasion/Protection SCP Weakened"
	typeConfigSCP     = "Software and Configuration Checks/AWS Security Best Practices/Protection SCP"
	typeDefenseLeft   = "TTPs/Defense Evasion/Account Left Organization"
	typeConfigOrg     = "Software and Configuration Checks/AWS Security Best Practices/Organization Membership"
	typeBestPractices = "Software and Configuration Checks/AWS Security Best Practices/"
)

// classifiedByID gives a rule the ASFF type, under AWS Security Best Practices, whose classifier
// is the rule's own id, after the types it lists.
func classifiedByID(r *Rule) *Rule {
	r.ASFFTypes = append(r.ASFFTypes, typeBestPractices+r.ID)
	return r
}

// scpTypes are the types of the protection SCP rules.
var scpTypes = []string{typeDefenseSCP, typeConfigSCP}

// call is the event of API calls of an AWS service ("iam", "organizations", ...) by name,
// whoever makes them.
func apiCall(service string, names ...string) route.Event {
	return route.Event{Pattern: route.Call(service, names...)}
}

// serviceEvent is the event of an AWS service's service events by name.
func serviceEvent(service string, names ...string) route.Event {
	return route.Event{Pattern: route.ServiceEventOf(service, names...)}
}

// rootSignIn is the event of root console sign-in events by name.
func rootSignIn(names ...string) route.Event {
	return route.Event{Pattern: route.Pattern{
		Sources:           []string{"aws.signin"},
		DetailTypes:       route.SignInDetailTypes,
		EventSources:      []string{"signin.amazonaws.com"},
		EventNames:        names,
		UserIdentityTypes: []string{"Root"},
	}}
}

// anyRootCall is the event of any root API call or console action, read-only ones included
// (reconnaissance).
var anyRootCall = route.Event{Pattern: route.Pattern{
	SourcePrefixes:      []string{route.AWSSource},
	DetailTypes:         []string{route.APICall, route.ConsoleAction},
	UserIdentityTypes:   []string{"Root"},
	AllManagementEvents: true,
}}

// inPart puts events in a further route of the function that takes them (route.Event.Part),
// and for a group more than one function evaluates, names that function.
func inPart(function, part string, events ...route.Event) []route.Event {
	for i := range events {
		events[i].Function, events[i].Part = function, part
	}
	return events
}
