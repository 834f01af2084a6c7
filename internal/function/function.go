// Package function is the table of rootguard's functions: what each one is and needs, written
// once. It is plain data and imports nothing of rootguard, so every function can link it (the
// notifier and the heartbeat without the rule engine); the wiring, the configuration check and the
// infrastructure loop over it.
package function

// Function names (the folder under functions/).
const (
	RootActivity = "root-activity"
	SCPGuard     = "scp-guard"
	Onboarding   = "onboarding"
	Audit        = "audit"
	Notifier     = "notifier"
	Heartbeat    = "heartbeat"
)

// Rule group names (package rule's Group values).
const (
	GroupRoot       = "root"
	GroupProtection = "protection"
	GroupOnboarding = "onboarding"
	GroupPosture    = "posture"
	GroupCustody    = "custody"
)

// Function is one rootguard function.
type Function struct {
	// Name is the function's name and its folder under functions/.
	Name string
	// Groups are the rule groups it evaluates (none for the notifier and the heartbeat).
	Groups []string
	// Forwarded: the events it takes also happen in member accounts and other regions, so they
	// are forwarded to the central bus.
	Forwarded bool
}

// Table is every function, in a fixed order.
var Table = []Function{
	{Name: RootActivity, Groups: []string{GroupRoot, GroupCustody}, Forwarded: true},
	{Name: SCPGuard, Groups: []string{GroupProtection, GroupCustody}, Forwarded: true},
	{Name: Onboarding, Groups: []string{GroupOnboarding}, Forwarded: true},
	{Name: Audit, Groups: []string{GroupPosture}},
	{Name: Notifier},
	{Name: Heartbeat},
}

// Lookup returns the function of a name, or false.
func Lookup(name string) (Function, bool) {
	for _, f := range Table {
		if f.Name == name {
			return f, true
		}
	}
	return Function{}, false
}
