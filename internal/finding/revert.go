package finding

// Finding status values (the `status` field). A finding without a status is open.
const (
	StatusResolved = "resolved"
)

// ResolvedByAudit is the resolvedBy of a finding that the audit found fixed.
const ResolvedByAudit = "audit"

// RevertCall is one Organizations API call of a revert plan: the call that restores the
// protection a finding is about. The JSON field names are the public plan format
// (`rootguard replay --format plan`): one object per call, Parameters named as in the API.
type RevertCall struct {
	FindingID string `json:"findingId"`
	Rule      string `json:"rule"`
	// Action is the IAM action name, e.g. "organizations:AttachPolicy".
	Action string `json:"action"`
	// Parameters are the API's request parameters (PolicyId, TargetId, Content, ...).
	Parameters map[string]string `json:"parameters"`
}

// Revert actions: the Organizations calls a revert plan may hold, and nothing else.
const (
	ActionAttachPolicy     = "organizations:AttachPolicy"
	ActionUpdatePolicy     = "organizations:UpdatePolicy"
	ActionEnablePolicyType = "organizations:EnablePolicyType"
	ActionMoveAccount      = "organizations:MoveAccount"
)

// RevertActions lists every action a revert plan may hold (the revert role's permissions).
var RevertActions = []string{ActionAttachPolicy, ActionUpdatePolicy, ActionEnablePolicyType, ActionMoveAccount}
