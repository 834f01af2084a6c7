package infra

import (
	"encoding/json"
	"testing"

	"github.com/rootguard/rootguard/internal/routing"
)

// MaxEventPattern is EventBridge's default event pattern size quota, in characters (raising it
// to 4096 takes a service quota request in every account and region, which a StackSet cannot).
const MaxEventPattern = 2048

// TestPatternSizes: every central and forwarding rule pattern fits the default quota.
func TestPatternSizes(t *testing.T) {
	for _, r := range routing.Table {
		for what, p := range map[string]map[string]any{"central": CentralPattern(r, "999988887777"), "forwarding": ForwardPattern(r)} {
			b, err := json.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s %s pattern: %d characters", r.Function, what, len(b))
			if len(b) > MaxEventPattern {
				t.Errorf("%s %s pattern is %d characters, over EventBridge's %d", r.Function, what, len(b), MaxEventPattern)
			}
		}
	}
}
