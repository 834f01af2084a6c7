package handler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rootguard/rootguard/internal/cloudtrail"
	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/function"
	"github.com/rootguard/rootguard/internal/org"
	"github.com/rootguard/rootguard/internal/rule"
)

// memCustody is a Custody in memory that counts its writes and fails them when told.
type memCustody struct {
	m      *rule.MemCustody
	writes int
	err    error
}

func (c *memCustody) For(context.Context) rule.Custody { return c.m }
func (c *memCustody) Record(_ context.Context, ch rule.CustodyChanges, _ time.Time) error {
	if c.err != nil {
		return c.err
	}
	c.writes++
	c.m.Apply(ch)
	return nil
}

func custodyEvaluator(t *testing.T, fn string, cu *memCustody, out *publisher, log *bytes.Buffer) *Evaluator {
	t.Helper()
	eng, err := rule.NewEngine(rule.Config{StaxDomains: []string{"stax.example"}, ExceptionApprovers: []string{"arn:aws:iam::111111111111:role/stax-exception-approver"}})
	if err != nil {
		t.Fatal(err)
	}
	h := evaluator(t, fn, sampleOrg(t), out, log)
	h.Engine, h.Custody = eng, cu
	if fn == function.SCPGuard {
		h.Groups = []rule.Group{rule.GroupProtection, rule.GroupCustody}
	}
	return h
}

// TestEvaluatorRecordsGrants: scp-guard records the approver's grant and a later event is
// evaluated against it; a grant that cannot be recorded fails the invocation (Lambda retries)
// before any finding is published.
func TestEvaluatorRecordsGrants(t *testing.T) {
	var seq []json.RawMessage
	if err := json.Unmarshal(readSample(t, "SCP-DETACHED/INFORMATIONAL.foundation-detach-under-approved-exception.json"), &seq); err != nil {
		t.Fatal(err)
	}
	cu := &memCustody{m: rule.NewMemCustody()}
	out := &publisher{}
	h := custodyEvaluator(t, function.SCPGuard, cu, out, &bytes.Buffer{})
	for i, raw := range seq {
		if err := h.Handle(context.Background(), raw); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
	}
	if cu.writes != 1 {
		t.Errorf("%d custody writes, want 1 (the grant)", cu.writes)
	}
	var got []string
	for _, f := range out.got {
		got = append(got, f.Rule+" "+f.Severity.String())
	}
	if strings.Join(got, ",") != "EXCEPTION-GRANTED LOW,SCP-DETACHED INFORMATIONAL" {
		t.Errorf("findings %v", got)
	}

	failing := &memCustody{m: rule.NewMemCustody(), err: errors.New("ProvisionedThroughputExceededException")}
	out = &publisher{}
	log := &bytes.Buffer{}
	h = custodyEvaluator(t, function.SCPGuard, failing, out, log)
	if err := h.Handle(context.Background(), seq[0]); err == nil || !strings.Contains(err.Error(), "ProvisionedThroughput") {
		t.Errorf("Handle = %v, want the table's error", err)
	}
	if len(out.got) != 0 || !strings.Contains(log.String(), `"retryable":true`) {
		t.Errorf("published %d findings; log:\n%s", len(out.got), log)
	}
}

// TestEvaluatorReadsCustody: root-activity reads the grants and never writes.
func TestEvaluatorReadsCustody(t *testing.T) {
	var seq []json.RawMessage
	if err := json.Unmarshal(readSample(t, "ROOT-SIGNIN-STAX-MEMBER/INFORMATIONAL.sandbox-root-login-under-approved-exception.json"), &seq); err != nil {
		t.Fatal(err)
	}
	cu := &memCustody{m: rule.NewMemCustody()}
	if err := custodyEvaluator(t, function.SCPGuard, cu, &publisher{}, &bytes.Buffer{}).Handle(context.Background(), seq[0]); err != nil {
		t.Fatal(err)
	}
	writes := cu.writes
	// Live, the organization shows the tag once TagResource is done.
	tagged := org.NewOverlay(sampleOrg(t).Facts)
	ev, err := cloudtrail.Decode(seq[0])
	if err != nil {
		t.Fatal(err)
	}
	tagged.Apply(ev)
	out := &publisher{}
	root := custodyEvaluator(t, function.RootActivity, cu, out, &bytes.Buffer{})
	root.Facts = &snapFacts{Facts: tagged}
	for _, raw := range seq {
		_ = root.Handle(context.Background(), raw) // the TagResource is not routed to root-activity
	}
	if cu.writes != writes {
		t.Error("root-activity wrote the custody state")
	}
	if len(out.got) != 1 || out.got[0].Severity != finding.Informational {
		t.Errorf("root-activity findings %+v, want the sign-in at INFORMATIONAL", out.got)
	}
	// Without a custody state the same sign-in is not lowered.
	out = &publisher{}
	none := custodyEvaluator(t, function.RootActivity, nil, out, &bytes.Buffer{})
	none.Custody, none.Facts = nil, &snapFacts{Facts: tagged}
	_ = none.Handle(context.Background(), seq[1])
	if len(out.got) != 1 || out.got[0].Severity != finding.Critical {
		t.Errorf("without custody: %+v", out.got)
	}
}
