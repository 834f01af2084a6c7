package render

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rootguard/rootguard/internal/finding"
)

// validateASFF checks one decoded finding against the ASFF required fields and limits.
func validateASFF(t *testing.T, raw json.RawMessage, ctx ASFFContext) {
	t.Helper()
	if len(raw) > ASFFMaxFindingBytes {
		t.Errorf("finding is %d bytes, over %d", len(raw), ASFFMaxFindingBytes)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("finding is not a JSON object: %v", err)
	}
	str := func(key string) string {
		v, ok := m[key].(string)
		if !ok || strings.TrimSpace(v) == "" {
			t.Errorf("%s missing or empty: %v", key, m[key])
		}
		return v
	}
	limit := func(key, v string, n int) {
		if u := measure(v, utf16Width); u > n {
			t.Errorf("%s has %d UTF-16 units, over %d", key, u, n)
		}
		if strings.ContainsAny(v, "\r\n\x1b\x00") {
			t.Errorf("%s contains a line break or control character: %q", key, v)
		}
	}
	if v := str("SchemaVersion"); v != "2018-10-08" {
		t.Errorf("SchemaVersion = %q", v)
	}
	limit("Id", str("Id"), 512)
	wantArn := fmt.Sprintf("arn:aws:securityhub:%s:%s:product/%s/default", ctx.Region, ctx.CallingAccountID, ctx.CallingAccountID)
	if v := str("ProductArn"); v != wantArn {
		t.Errorf("ProductArn = %q, want %q", v, wantArn)
	}
	if v := str("GeneratorId"); !strings.HasPrefix(v, "rootguard/") || len(v) > 512 {
		t.Errorf("GeneratorId = %q", v)
	}
	if v := str("AwsAccountId"); v != ctx.CallingAccountID {
		t.Errorf("AwsAccountId = %q, want the calling account %q", v, ctx.CallingAccountID)
	}
	for _, key := range []string{"CreatedAt", "UpdatedAt"} {
		if _, err := time.Parse(time.RFC3339Nano, str(key)); err != nil || !strings.HasSuffix(m[key].(string), "Z") {
			t.Errorf("%s = %q is not an RFC 3339 UTC time: %v", key, m[key], err)
		}
	}
	limit("Title", str("Title"), 256)
	limit("Description", str("Description"), 1024)
	if v := str("RecordState"); v != "ACTIVE" {
		t.Errorf("RecordState = %q", v)
	}
	if _, ok := m["Workflow"]; ok {
		t.Error("Workflow is set")
	}
	sev, _ := m["Severity"].(map[string]any)
	if _, err := finding.ParseSeverity(fmt.Sprint(sev["Label"])); err != nil || sev["Label"] != strings.ToUpper(fmt.Sprint(sev["Label"])) {
		t.Errorf("Severity.Label = %v", sev["Label"])
	}
	fpf, _ := m["FindingProviderFields"].(map[string]any)
	if diff := cmp.Diff(m["Severity"], fpf["Severity"]); diff != "" {
		t.Errorf("FindingProviderFields.Severity differs from Severity:\n%s", diff)
	}
	if diff := cmp.Diff(m["Types"], fpf["Types"]); diff != "" {
		t.Errorf("FindingProviderFields.Types differs from Types:\n%s", diff)
	}
	types, _ := m["Types"].([]any)
	if len(types) == 0 || len(types) > 50 {
		t.Errorf("Types has %d entries", len(types))
	}
	for _, ty := range types {
		checkASFFType(t, fmt.Sprint(ty))
	}
	if rem, ok := m["Remediation"].(map[string]any); ok {
		rec, _ := rem["Recommendation"].(map[string]any)
		text, _ := rec["Text"].(string)
		if text == "" {
			t.Error("Remediation.Recommendation.Text is empty")
		}
		limit("Remediation.Recommendation.Text", text, 512)
		if u, ok := rec["Url"].(string); ok && !httpsURL(u) {
			t.Errorf("Remediation.Recommendation.Url = %q", u)
		}
	}
	pf, _ := m["ProductFields"].(map[string]any)
	if len(pf) > 50 {
		t.Errorf("ProductFields has %d keys", len(pf))
	}
	for k, v := range pf {
		if len(k) > 128 || !strings.HasPrefix(k, "rootguard/") {
			t.Errorf("ProductFields key %q", k)
		}
		limit("ProductFields["+k+"]", fmt.Sprint(v), 2048)
	}
	res, _ := m["Resources"].([]any)
	if len(res) == 0 || len(res) > 32 {
		t.Fatalf("Resources has %d entries", len(res))
	}
	for i, r := range res {
		rm, _ := r.(map[string]any)
		typ, _ := rm["Type"].(string)
		id, _ := rm["Id"].(string)
		if typ == "" || strings.TrimSpace(id) == "" {
			t.Errorf("Resources[%d] = %v: Type and Id are required", i, r)
		}
		limit(fmt.Sprintf("Resources[%d].Id", i), id, 512)
	}
	first, _ := res[0].(map[string]any)
	if first["Type"] == "AwsAccount" && !regexp.MustCompile(`^AWS::::Account:[0-9]{12}$`).MatchString(fmt.Sprint(first["Id"])) {
		t.Errorf("account resource id = %v", first["Id"])
	}
}

// checkASFFType checks the namespace/category/classifier form and the namespace and category.
func checkASFFType(t *testing.T, ty string) {
	t.Helper()
	if err := CheckASFFType(ty); err != nil {
		t.Error(err)
	}
}

// batchFindings decodes a BatchImportFindings body.
func batchFindings(t *testing.T, body []byte) []json.RawMessage {
	t.Helper()
	var req struct {
		Findings []json.RawMessage `json:"Findings"`
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		t.Fatalf("request body is not {\"Findings\":[...]}: %v", err)
	}
	if req.Findings == nil {
		t.Fatal("Findings is missing")
	}
	return req.Findings
}

// extremeFinding has every text field over its limit, made of the characters that take the
// most JSON bytes per UTF-16 unit (€: three bytes), so its ASFF form is as large as any can be.
func extremeFinding() finding.Finding {
	worst := "<\"\\\u2028\x01🚀" + strings.Repeat("€", 5000)
	many := make([]string, 200)
	for i := range many {
		many[i] = worst
	}
	return finding.Finding{
		ID: "root-activity-0123456789abcdef0123", Rule: "ROOT-ACTIVITY", Severity: finding.High,
		AccountID: "444455556666", AccountName: worst, Ownership: worst, AccountRole: worst,
		Title: worst, Description: worst, Remediation: worst, EventID: worst, EventName: worst,
		EventTime: worst, Region: worst, Actor: worst, SourceIP: worst, Calls: many, Resources: many,
		Exception: worst, References: many,
	}
}

func TestASFFValid(t *testing.T) {
	findings := append(testFindings(), extremeFinding(),
		finding.Finding{ID: "x-1", Rule: "ROOT-SIGNIN", Severity: finding.Low}, // every text empty
		finding.Finding{ID: "x-2", Rule: "NEW-RULE", Severity: finding.Medium, AccountID: "not-an-account", Title: " \r\n "})
	body, err := ASFFBatch(findings, testASFFContext)
	if err != nil {
		t.Fatal(err)
	}
	got := batchFindings(t, body)
	if len(got) != len(findings) {
		t.Fatalf("%d findings in the request, want %d", len(got), len(findings))
	}
	for i, raw := range got {
		t.Run(findings[i].ID, func(t *testing.T) {
			validateASFF(t, raw, testASFFContext)
			t.Logf("%d bytes", len(raw))
		})
	}
}

func TestASFFFields(t *testing.T) {
	f := testFindings()[0]
	a := ASFF(f, testASFFContext)
	if a.ID != f.ID || a.GeneratorID != "rootguard/ROOT-SIGNIN-STAX-MEMBER" || a.Severity.Label != "CRITICAL" {
		t.Errorf("ASFF = %+v", a)
	}
	wantRes := ASFFResource{Type: "AwsAccount", ID: "AWS::::Account:222222222222",
		Details: &ASFFResourceDetails{Other: map[string]string{"accountName": "web", "ownership": "stax-owned", "accountRole": "member"}}}
	if diff := cmp.Diff(wantRes, a.Resources[0]); diff != "" {
		t.Errorf("account resource (-want +got):\n%s", diff)
	}
	for key, want := range map[string]string{
		"rootguard/rule": "ROOT-SIGNIN-STAX-MEMBER", "rootguard/eventId": f.EventID, "rootguard/ownership": "stax-owned",
		"rootguard/accountRole": "member", "rootguard/actor": f.Actor, "rootguard/sourceIp": f.SourceIP,
	} {
		if got := a.ProductFields[key]; got != want {
			t.Errorf("ProductFields[%s] = %q, want %q", key, got, want)
		}
	}
	if a.Remediation == nil || a.Remediation.Recommendation.URL != f.References[0] {
		t.Errorf("Remediation = %+v", a.Remediation)
	}

	hostile := testFindings()[5]
	h := ASFF(hostile, testASFFContext)
	if h.Remediation.Recommendation.URL != "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user.html" {
		t.Errorf("Url = %q: javascript: must be skipped", h.Remediation.Recommendation.URL)
	}
	if len(h.Resources) != 3 || h.Resources[2].Type != "Other" {
		t.Errorf("Resources = %+v", h.Resources)
	}
}

func TestASFFTime(t *testing.T) {
	tests := []struct {
		eventTime, want string
	}{
		{"2024-05-01T12:00:00Z", "2024-05-01T12:00:00Z"},
		{"2024-05-01T12:00:00.123+02:00", "2024-05-01T10:00:00.123Z"},
		{" 2024-05-01T12:00:00Z ", "2024-05-01T12:00:00Z"},
		{"Sep 16, 2020 9:20:50 PM", "2024-05-02T08:30:00Z"},
		{"", "2024-05-02T08:30:00Z"},
		{"2024-05-01T12:00:00Z\x1b[31m", "2024-05-02T08:30:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.eventTime, func(t *testing.T) {
			if got := asffTime(tt.eventTime, testNow); got != tt.want {
				t.Errorf("asffTime(%q) = %q, want %q", tt.eventTime, got, tt.want)
			}
		})
	}
}

// TestASFFTypes: a finding's ASFF types are those its rule gave it (package rule checks every
// rule's); a finding without types gets one best-practices type named after its rule.
func TestASFFTypes(t *testing.T) {
	tests := []struct {
		f    finding.Finding
		want []string
	}{
		{finding.Finding{Rule: "ROOT-MFA-REMOVED", Types: []string{typeRootUsage, "TTPs/Defense Evasion/Root MFA Removed"}},
			[]string{"Unusual Behaviors/User/Root Credential Usage", "TTPs/Defense Evasion/Root MFA Removed"}},
		{finding.Finding{Rule: "SCP-DETACHED"}, []string{"Software and Configuration Checks/AWS Security Best Practices/SCP-DETACHED"}},
		{finding.Finding{Rule: "SOMETHING/ELSE\n"}, []string{"Software and Configuration Checks/AWS Security Best Practices/SOMETHINGELSE"}},
		{finding.Finding{}, []string{"Software and Configuration Checks/AWS Security Best Practices/rootguard"}},
	}
	for _, tt := range tests {
		t.Run(tt.f.Rule, func(t *testing.T) {
			got := asffTypes(tt.f)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("asffTypes(%q) (-want +got):\n%s", tt.f.Rule, diff)
			}
			for _, ty := range got {
				checkASFFType(t, ty)
			}
			if a := ASFF(tt.f, testASFFContext); !slices.Equal(a.Types, got) || !slices.Equal(a.FindingProviderFields.Types, got) {
				t.Errorf("ASFF types %v / %v, want %v", a.Types, a.FindingProviderFields.Types, got)
			}
		})
	}
}

func TestASFFBatches(t *testing.T) {
	gen := func(n int) []finding.Finding {
		out := make([]finding.Finding, n)
		for i := range out {
			out[i] = finding.Finding{ID: fmt.Sprintf("f-%03d", i), Rule: "ROOT-ACTIVITY", Severity: finding.High, AccountID: "222222222222", Title: "t", Description: "d"}
		}
		return out
	}
	tests := []struct {
		n    int
		want []int
	}{
		{0, nil},
		{1, []int{1}},
		{100, []int{100}},
		{101, []int{100, 1}},
		{250, []int{100, 100, 50}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.n), func(t *testing.T) {
			reqs, err := ASFFBatches(gen(tt.n), testASFFContext)
			if err != nil {
				t.Fatal(err)
			}
			var sizes []int
			next := 0
			for _, body := range reqs {
				got := batchFindings(t, body)
				sizes = append(sizes, len(got))
				for _, raw := range got {
					var f struct{ Id string }
					if err := json.Unmarshal(raw, &f); err != nil {
						t.Fatal(err)
					}
					if want := fmt.Sprintf("f-%03d", next); f.Id != want {
						t.Fatalf("finding %d has id %q, want %q (order lost)", next, f.Id, want)
					}
					next++
				}
			}
			if diff := cmp.Diff(tt.want, sizes); diff != "" {
				t.Errorf("request sizes (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := ASFFBatch(gen(101), testASFFContext); !errors.Is(err, ErrASFFFinding) {
		t.Errorf("ASFFBatch of 101 findings: err = %v, want ErrASFFFinding", err)
	}
	body, err := ASFFBatch(nil, testASFFContext)
	if err != nil || string(body) != `{"Findings":[]}` {
		t.Errorf("ASFFBatch(nil) = %s, %v", body, err)
	}
}

func TestASFFErrors(t *testing.T) {
	ok := finding.Finding{ID: "f-1", Rule: "ROOT-ACTIVITY", Severity: finding.High}
	tests := []struct {
		name    string
		ctx     ASFFContext
		f       finding.Finding
		wantErr error
	}{
		{"no region", ASFFContext{CallingAccountID: "999988887777", Now: testNow}, ok, ErrASFFContext},
		{"bad region", ASFFContext{Region: "us-east-1\"}", CallingAccountID: "999988887777", Now: testNow}, ok, ErrASFFContext},
		{"short account", ASFFContext{Region: "us-east-1", CallingAccountID: "99998888777", Now: testNow}, ok, ErrASFFContext},
		{"no clock", ASFFContext{Region: "us-east-1", CallingAccountID: "999988887777"}, ok, ErrASFFContext},
		{"no id", testASFFContext, finding.Finding{Rule: "ROOT-ACTIVITY"}, ErrASFFFinding},
		{"id too long", testASFFContext, finding.Finding{ID: strings.Repeat("a", 513)}, ErrASFFFinding},
		{"valid", testASFFContext, ok, nil},
		{"gov cloud region", ASFFContext{Region: "us-gov-west-1", CallingAccountID: "999988887777", Now: testNow}, ok, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ASFFBatches([]finding.Finding{tt.f}, tt.ctx)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}
