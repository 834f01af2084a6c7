package render

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/rootguard/rootguard/internal/finding"
)

func resolvedFinding() finding.Finding {
	return finding.Finding{
		ID: "scp-detached-0123456789abcdef0123", Rule: "SCP-DETACHED", Severity: finding.Critical,
		AccountID: "111111111111", AccountName: "mgmt [x](https://evil.example) <!here>",
		Title: "Protection SCP p-1 detached from r-1 @channel", Description: "someone detached it",
		EventID: "ev-1", EventTime: "2026-11-25T10:00:00Z",
		Status: finding.StatusResolved, ResolvedAt: "2026-11-25T10:05:00Z", ResolvedBy: "ev-2",
	}
}

func TestResolvedASFF(t *testing.T) {
	f := resolvedFinding()
	open := f
	open.Status, open.ResolvedAt, open.ResolvedBy = "", "", ""
	ctx := ASFFContext{Region: "us-east-1", CallingAccountID: "999999999999", Now: time.Date(2026, 11, 25, 11, 0, 0, 0, time.UTC)}
	a, r := ASFF(open, ctx), ASFF(f, ctx)
	if a.ID != r.ID || a.RecordState != "ACTIVE" || r.RecordState != "ARCHIVED" {
		t.Errorf("ids %s/%s, record states %s/%s", a.ID, r.ID, a.RecordState, r.RecordState)
	}
	if !(r.UpdatedAt > a.UpdatedAt) || r.UpdatedAt != "2026-11-25T10:05:00Z" || r.CreatedAt != a.CreatedAt {
		t.Errorf("UpdatedAt %s (open %s), CreatedAt %s (open %s)", r.UpdatedAt, a.UpdatedAt, r.CreatedAt, a.CreatedAt)
	}
	if r.ProductFields["rootguard/status"] != "resolved" || r.ProductFields["rootguard/resolvedBy"] != "ev-2" {
		t.Errorf("product fields %v", r.ProductFields)
	}
	open.Revert = "reverted by rootguard at 2026-11-25T10:00:01Z: organizations:AttachPolicy (PolicyId p-1, TargetId r-1); done"
	if got := ASFF(open, ctx).ProductFields["rootguard/revert"]; got != open.Revert {
		t.Errorf("revert product field %q", got)
	}
	// A restoration time that is not later still updates the finding.
	f.ResolvedAt = "2026-11-25T09:00:00Z"
	if r := ASFF(f, ctx); !mustTime(t, r.UpdatedAt).After(mustTime(t, a.UpdatedAt)) {
		t.Errorf("skewed UpdatedAt %s not after %s", r.UpdatedAt, a.UpdatedAt)
	}
	if _, err := ASFFBatch([]finding.Finding{f}, ctx); err != nil {
		t.Errorf("ASFFBatch: %v", err)
	}
}

func TestResolvedEmailAndChat(t *testing.T) {
	f := resolvedFinding()
	if s := EmailSubject(f); !strings.HasPrefix(s, "[rootguard] RESOLVED CRITICAL SCP-DETACHED 111111111111") {
		t.Errorf("subject %q", s)
	}
	body := EmailBody(f)
	if !strings.Contains(body, "event ev-2") || !strings.Contains(body, "2026-11-25T10:05:00Z") || strings.Count(body, "\n") > 12 {
		t.Errorf("body is not one short resolved message:\n%s", body)
	}
	b, err := Chat(f)
	if err != nil {
		t.Fatal(err)
	}
	var m ChatMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	all := m.Content.Title + m.Content.Description
	if !strings.Contains(m.Content.Title, "RESOLVED") || strings.Contains(all, "[x]") || strings.Contains(all, "<!here>") || strings.Contains(all, "@channel") {
		t.Errorf("chat not escaped or not a resolution: %s", b)
	}
	if m.Metadata.ThreadID != ChatNotification(func() finding.Finding { g := f; g.Status = ""; return g }()).Metadata.ThreadID {
		t.Error("the resolution is not in the finding's thread")
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
