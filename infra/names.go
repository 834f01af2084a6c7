package infra

import (
	"fmt"
	"slices"
	"strings"

	"github.com/rootguard/rootguard/internal/function"
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

// AuditRoleTrustedFunctions are the functions that read root credential state in accounts
// (function.Table's RootCredentials), in name order: the audit role of every account trusts
// their execution roles.
var AuditRoleTrustedFunctions = rootCredentialReaders()

func rootCredentialReaders() []string {
	var out []string
	for _, f := range function.Table {
		if f.RootCredentials {
			out = append(out, f.Name)
		}
	}
	slices.Sort(out)
	return out
}

// ReadsRootCredentials reports whether a function reads root credential state in accounts.
func ReadsRootCredentials(fn string) bool { return slices.Contains(AuditRoleTrustedFunctions, fn) }

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
