package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rootguard/rootguard/events"
	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/org"
	"github.com/rootguard/rootguard/internal/rule"
)

func sample(t *testing.T) (Input, []finding.Finding) {
	t.Helper()
	snap, err := org.LoadSnapshot(bytes.NewReader(events.Org()))
	if err != nil {
		t.Fatal(err)
	}
	eng, err := rule.NewEngine(rule.Config{StaxDomains: []string{"stax.example"}})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	fs, err := eng.Audit(snap, at)
	if err != nil {
		t.Fatal(err)
	}
	return Input{Facts: snap, OUs: snap.Doc().OrganizationalUnits, Config: eng.Config(), Findings: fs, Generated: at}, fs
}

func renderPage(t *testing.T, in Input) string {
	t.Helper()
	var b bytes.Buffer
	if err := Render(&b, in); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestSelfContained: the page loads nothing (no URL attribute, no @import or url()), and its
// policy allows exactly its own style sheet and script, by hash.
func TestSelfContained(t *testing.T) {
	in, _ := sample(t)
	page := renderPage(t, in)
	for _, bad := range []*regexp.Regexp{
		regexp.MustCompile(`(?i)\s(src|href|action|srcset|poster|data)\s*=\s*"(?:[a-z]+:|//)`),
		regexp.MustCompile(`(?i)@import|url\(`),
		regexp.MustCompile(`(?i)<(link|iframe|object|embed|img|base)\b`),
		regexp.MustCompile(`(?i)\sstyle\s*=`),
		regexp.MustCompile(`(?i)\son[a-z]+\s*=`),
	} {
		if m := bad.FindString(page); m != "" {
			t.Errorf("the page has %q", m)
		}
	}
	style := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindStringSubmatch(page)
	script := regexp.MustCompile(`(?s)<script>(.*?)</script>`).FindStringSubmatch(page)
	if style == nil || script == nil || strings.Count(page, "<script") != 1 || strings.Count(page, "<style") != 1 {
		t.Fatal("want exactly one inline style sheet and one inline script")
	}
	hash := func(s string) string { h := sha256.Sum256([]byte(s)); return base64.StdEncoding.EncodeToString(h[:]) }
	csp := regexp.MustCompile(`<meta http-equiv="Content-Security-Policy" content="([^"]*)">`).FindStringSubmatch(page)
	if csp == nil {
		t.Fatal("no Content-Security-Policy meta tag")
	}
	policy := strings.NewReplacer("&#39;", "'", "&#43;", "+", "&#61;", "=", "&amp;", "&").Replace(csp[1])
	for _, want := range []string{"default-src 'none'", "style-src 'sha256-" + hash(style[1]) + "'", "script-src 'sha256-" + hash(script[1]) + "'", "base-uri 'none'", "form-action 'none'"} {
		if !strings.Contains(policy, want) {
			t.Errorf("policy %q lacks %q", policy, want)
		}
	}
	if strings.Contains(policy, "unsafe") {
		t.Errorf("policy %q allows unsafe sources", policy)
	}
}

// TestHostileText: event text is neutralised (render.Plain) and escaped: markup shows as text,
// bidirectional controls and escape sequences are gone, long text is cut.
func TestHostileText(t *testing.T) {
	in, _ := sample(t)
	in.Findings = []finding.Finding{{
		ID: "x-1", Rule: "ROOT-ACTIVITY", Severity: finding.High, AccountID: "444444444444",
		AccountName: `sandbox</td><script>alert(1)</script>`, Ownership: finding.StaxOwned, AccountRole: finding.Member,
		Title:       "Root activity \u202egnp.exe\u202c <img src=x onerror=alert(2)>",
		Description: "agent \x1b[31mred\x1b[0m \"quoted\" 'single' " + strings.Repeat("long ", 2000),
		Remediation: "<b>act</b>", EventTime: "2026-11-30T10:00:00Z", SourceIP: `"><svg onload=alert(3)>`,
		Calls: []string{"iam:CreateUser <script>x</script>"}, Exception: `CHG-1 <a href="https://evil.example">x</a>`,
	}}
	page := renderPage(t, in)
	for _, bad := range []string{"<script>alert", "<img src", "<svg onload", "<b>act", `<a href="https://evil`, "\u202e", "\u202c", "\x1b", "sandbox</td>"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page carries %q unescaped", bad)
		}
	}
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x onerror=alert(2)&gt;", "gnp.exe", "&lt;b&gt;act&lt;/b&gt;", "red"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(page, strings.Repeat("long ", 900)) {
		t.Errorf("a 10,000-character description was not cut")
	}
}

// TestContent: the tree shows every account with ownership, role, protection and credentials;
// the header counts match the findings; the timeline groups by day.
func TestContent(t *testing.T) {
	in, fs := sample(t)
	page := renderPage(t, in)
	for _, a := range mustAccounts(t, in.Facts) {
		if strings.Count(page, `data-account="`+a.ID+`"`) != 1 {
			t.Errorf("account %s is not in the tree once", a.ID)
		}
	}
	counts := map[finding.Severity]int{}
	for _, f := range fs {
		counts[f.Severity]++
	}
	for s, n := range counts {
		want := `<li class="sev-` + strings.ToLower(s.String()) + `"><span class="n">` + strconv.Itoa(n) + `</span><span class="l">` + s.String() + `</span></li>`
		if !strings.Contains(page, want) {
			t.Errorf("header lacks %s", want)
		}
	}
	for _, want := range []string{
		"✔ applies: Stax-Protection at r-st4x",                    // a member under the root protection
		"SCPs never apply to the management account",              // the management account
		"stax-protection-foundation at ou-st4x-foundatn",          // Foundation's own protection
		"✖ out of policy: MFA yes, password yes, access keys yes", // acme-legacy's keys
		"? unknown (could not be read)",                           // acme-dev's null credentials
		"Production", "Development", "Quarantine",                 // OU names
		"CHG-2041 foundation guardrail maintenance",           // the exception tag in the facts
		`<th scope="row" class="mono">2026-12-01</th>`,        // the audit's day in the timeline
		"Stax-owned member accounts keep no root credentials", // the policy lines
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
}

// TestDecoyProtectionIsNotRootGuarding: a protection-named SCP without a root-aimed Deny does
// not count, whatever its name.
func TestDecoyProtectionIsNotRootGuarding(t *testing.T) {
	doc := `{"organization":{"id":"o-x","managementAccountId":"111111111111","rootId":"r-x","scpEnabled":true},
	"accounts":[{"id":"111111111111","name":"mgmt","email":"m@stax.example","parentId":"r-x"},
	            {"id":"222222222222","name":"web","email":"w@stax.example","parentId":"r-x"}],
	"policies":[{"id":"p-decoy","name":"Stax-Protection-2","type":"SERVICE_CONTROL_POLICY",
	             "content":"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}","targets":["r-x"]}]}`
	snap, err := org.LoadSnapshot(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	eng, _ := rule.NewEngine(rule.Config{StaxDomains: []string{"stax.example"}})
	page := renderPage(t, Input{Facts: snap, Config: eng.Config(), Generated: time.Now()})
	if !strings.Contains(page, "✖ none: only protection-named SCPs that do not restrict root: Stax-Protection-2 at r-x") {
		t.Errorf("the decoy counts as protection")
	}
	if !strings.Contains(page, "Stax-Protection-2 (does not restrict root)") {
		t.Errorf("the root's SCP list does not say the decoy does not restrict root")
	}
}

// TestSummary: the email's subject is short ASCII; the body names the totals, the worst
// findings and the report's place.
func TestSummary(t *testing.T) {
	in, fs := sample(t)
	subject, body, err := Summary(in, Location{URI: "s3://b/reports/x.html"})
	if err != nil {
		t.Fatal(err)
	}
	if len(subject) > 99 || strings.ContainsFunc(subject, func(r rune) bool { return r < 0x20 || r > 0x7e }) {
		t.Errorf("subject %q", subject)
	}
	if !strings.Contains(subject, strconv.Itoa(len(fs))+" findings, worst CRITICAL") {
		t.Errorf("subject %q", subject)
	}
	for _, want := range []string{"s3://b/reports/x.html", "aws s3 cp s3://b/reports/x.html", "Most severe:", "POSTURE-ROOT-ACCESS-KEYS"} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %q:\n%s", want, body)
		}
	}
}

func mustAccounts(t *testing.T, f org.Facts) []org.Account {
	t.Helper()
	as, err := f.Accounts()
	if err != nil {
		t.Fatal(err)
	}
	return as
}
