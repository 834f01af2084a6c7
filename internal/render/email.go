package render

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/rootguard/rootguard/internal/finding"
)

// EmailSubjectMax is the longest subject EmailSubject returns. SNS wants fewer than 100
// characters.
const EmailSubjectMax = 99

// Email body caps, in runes.
const (
	emailMaxText   = 4000
	emailMaxDetail = 1000
	emailWidth     = 76
)

// asciiSpecial transliterates the letters and signs that Unicode decomposition leaves alone.
var asciiSpecial = map[rune]string{
	'ß': "ss", 'Æ': "AE", 'æ': "ae", 'Ø': "O", 'ø': "o", 'Đ': "D", 'đ': "d", 'Ł': "L", 'ł': "l",
	'Þ': "Th", 'þ': "th", 'Ð': "D", 'ð': "d", 'Œ': "OE", 'œ': "oe", 'Ħ': "H", 'ħ': "h", 'ı': "i",
	'Ŧ': "T", 'ŧ': "t", 'Ŋ': "N", 'ŋ': "n", '×': "x", '«': "\"", '»': "\"", '‘': "'", '’': "'",
	'‚': "'", '‛': "'", '“': "\"", '”': "\"", '„': "\"", '‟': "\"", '‐': "-", '‑': "-", '‒': "-",
	'–': "-", '—': "-", '―': "-", '•': "*", '…': "...", '€': "EUR", '£': "GBP", '©': "(c)", '®': "(R)",
}

// ascii transliterates s to printable ASCII: s is sanitized to one line, decomposed (NFKD, so é
// gives e and ｆｕｌｌ gives full), combining marks are dropped, asciiSpecial is applied, and
// every other non-ASCII rune is dropped. Runs of spaces collapse.
func ascii(s string) string {
	s = norm.NFKD.String(sanitize(s))
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		case asciiSpecial[r] != "":
			b.WriteString(asciiSpecial[r])
		case unicode.IsSpace(r):
			b.WriteByte(' ')
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// EmailSubject returns the SNS subject of a finding: "[rootguard] SEVERITY RULE ACCOUNT NAME",
// printable ASCII only (non-ASCII transliterated or dropped), one line, at most EmailSubjectMax
// characters (cut with "..."), starting with a punctuation mark.
func EmailSubject(f finding.Finding) string {
	prefix := "[rootguard] "
	if f.Status == finding.StatusResolved {
		prefix += "RESOLVED "
	}
	if f.Canary {
		prefix += "[canary] "
	}
	parts := []string{f.Severity.String(), f.Rule, f.AccountID, f.AccountName}
	for i, p := range parts {
		parts[i] = ascii(truncate(p, 2*EmailSubjectMax, runeWidth, "")) // the subject is cut below anyway
	}
	s := prefix + strings.Join(strings.Fields(strings.Join(parts, " ")), " ")
	return truncate(strings.TrimSpace(s), EmailSubjectMax, runeWidth, "...")
}

// EmailBody returns the plain-text email of a finding: what happened and why it matters (the
// description), who, where and when, what to do (the remediation), the https references and the
// finding and event ids. Control characters and escape sequences are removed from every field;
// paragraphs are wrapped at 76 columns.
func EmailBody(f finding.Finding) string {
	if f.Status == finding.StatusResolved {
		return resolvedEmailBody(f)
	}
	var b strings.Builder
	line := func(s string) { b.WriteString(s); b.WriteByte('\n') }
	text := func(s string) string { return truncate(sanitize(s), emailMaxText, runeWidth, ellipsis) }
	one := func(s string) string { return truncate(sanitize(s), emailMaxDetail, runeWidth, ellipsis) }
	paragraph := func(s string) {
		for _, l := range wrap(s, emailWidth) {
			line(l)
		}
	}

	title := one(f.Title)
	if f.Canary {
		title = "[canary] " + title
	}
	paragraph(f.Severity.String() + ": " + nonEmpty(title, one(f.Rule), "rootguard finding"))
	line("")
	if d := text(f.Description); d != "" {
		line("What happened and why it matters")
		paragraph(d)
		line("")
	}

	line("Details")
	ownership, role := nonEmpty(one(f.Ownership), finding.Unknown), nonEmpty(one(f.AccountRole), finding.Unknown)
	details := [][2]string{
		{"Rule", one(f.Rule)},
		{"Severity", f.Severity.String()},
		{"Account", one(accountLabel(f))},
		{"Ownership", ownership + ", " + role + " account"},
		{"Event", one(f.EventName)},
		{"Event time", one(f.EventTime)},
		{"Region", one(f.Region)},
		{"Actor", one(f.Actor)},
		{"Source IP", one(f.SourceIP)},
		{"New calls", one(strings.Join(f.NewCalls, ", "))},
		{"API calls", one(strings.Join(f.Calls, ", "))},
		{"Resources", one(strings.Join(f.Resources, ", "))},
		{"Exception", one(f.Exception)},
	}
	for _, d := range details {
		if d[1] == "" {
			continue
		}
		label := "  " + d[0] + ":" + strings.Repeat(" ", 12-len(d[0]))
		for i, l := range wrap(d[1], emailWidth-len(label)) {
			if i > 0 {
				label = strings.Repeat(" ", len(label))
			}
			line(label + l)
		}
	}
	line("")

	if r := text(f.Remediation); r != "" {
		line("What to do")
		paragraph(r)
		line("")
	}
	var refs []string
	for _, r := range f.References {
		if httpsURL(r) {
			refs = append(refs, r)
		}
	}
	if len(refs) > 0 {
		line("References")
		for _, r := range refs {
			line("  " + r)
		}
		line("")
	}
	line("Finding id: " + nonEmpty(one(f.ID), "-"))
	line("Event id:   " + nonEmpty(one(f.EventID), "-"))
	line("")
	line("-- ")
	line("Sent by rootguard.")
	return b.String()
}

// wrap splits a line into lines of at most limit runes, breaking at spaces; a word longer than
// limit is cut.
func wrap(s string, limit int) []string {
	var out []string
	var cur []rune
	for _, word := range strings.Fields(s) {
		w := []rune(word)
		for len(w) > limit {
			if len(cur) > 0 {
				out = append(out, string(cur))
				cur = nil
			}
			out = append(out, string(w[:limit]))
			w = w[limit:]
		}
		switch {
		case len(cur) == 0:
			cur = w
		case len(cur)+1+len(w) <= limit:
			cur = append(append(cur, ' '), w...)
		default:
			out = append(out, string(cur))
			cur = w
		}
	}
	if len(cur) > 0 {
		out = append(out, string(cur))
	}
	return out
}
