package org

import (
	"encoding/json"
	"testing"

	"github.com/rootguard/rootguard/internal/cloudtrail"
)

// TestOverlayTags: successful TagResource and UntagResource change what Tags answers; a failed
// call changes nothing; other resources keep their snapshot tags.
func TestOverlayTags(t *testing.T) {
	snap, err := NewSnapshot(SnapshotDoc{
		Organization: Organization{ID: "o-1", ManagementAccountID: "100000000000", RootID: "r-1", Tags: map[string]string{"keep": "1"}},
		Accounts:     []Account{{ID: "100000000000", Name: "mgmt", ParentID: "r-1", Tags: map[string]string{"owner": "stax"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ov := NewOverlay(snap)
	ev := func(name, params string, failed bool) *cloudtrail.Event {
		e := &cloudtrail.Event{Record: cloudtrail.Record{EventSource: cloudtrail.SourceOrganizations, EventName: name}}
		if err := json.Unmarshal([]byte(params), &e.RequestParameters); err != nil {
			t.Fatal(err)
		}
		if failed {
			e.ErrorCode = "AccessDenied"
		}
		return e
	}
	ov.Apply(ev("TagResource", `{"resourceId":"100000000000","tags":[{"key":"rootguard:exception","value":"x;expires=2026-11-20T18:00:00Z"}]}`, false))
	ov.Apply(ev("TagResource", `{"resourceId":"100000000000","tags":[{"key":"owner","value":"attacker"}]}`, true))
	tags, err := ov.Tags("100000000000")
	if err != nil || tags["rootguard:exception"] != "x;expires=2026-11-20T18:00:00Z" || tags["owner"] != "stax" {
		t.Fatalf("after TagResource: %v, %v", tags, err)
	}
	ov.Apply(ev("UntagResource", `{"resourceId":"100000000000","tagKeys":["rootguard:exception"]}`, false))
	if tags, _ := ov.Tags("100000000000"); len(tags) != 1 || tags["owner"] != "stax" {
		t.Errorf("after UntagResource: %v", tags)
	}
	if tags, _ := ov.Tags("r-1"); tags["keep"] != "1" {
		t.Errorf("root tags: %v", tags)
	}
	if base, _ := snap.Tags("100000000000"); len(base) != 1 {
		t.Errorf("the snapshot changed: %v", base)
	}
}
