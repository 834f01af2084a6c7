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

func TestOwnerRoundTrip(t *testing.T) {
	dyn := dynalite.Start(t)
	table := dynalite.TableName(t.Name())
	dyn.CreateTable(t, table)
	st := &Store{API: dyn.Client(), Table: table}
	ctx := context.Background()
	if _, found, err := st.GetOwner(ctx, "444444444444"); err != nil || found {
		t.Fatalf("GetOwner of an account never recorded = found %v, %v", found, err)
	}
	at := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	first := awsorg.OwnerRecord{AccountID: "444444444444", Ownership: org.OwnershipStax, Email: "root+sandbox1@stax.example", RecordedAt: at}
	if written, err := st.PutOwner(ctx, first, true); err != nil || !written {
		t.Fatalf("first record: written %v, %v", written, err)
	}
	// A second first sight (another function, or a later email) does not replace it.
	other := awsorg.OwnerRecord{AccountID: "444444444444", Ownership: org.OwnershipCustomer, Email: "x@evil.example", RecordedAt: at.Add(time.Hour)}
	if written, err := st.PutOwner(ctx, other, true); err != nil || written {
		t.Fatalf("second first-sight record: written %v, %v; want not written, no error", written, err)
	}
	got, found, err := st.GetOwner(ctx, "444444444444")
	if err != nil || !found {
		t.Fatalf("GetOwner = found %v, %v", found, err)
	}
	if diff := cmp.Diff(first, got); diff != "" {
		t.Errorf("round trip (-put +got):\n%s", diff)
	}
	// The email change is recorded over it, keeping the ownership.
	changed := first
	changed.RootEmailChangedAt, changed.EventID, changed.RecordedAt = "2026-11-20T08:05:00Z", "ev-accept", at.Add(2*time.Hour)
	if written, err := st.PutOwner(ctx, changed, false); err != nil || !written {
		t.Fatalf("change: written %v, %v", written, err)
	}
	if got, _, _ := st.GetOwner(ctx, "444444444444"); !cmp.Equal(changed, got) {
		t.Errorf("after the change: %+v", got)
	}
	items, err := dyn.Items(ctx, table)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if id := strAttr(it, "id"); id != awsorg.OwnerKeyPrefix+"444444444444" {
			t.Errorf("item id %q, want owner#<account id>", id)
		}
		if _, ok := it["expiresAt"]; ok {
			t.Error("an ownership record expires; it must not")
		}
	}
	// A table that cannot be read is an error naming the account and the table.
	bad := &Store{API: dyn.Client(), Table: "missing-table"}
	if _, _, err := bad.GetOwner(ctx, "444444444444"); err == nil || !strings.Contains(err.Error(), "444444444444") || !strings.Contains(err.Error(), "missing-table") {
		t.Errorf("missing table: %v", err)
	}
}
