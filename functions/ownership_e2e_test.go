//go:build linux

package functions

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rootguard/rootguard/internal/aws/awsorg"
	"github.com/rootguard/rootguard/internal/org"
)

// ownerItems returns the state table's recorded ownership, by account id.
func (h *e2e) ownerItems(ctx context.Context, t *testing.T) map[string]map[string]string {
	t.Helper()
	items, err := h.dyn.Items(ctx, stateTable)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]string{}
	for _, it := range items {
		id, _ := it["id"].(*ddbtypes.AttributeValueMemberS)
		if id == nil || len(id.Value) <= len(awsorg.OwnerKeyPrefix) || id.Value[:len(awsorg.OwnerKeyPrefix)] != awsorg.OwnerKeyPrefix {
			continue
		}
		m := map[string]string{}
		for k, v := range it {
			if s, ok := v.(*ddbtypes.AttributeValueMemberS); ok {
				m[k] = s.Value
			}
		}
		out[id.Value[len(awsorg.OwnerKeyPrefix):]] = m
	}
	return out
}

// stickyOwnership: the first audit records every account's ownership in the state table; the
// attack of issue 9 through the Lambdas (a Stax-owned member's root email moved to another
// domain, then a root sign-in) is ROOT-EMAIL-CHANGED CRITICAL and still ROOT-SIGNIN-STAX-MEMBER
// CRITICAL, because root-activity keeps the record Stax-owned and notes the change.
func (h *e2e) stickyOwnership(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	seeded := map[string]bool{}
	for _, it := range h.seed {
		if id, _ := it["id"].(*ddbtypes.AttributeValueMemberS); id != nil {
			seeded[id.Value] = true
		}
	}
	doc := h.origDoc(t)
	for _, a := range doc.Accounts {
		if !seeded[awsorg.OwnerKeyPrefix+a.ID] {
			t.Errorf("the first audit did not record the ownership of %s", a.ID)
		}
	}

	const path = "ROOT-SIGNIN-STAX-MEMBER/CRITICAL.after-root-email-moved-off-stax.json"
	h.sample(t, path) // asserts ROOT-SIGNIN-STAX-MEMBER CRITICAL
	rec := h.ownerItems(ctx, t)["666666666666"]
	var accept struct {
		Detail struct {
			EventID string `json:"eventID"`
		} `json:"detail"`
	}
	if err := json.Unmarshal(readEvents(t, path)[1], &accept); err != nil {
		t.Fatal(err)
	}
	if rec["ownership"] != org.OwnershipStax || rec["rootEmailChangedAt"] != "2026-11-20T08:03:40Z" || rec["eventId"] != accept.Detail.EventID {
		t.Errorf("owner#666666666666 after the change: %v", rec)
	}
	for _, a := range h.fake.Doc().Accounts {
		if a.ID == "666666666666" && a.EmailAddress() != "workload-root@mailbox.evil.example" {
			t.Errorf("the fake organization does not show the new email: %q", a.EmailAddress())
		}
	}
}
