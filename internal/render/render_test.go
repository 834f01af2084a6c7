package render

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/rootguard/rootguard/internal/finding"
)

// regexpDetail matches the detail lines rootguard adds to a chat description.
var regexpDetail = regexp.MustCompile(`^(Account|Event|Actor|Calls|Exception|Finding): `)

// stripColors removes the colour sequences Text writes, and only those.
func stripColors(s string) string {
	for _, c := range severityColors {
		s = strings.ReplaceAll(s, c, "")
	}
	return strings.ReplaceAll(s, ansiReset, "")
}

func TestText(t *testing.T) {
	findings := testFindings()
	for _, color := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "color"}[color], func(t *testing.T) {
			var b bytes.Buffer
			if err := Text(&b, findings, TextOptions{Color: color}); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			if !color && strings.Contains(out, "\x1b") {
				t.Error("escape sequence in uncoloured output")
			}
			if color && !strings.Contains(out, severityColors[finding.Critical]+"CRITICAL"+ansiReset) {
				t.Error("CRITICAL is not coloured")
			}
			plain := stripColors(out)
			if strings.ContainsFunc(plain, func(r rune) bool { return r != '\n' && unicode.IsControl(r) || invisible(r) }) {
				t.Errorf("control character left in the table:\n%q", plain)
			}
			lines := strings.Split(strings.TrimSuffix(plain, "\n"), "\n")
			if len(lines) != len(findings)+2 {
				t.Fatalf("%d lines, want header + %d findings + summary", len(lines), len(findings))
			}
			// Every column starts at the same terminal column on every row.
			header := lines[0]
			for _, col := range textHeader[1:] {
				want := measure(header[:strings.Index(header, col)], displayWidth)
				for i, line := range lines[1 : len(lines)-1] {
					if got := columnStart(line, col); got != want {
						t.Errorf("row %d: column %s starts at %d, want %d\n%s", i+1, col, got, want, line)
					}
				}
			}
			if got, want := lines[len(lines)-1], "6 findings: 1 CRITICAL, 2 HIGH, 1 MEDIUM, 1 LOW, 1 INFORMATIONAL"; got != want {
				t.Errorf("summary = %q, want %q", got, want)
			}
		})
	}
}

// columnStart returns the display column where the cell of header column col starts in line:
// the cells are separated by at least two spaces and padded to the column width.
func columnStart(line, col string) int {
	idx := 0
	for i, h := range textHeader {
		if h == col {
			idx = i
			break
		}
	}
	// Walk the line rune by rune, counting display columns, and find the idx-th cell start: a
	// non-space rune after a run of two or more spaces.
	pos, cell, spaces := 0, 0, 0
	for _, r := range line {
		if r == ' ' {
			spaces++
		} else {
			if spaces >= 2 {
				cell++
				if cell == idx {
					return pos
				}
			}
			spaces = 0
		}
		pos += displayWidth(r)
	}
	return -1
}

func TestTextCells(t *testing.T) {
	f := testFindings()[5]
	cells := textRow(f, 20, 30)
	for i, c := range cells {
		limit := 20
		if i == len(cells)-1 {
			limit = 30
		}
		if w := measure(c, displayWidth); w > limit {
			t.Errorf("cell %d %q is %d columns wide, over %d", i, c, w, limit)
		}
		if strings.ContainsAny(c, "\x1b\r\n\t\x00") || !utf8.ValidString(c) {
			t.Errorf("cell %d %q has a control character or invalid UTF-8", i, c)
		}
	}
	if got := cells[2]; !strings.HasPrefix(got, "444455556666 Prod ") || !strings.HasSuffix(got, "…") {
		t.Errorf("account cell %q is not truncated with an ellipsis", got)
	}
}

func TestSummary(t *testing.T) {
	mk := func(sevs ...finding.Severity) []finding.Finding {
		var out []finding.Finding
		for _, s := range sevs {
			out = append(out, finding.Finding{Severity: s})
		}
		return out
	}
	tests := []struct {
		name     string
		findings []finding.Finding
		want     string
	}{
		{"one", mk(finding.High), "1 finding: 1 HIGH"},
		{"highest first", mk(finding.Low, finding.Critical, finding.Low), "3 findings: 1 CRITICAL, 2 LOW"},
		{"unknown severity last", mk(finding.Severity(9), finding.Informational), "2 findings: 1 Severity(9), 1 INFORMATIONAL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := summary(tt.findings, false); got != tt.want {
				t.Errorf("summary = %q, want %q", got, tt.want)
			}
		})
	}
	var b bytes.Buffer
	if err := Text(&b, nil, TextOptions{}); err != nil || b.String() != "No findings.\n" {
		t.Errorf("Text(nil) = %q, %v", b.String(), err)
	}
}

// failWriter fails every write.
type failWriter struct{}

var errWrite = errors.New("disk full")

func (failWriter) Write([]byte) (int, error) { return 0, errWrite }

func TestWriteErrors(t *testing.T) {
	if err := Text(failWriter{}, testFindings(), TextOptions{}); !errors.Is(err, errWrite) {
		t.Errorf("Text: err = %v, want the writer's error", err)
	}
	if err := Text(failWriter{}, nil, TextOptions{}); !errors.Is(err, errWrite) {
		t.Errorf("Text(nil): err = %v, want the writer's error", err)
	}
	if err := JSONLines(failWriter{}, testFindings()); !errors.Is(err, errWrite) {
		t.Errorf("JSONLines: err = %v, want the writer's error", err)
	}
}

func TestJSONLines(t *testing.T) {
	findings := testFindings()
	var b bytes.Buffer
	if err := JSONLines(&b, findings); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.ContainsAny(out, "<>&\x1b\r\x00") {
		t.Error("raw <, >, &, ESC, CR or NUL in JSON Lines: HTML escaping or control escaping is off")
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	var got []finding.Finding
	for sc.Scan() {
		var f finding.Finding
		if err := json.Unmarshal(sc.Bytes(), &f); err != nil {
			t.Fatalf("line %d: %v", len(got)+1, err)
		}
		got = append(got, f)
	}
	if diff := cmp.Diff(findings, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestChat(t *testing.T) {
	findings := testFindings()
	threads := map[string]string{}
	for _, f := range findings {
		t.Run(f.ID, func(t *testing.T) {
			b, err := Chat(f)
			if err != nil {
				t.Fatal(err)
			}
			var m ChatMessage
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&m); err != nil {
				t.Fatal(err)
			}
			if m.Version != "1.0" || m.Source != "custom" || m.Content.TextType != "client-markdown" {
				t.Errorf("version %q source %q textType %q", m.Version, m.Source, m.Content.TextType)
			}
			emoji := chatEmoji[f.Severity]
			if !strings.HasPrefix(m.Content.Title, emoji+" "+f.Severity.String()+" ") {
				t.Errorf("title %q does not start with %s %s", m.Content.Title, emoji, f.Severity)
			}
			texts := map[string]string{
				"title":       strings.TrimPrefix(m.Content.Title, emoji+" "),
				"summary":     m.Metadata.Summary,
				"eventType":   m.Metadata.EventType,
				"threadId":    m.Metadata.ThreadID,
				"id":          m.ID,
				"description": strings.ReplaceAll(m.Content.Description, "\n", " "),
			}
			for i, s := range m.Content.NextSteps {
				texts[fmt.Sprintf("nextSteps[%d]", i)] = s
			}
			for i, s := range m.Content.Keywords {
				texts[fmt.Sprintf("keywords[%d]", i)] = s
			}
			for i, s := range m.Metadata.RelatedResources {
				texts[fmt.Sprintf("relatedResources[%d]", i)] = s
			}
			for k, v := range m.Metadata.AdditionalContext {
				texts["additionalContext."+k] = v
			}
			for name, s := range texts {
				if err := checkChatSafe(s); err != "" {
					t.Errorf("%s %q: %s", name, s, err)
				}
			}
			// Line breaks in the description are rootguard's only: the text, a blank line, details.
			for _, line := range strings.Split(m.Content.Description, "\n")[1:] {
				if line != "" && !regexpDetail.MatchString(line) {
					t.Errorf("description line %q is not a detail line", line)
				}
			}
			key := f.Rule + "/" + f.AccountID
			if prev, ok := threads[m.Metadata.ThreadID]; ok && prev != key {
				t.Errorf("thread %q shared by %s and %s", m.Metadata.ThreadID, prev, key)
			}
			threads[m.Metadata.ThreadID] = key
		})
	}
	// The same rule on the same account is one thread, whatever the event.
	a, b := findings[0], findings[0]
	b.ID, b.EventID = "other", "other-event"
	if chatThreadID(a) != chatThreadID(b) {
		t.Errorf("thread ids differ for the same rule and account: %q, %q", chatThreadID(a), chatThreadID(b))
	}
}

func TestEmailSubject(t *testing.T) {
	base := testFindings()[0]
	tests := []struct {
		name string
		edit func(f *finding.Finding)
		want string
	}{
		{"plain", func(*finding.Finding) {}, "[rootguard] CRITICAL ROOT-SIGNIN-STAX-MEMBER 222222222222 web"},
		{"transliterated", func(f *finding.Finding) { f.AccountName = "Zürich – prod 🚀" }, "[rootguard] CRITICAL ROOT-SIGNIN-STAX-MEMBER 222222222222 Zurich - prod"},
		{"line breaks and controls", func(f *finding.Finding) { f.AccountName = "a\r\nBcc: x@evil.example\x00\x1b[31m" },
			"[rootguard] CRITICAL ROOT-SIGNIN-STAX-MEMBER 222222222222 a Bcc: x@evil.example"},
		{"long", func(f *finding.Finding) { f.AccountName = strings.Repeat("long-name ", 20) },
			"[rootguard] CRITICAL ROOT-SIGNIN-STAX-MEMBER 222222222222 long-name long-name long-name long-nam..."},
		{"canary", func(f *finding.Finding) { f.Canary = true }, "[rootguard] [canary] CRITICAL ROOT-SIGNIN-STAX-MEMBER 222222222222 web"},
		{"no account", func(f *finding.Finding) { f.AccountID, f.AccountName = "", "" }, "[rootguard] CRITICAL ROOT-SIGNIN-STAX-MEMBER"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := base
			tt.edit(&f)
			got := EmailSubject(f)
			if got != tt.want {
				t.Errorf("EmailSubject = %q, want %q", got, tt.want)
			}
			if err := checkSubject(got); err != "" {
				t.Error(err)
			}
		})
	}
	for _, f := range testFindings() {
		if err := checkSubject(EmailSubject(f)); err != "" {
			t.Errorf("%s: %s", f.ID, err)
		}
	}
}

// checkSubject returns what makes s an invalid SNS subject, or "".
func checkSubject(s string) string {
	if s == "" || len(s) > EmailSubjectMax {
		return fmt.Sprintf("subject length %d out of range: %q", len(s), s)
	}
	for _, c := range []byte(s) {
		if c < 0x20 || c > 0x7e {
			return "subject has a non-printable or non-ASCII byte: " + s
		}
	}
	if c := rune(s[0]); !unicode.IsLetter(c) && !unicode.IsDigit(c) && !unicode.IsPunct(c) {
		return "subject does not start with a letter, digit or punctuation: " + s
	}
	return ""
}

func TestEmailBody(t *testing.T) {
	for _, f := range testFindings() {
		t.Run(f.ID, func(t *testing.T) {
			body := EmailBody(f)
			if !utf8.ValidString(body) {
				t.Fatal("body is not valid UTF-8")
			}
			if strings.ContainsFunc(body, func(r rune) bool { return r != '\n' && unicode.IsControl(r) || invisible(r) }) {
				t.Errorf("control character in body:\n%q", body)
			}
			for _, want := range []string{"Finding id: " + f.ID, "Event id:   " + f.EventID, "What to do", f.Severity.String() + ": "} {
				if !strings.Contains(body, want) {
					t.Errorf("body lacks %q", want)
				}
			}
			for _, line := range strings.Split(body, "\n") {
				if n := utf8.RuneCountInString(line); n > emailWidth && !strings.HasPrefix(line, "  https://") {
					t.Errorf("line of %d runes: %q", n, line)
				}
			}
		})
	}
	if body := EmailBody(testFindings()[5]); strings.Contains(body, "javascript:") {
		t.Error("a non-https reference is listed")
	}
}

func TestWrap(t *testing.T) {
	tests := []struct {
		in    string
		limit int
		want  []string
	}{
		{"a b c", 3, []string{"a b", "c"}},
		{"abcdefgh ij", 3, []string{"abc", "def", "gh", "ij"}},
		{"ééé ééé", 3, []string{"ééé", "ééé"}},
		{"", 3, nil},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, wrap(tt.in, tt.limit)); diff != "" {
				t.Errorf("wrap(%q, %d) (-want +got):\n%s", tt.in, tt.limit, diff)
			}
		})
	}
}
