package functions

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rootguard/rootguard/internal/aws/dynamostore"
	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/function"
	"github.com/rootguard/rootguard/internal/org"
)

// applyTags copies the tags an overlay learnt from TagResource / UntagResource into the fake
// organization, so that ListTagsForResource answers as AWS would after the event.
func applyTags(ov *org.Overlay, d *org.SnapshotDoc) {
	if t, err := ov.Tags(d.Organization.RootID); err == nil {
		d.Organization.Tags = t
	}
	for i := range d.OrganizationalUnits {
		if t, err := ov.Tags(d.OrganizationalUnits[i].ID); err == nil {
			d.OrganizationalUnits[i].Tags = t
		}
	}
	for i := range d.Accounts {
		if t, err := ov.Tags(d.Accounts[i].ID); err == nil {
			d.Accounts[i].Tags = t
		}
	}
	for i := range d.Policies {
		if t, err := ov.Tags(d.Policies[i].ID); err == nil {
			d.Policies[i].Tags = t
		}
	}
}

// exceptionGrants: a TagResource of rootguard:exception by the approver is recorded in the state
// table by scp-guard and honoured by a later, cold scp-guard (only the table remembers it); the
// same TagResource by a non-approver is not recorded and not honoured.
func (h *e2e) exceptionGrants(t *testing.T) {
	const sample = "SCP-DETACHED/INFORMATIONAL.foundation-detach-under-approved-exception.json" // [grant, detach]
	for _, tc := range []struct {
		name, role         string
		grantSev, detachSv finding.Severity
		recorded           bool
	}{
		{"by the approver", "stax-exception-approver", finding.Low, finding.Informational, true},
		{"by a non-approver", "stax-operator", finding.High, finding.Critical, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			h.stopEvaluators()
			defer func() {
				if t.Failed() {
					t.Logf("function logs:\n%s", h.logs())
				}
			}()
			if err := h.fake.Update(func(d *org.SnapshotDoc) { *d = h.origDoc(t) }); err != nil {
				t.Fatal(err)
			}
			h.resetState(ctx, t)
			events := readEvents(t, sample)
			grant := asRole(t, events[0], tc.role)

			start := len(h.fake.Events())
			if err := h.evaluator(t, function.SCPGuard).invoke(ctx, grant); err != nil {
				t.Fatalf("grant: %v", err)
			}
			if got := h.only(t, start, "EXCEPTION-GRANTED"); got != tc.grantSev {
				t.Errorf("EXCEPTION-GRANTED %s, want %s", got, tc.grantSev)
			}
			items, err := h.dyn.Items(ctx, stateTable)
			if err != nil {
				t.Fatal(err)
			}
			var item map[string]ddbtypes.AttributeValue
			for _, it := range items {
				if v, _ := it["id"].(*ddbtypes.AttributeValueMemberS); v != nil && v.Value == dynamostore.GrantKeyPrefix+"p-st4xfound1" {
					item = it
				}
			}
			revoked, _ := item["revoked"].(*ddbtypes.AttributeValueMemberBOOL)
			if recorded := item != nil && revoked != nil && !revoked.Value; recorded != tc.recorded {
				t.Errorf("grant recorded in the state table: %v, want %v (item %v)", recorded, tc.recorded, item)
			}
			if tc.recorded {
				if v, _ := item["approver"].(*ddbtypes.AttributeValueMemberS); v == nil || v.Value != approver {
					t.Errorf("recorded approver %v, want %s", item["approver"], approver)
				}
			}

			// A cold scp-guard evaluates the detach: only the state table remembers the grant.
			h.stopEvaluators()
			start = len(h.fake.Events())
			if err := h.evaluator(t, function.SCPGuard).invoke(ctx, events[1]); err != nil {
				t.Fatalf("detach: %v", err)
			}
			if got := h.only(t, start, "SCP-DETACHED"); got != tc.detachSv {
				t.Errorf("SCP-DETACHED %s, want %s", got, tc.detachSv)
			}
		})
	}
}

// only returns the severity of the one finding of rule on the bus since start.
func (h *e2e) only(t *testing.T, start int, rule string) finding.Severity {
	t.Helper()
	var sevs []finding.Severity
	for _, f := range h.checkBus(t, h.fake.Events()[start:]) {
		if f.Rule == rule {
			sevs = append(sevs, f.Severity)
		}
	}
	if len(sevs) != 1 {
		t.Fatalf("%d %s findings on the bus, want 1", len(sevs), rule)
	}
	return sevs[0]
}

// asRole returns an event made by a session of another role of the management account.
func asRole(t *testing.T, raw []byte, role string) []byte {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	u := ev["detail"].(map[string]any)["userIdentity"].(map[string]any)
	arn := u["arn"].(string)
	session := arn[strings.LastIndexByte(arn, '/')+1:]
	u["arn"] = "arn:aws:sts::111111111111:assumed-role/" + role + "/" + session
	issuer := u["sessionContext"].(map[string]any)["sessionIssuer"].(map[string]any)
	issuer["arn"], issuer["userName"] = "arn:aws:iam::111111111111:role/"+role, role
	out, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
