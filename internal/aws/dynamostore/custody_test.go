package dynamostore

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"github.com/rootguard/rootguard/internal/rule"
	"github.com/rootguard/rootguard/internal/testenv/dynalite"
)

// TestCustodyRoundTrip: grants, revocations and suspensions written to dynalite read back as
// the engine needs them; item ids carry their prefixes and the TTL attribute follows the expiry.
func TestCustodyRoundTrip(t *testing.T) {
	dyn := dynalite.Start(t)
	table := dynalite.TableName(t.Name())
	dyn.CreateTable(t, table)
	st := &Store{API: dyn.Client(), Table: table}
	ctx := context.Background()
	cu := st.For(ctx)
	at := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	if _, found, err := cu.Grant("p-a"); err != nil || found {
		t.Fatalf("Grant before any write = %v, %v", found, err)
	}
	g := rule.Grant{Resource: "p-a", Value: "CHG-1;expires=2026-11-20T18:00:00Z", Approver: "arn:aws:iam::111111111111:role/approver",
		Actor: "arn:aws:sts::111111111111:assumed-role/approver/priya", Issuer: "arn:aws:iam::111111111111:role/approver",
		EventID: "ev-1", At: at, Expires: at.Add(10 * time.Hour)}
	sp := rule.Suspension{Principal: "arn:aws:iam::111111111111:role/robot", From: at, Until: at.Add(24 * time.Hour), EventID: "ev-2", By: "arn:aws:sts::111111111111:assumed-role/admin/x"}
	if err := st.Record(ctx, rule.CustodyChanges{Grants: []rule.Grant{g}, Suspensions: []rule.Suspension{sp}}, at); err != nil {
		t.Fatal(err)
	}
	got, found, err := cu.Grant("p-a")
	if err != nil || !found {
		t.Fatalf("Grant = %v, %v", found, err)
	}
	if diff := cmp.Diff(g, got); diff != "" {
		t.Errorf("grant round trip (-put +got):\n%s", diff)
	}
	for _, tc := range []struct {
		at   time.Time
		want bool
	}{{at.Add(-time.Minute), false}, {at, true}, {at.Add(23 * time.Hour), true}, {at.Add(24 * time.Hour), false}} {
		s, found, err := cu.Suspended(sp.Principal, tc.at)
		if err != nil || found != tc.want || found && s != sp {
			t.Errorf("Suspended at %s = %+v %v %v, want %v", tc.at, s, found, err, tc.want)
		}
	}
	// A shorter suspension recorded later does not shorten the first one.
	short := sp
	short.EventID, short.From, short.Until = "ev-3", at.Add(time.Hour), at.Add(2*time.Hour)
	if err := st.Record(ctx, rule.CustodyChanges{Suspensions: []rule.Suspension{short}, Revoked: []string{"p-a"}}, at); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := cu.Suspended(sp.Principal, at.Add(20*time.Hour)); !found {
		t.Error("a shorter later suspension shortened the recorded one")
	}
	if _, found, err := cu.Grant("p-a"); err != nil || found {
		t.Errorf("Grant after revocation = %v, %v", found, err)
	}
	items, err := dyn.Items(ctx, table)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		id := strAttr(it, "id")
		if !strings.HasPrefix(id, GrantKeyPrefix) && !strings.HasPrefix(id, TrustKeyPrefix) {
			t.Errorf("item id %q without a custody prefix", id)
		}
		n, ok := it["expiresAt"].(*ddbtypes.AttributeValueMemberN)
		if !ok {
			t.Errorf("%s: no expiresAt TTL", id)
			continue
		}
		if id == TrustKeyPrefix+sp.Principal && n.Value != strconv.FormatInt(sp.Until.Unix(), 10) {
			t.Errorf("%s: expiresAt %s, want the end of the suspension", id, n.Value)
		}
	}
}

// TestCustodyReadError: a table that cannot be read is an error naming the table (the engine
// then honours neither the exception nor the trust: fail closed).
func TestCustodyReadError(t *testing.T) {
	dyn := dynalite.Start(t)
	st := &Store{API: dyn.Client(), Table: "no-such-table"}
	if _, _, err := st.For(context.Background()).Grant("p-a"); err == nil || !strings.Contains(err.Error(), "no-such-table") {
		t.Errorf("Grant on a missing table: %v", err)
	}
	if _, _, err := st.For(context.Background()).Suspended("arn:aws:iam::111111111111:role/x", time.Now()); err == nil {
		t.Error("Suspended on a missing table: no error")
	}
}
