package render

import (
	"encoding/json"
	"io"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/rootguard/rootguard/internal/finding"
)

// FuzzEscape checks the escaping functions on any text: no panic, valid UTF-8, and the
// properties each output format relies on.
func FuzzEscape(f *testing.F) {
	for _, seed := range []string{
		"", hostile, "\x1b]8;;x", "\x1b[", "a\xffb", "@", "#x", "[a](b)", "\u202e", "👩\u200d💻",
		strings.Repeat("é", 300), "\r\n\r\n", "<!here>", "\u009b31m",
	} {
		f.Add(seed, 10)
	}
	f.Fuzz(func(t *testing.T, s string, limit int) {
		limit = 1 + int(uint(limit)%300)
		if len(s) > 8192 {
			s = s[:8192] // longer text only repeats the same code paths, slowly
		}

		clean := sanitize(s)
		if !utf8.ValidString(clean) {
			t.Fatalf("sanitize(%q) = %q: invalid UTF-8", s, clean)
		}
		if strings.ContainsFunc(clean, func(r rune) bool { return unicode.IsControl(r) || invisible(r) }) {
			t.Fatalf("sanitize(%q) = %q: control character left", s, clean)
		}
		if strings.Contains(clean, "  ") || strings.TrimSpace(clean) != clean {
			t.Fatalf("sanitize(%q) = %q: white space not collapsed", s, clean)
		}
		if again := sanitize(clean); again != clean {
			t.Fatalf("sanitize is not idempotent: %q then %q", clean, again)
		}

		for name, w := range map[string]func(rune) int{"runes": runeWidth, "utf16": utf16Width, "display": displayWidth} {
			cut := truncate(clean, limit, w, ellipsis)
			if !utf8.ValidString(cut) || measure(cut, w) > limit {
				t.Fatalf("truncate(%q, %d, %s) = %q: invalid or too long", clean, limit, name, cut)
			}
			if !strings.HasPrefix(clean, strings.TrimSuffix(cut, ellipsis)) {
				t.Fatalf("truncate(%q, %d, %s) = %q: not a prefix", clean, limit, name, cut)
			}
		}

		chat := chatText(s, limit)
		if err := checkChatSafe(chat); err != "" {
			t.Fatalf("chatText(%q) = %q: %s", s, chat, err)
		}
		if n := utf8.RuneCountInString(strings.ReplaceAll(chat, "\u200b", "")); n > limit {
			t.Fatalf("chatText(%q, %d) has %d runes", s, limit, n)
		}

		subject := EmailSubject(finding.Finding{Severity: finding.Critical, Rule: s, AccountID: s, AccountName: s})
		if err := checkSubject(subject); err != "" {
			t.Fatal(err)
		}

		fd := finding.Finding{ID: "f-1", Rule: s, Severity: finding.High, AccountID: s, AccountName: s,
			Title: s, Description: s, Remediation: s, EventTime: s, Actor: s, Calls: []string{s}, Resources: []string{s}}
		body := EmailBody(fd)
		if !utf8.ValidString(body) || strings.ContainsFunc(body, func(r rune) bool { return r != '\n' && unicode.IsControl(r) }) {
			t.Fatalf("EmailBody(%q) has a control character or invalid UTF-8", s)
		}
		for i, c := range textRow(fd, limit, limit) {
			if measure(c, displayWidth) > limit || strings.ContainsFunc(c, unicode.IsControl) {
				t.Fatalf("text cell %d %q: too wide or has a control character", i, c)
			}
		}
		raw, err := marshalASFF(ASFF(fd, testASFFContext))
		if err != nil {
			t.Fatal(err)
		}
		var a ASFFFinding
		if err := json.Unmarshal(raw, &a); err != nil {
			t.Fatal(err)
		}
		if a.Title == "" || a.Description == "" || measure(a.Title, utf16Width) > asffMaxTitle || measure(a.Description, utf16Width) > asffMaxDescription {
			t.Fatalf("ASFF title %q or description %q empty or too long", a.Title, a.Description)
		}
		if _, err := Chat(fd); err != nil {
			t.Fatal(err)
		}
	})
}

func BenchmarkText(b *testing.B) {
	findings := testFindings()
	for b.Loop() {
		if err := Text(io.Discard, findings, TextOptions{Color: true}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkChat(b *testing.B) {
	findings := testFindings()
	for b.Loop() {
		for _, f := range findings {
			if _, err := Chat(f); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkASFFBatch(b *testing.B) {
	findings := testFindings()
	for b.Loop() {
		if _, err := ASFFBatch(findings, testASFFContext); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEmail(b *testing.B) {
	findings := testFindings()
	for b.Loop() {
		for _, f := range findings {
			_ = EmailSubject(f)
			_ = EmailBody(f)
		}
	}
}
