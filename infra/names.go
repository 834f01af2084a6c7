package infra

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rootguard/rootguard/internal/route"
)

// Fixed names: the member template and the management stacks are synthesized apart from the
// central stack (another account), so they address its resources by name.
const (
	// OrgBusName is the central bus that receives the organization's forwarded events.
	OrgBusName = "rootguard"
	// FindingsBusName is the bus the evaluators put findings on (notifier and user rules read it).
	FindingsBusName = "rootguard-findings"
	// StackSetName is the service-managed StackSet of the member forwarder.
	StackSetName = "rootguard-member-forwarder"
	// KeyAlias is the alias of the central customer-managed key.
	KeyAlias = "alias/rootguard"
	// AuditTaskPolicyArn is the AssumeRoot task policy the functions may use.
	AuditTaskPolicyArn = "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"
)

// Stack names.
const (
	CentralStackName         = "RootGuard-Central"
	MemberStackSetStackName  = "RootGuard-MemberStackSet"
	MemberStageName          = "RootGuard-Member"
	MemberForwarderStackName = "RootGuard-MemberForwarder"
	managementStackPrefix    = "RootGuard-Management-"
)

// ManagementStackName is the name of the management-account forwarder stack in one region.
func ManagementStackName(region string) string { return managementStackPrefix + region }

// FunctionName is the deployed name of a rootguard function.
func FunctionName(fn string) string { return "rootguard-" + fn }

// FunctionRoleName is the fixed name of a function's execution role (the audit role in every
// member account trusts three of them by ARN).
func FunctionRoleName(fn string) string { return "rootguard-" + fn + "-function" }

// FunctionRoleArn is the ARN of a function's execution role in the central account.
func (c Config) FunctionRoleArn(fn string) string {
	return fmt.Sprintf("arn:aws:iam::%s:role/%s", c.CentralAccount, FunctionRoleName(fn))
}

// OrgBusArn is the ARN of the central organization bus.
func (c Config) OrgBusArn() string {
	return fmt.Sprintf("arn:aws:events:%s:%s:event-bus/%s", c.HomeRegion, c.CentralAccount, OrgBusName)
}

// AuditRoleTrustedFunctions are the functions that read root credential state in member accounts.
var AuditRoleTrustedFunctions = []string{route.Audit, route.Onboarding, route.RootActivity}

// ReadsRootCredentials reports whether a function reads root credential state in accounts.
func ReadsRootCredentials(fn string) bool { return slices.Contains(AuditRoleTrustedFunctions, fn) }

// FunctionSpec is the sizing of one function.
type FunctionSpec struct {
	// Name is the route name (folder under functions/).
	Name string
	// Description is the Lambda description.
	Description string
	// MemoryMB and Timeout size the function.
	MemoryMB int
	Timeout  time.Duration
	// Detector: it evaluates events or the organization and puts findings on the findings bus.
	Detector bool
}

// FunctionSpecs sizes every function, in route.Functions order.
var FunctionSpecs = []FunctionSpec{
	{Name: route.RootActivity, Description: "rootguard: root sign-ins, root API activity and AssumeRoot from every account", MemoryMB: 256, Timeout: 60 * time.Second, Detector: true},
	{Name: route.SCPGuard, Description: "rootguard: protection SCP and organization structure changes", MemoryMB: 256, Timeout: 60 * time.Second, Detector: true},
	{Name: route.Onboarding, Description: "rootguard: new and joining accounts, posture at onboarding", MemoryMB: 256, Timeout: 180 * time.Second, Detector: true},
	{Name: route.Audit, Description: "rootguard: scheduled posture and organization audit", MemoryMB: 512, Timeout: 600 * time.Second, Detector: true},
	{Name: route.Notifier, Description: "rootguard: delivers findings by email, chat and Security Hub", MemoryMB: 256, Timeout: 60 * time.Second},
	{Name: route.Heartbeat, Description: "rootguard: puts the heartbeat's canary events on the central bus and counts the CloudTrail round trip", MemoryMB: 128, Timeout: 30 * time.Second},
}

// joinList renders a list for a ROOTGUARD_* environment variable.
func joinList(l []string) string { return strings.Join(l, ",") }

// sortedKeys returns a map's keys in order (construct ids must not depend on map order).
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
