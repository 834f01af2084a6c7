package dynamostore

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rootguard/rootguard/internal/aws/awsorg"
	"github.com/rootguard/rootguard/internal/org"
	"github.com/rootguard/rootguard/internal/testenv/dynalite"
)

// Two policy documents, weak and strong.
const (
	weak   = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}`
	strong = `{"Version":"2012-10-17","Statement":[{"Sid":"DenyRoot","Effect":"Deny","Action":"*","Resource":"*"}]}`
)

func TestRoundTrip(t *testing.T) {
	dyn := dynalite.Start(t)
	table := dynalite.TableName(t.Name())
	dyn.CreateTable(t, table)
	st := &Store{API: dyn.Client(), Table: table}
	ctx := context.Background()
	if _, found, err := st.Get(ctx, "p-none"); err != nil || found {
		t.Fatalf("Get of a policy never stored = found %v, %v", found, err)
	}
	strongC, weakC := strong, weak
	at := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	recs := []awsorg.StoredPolicy{
		{Policy: org.Policy{ID: "p-a", Name: "Stax-Protection", Type: org.PolicyTypeSCP, Content: &strongC}, RecordedAt: at},
		{Policy: org.Policy{ID: "p-b", Name: "Stax-Protection-2", Type: org.PolicyTypeSCP, Content: &weakC}, RecordedAt: at,
			EventID: "ev-1", Before: &org.Policy{ID: "p-b", Name: "Stax-Protection", Type: org.PolicyTypeSCP, Content: &strongC}},
		{Policy: org.Policy{ID: "p-c", Name: "Stax-Protection", Type: org.PolicyTypeSCP}, Deleted: true, RecordedAt: at,
			EventID: "ev-2", Before: &org.Policy{ID: "p-c", Name: "Stax-Protection", Type: org.PolicyTypeSCP}},
	}
	for _, r := range recs {
		if err := st.Put(ctx, r); err != nil {
			t.Fatal(err)
		}
		got, found, err := st.Get(ctx, r.Policy.ID)
		if err != nil || !found {
			t.Fatalf("Get %s = found %v, %v", r.Policy.ID, found, err)
		}
		if diff := cmp.Diff(r, got); diff != "" {
			t.Errorf("%s round trip (-put +got):\n%s", r.Policy.ID, diff)
		}
	}
	items, err := dyn.Items(ctx, table)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if id := strAttr(it, "id"); !strings.HasPrefix(id, awsorg.PolicyKeyPrefix+"p-") {
			t.Errorf("item id %q, want policy#<policy id>", id)
		}
		if _, ok := it["expiresAt"]; ok {
			t.Errorf("policy record %s expires; it must not", strAttr(it, "id"))
		}
	}
}
