package render

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/rootguard/rootguard/internal/finding"
)

// Plan writes a revert plan as JSON Lines: one object per planned Organizations call,
// {"findingId", "rule", "action", "parameters"}, with the API's parameter names (PolicyId,
// TargetId, Content, Name, RootId, PolicyType, AccountId, SourceParentId, DestinationParentId).
// Parameter values (a policy's content, its name) are JSON-escaped with HTML escaping on.
func Plan(w io.Writer, calls []finding.RevertCall) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	for i := range calls {
		if err := enc.Encode(&calls[i]); err != nil {
			return fmt.Errorf("write the planned %s call for finding %s: %w", calls[i].Action, calls[i].FindingID, err)
		}
	}
	return nil
}
