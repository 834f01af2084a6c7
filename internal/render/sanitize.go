// Package render writes findings in rootguard's output formats: a terminal table, JSON Lines,
// Security Hub ASFF (BatchImportFindings bodies), Amazon Q Developer chat custom notifications
// and plain-text email for SNS.
//
// A finding's text fields embed event text (user agents, names, request parameters), which is
// attacker-controlled data. Every writer here escapes it for its format: control characters and
// ANSI escape sequences are removed everywhere, chat markup is neutralised in chat messages,
// email subjects are reduced to printable ASCII, and every length limit is enforced with a
// rune-safe truncation that ends in an ellipsis. The package is pure: writers take an io.Writer,
// and the only clock is a time passed in by the caller.
package render

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// ellipsis ends every truncated text.
const ellipsis = "…"

// esc starts an ANSI escape sequence.
const esc = 0x1b

// sanitize returns s as one line of valid UTF-8 without ANSI escape sequences, control
// characters, bidirectional-text controls or a byte-order mark. Line breaks (\r\n, \r, \n,
// U+0085, U+2028, U+2029), tabs and every other run of white space become one space, and the
// result is trimmed. Invalid UTF-8 becomes U+FFFD. Event text therefore cannot add lines,
// columns or terminal commands to any output.
func sanitize(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false // a space is due before the next visible rune
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == esc {
			i += escapeLen(s[i:])
			continue
		}
		i += size
		switch {
		case unicode.IsSpace(r) || r == '\u2028' || r == '\u2029':
			space = b.Len() > 0
		case unicode.IsControl(r) || invisible(r):
			// Dropped: NUL, BEL, DEL, C1 controls, bidi controls, BOM.
		default:
			if space {
				b.WriteByte(' ')
				space = false
			}
			b.WriteRune(r) // utf8.RuneError is written as U+FFFD, which is valid UTF-8.
		}
	}
	return b.String()
}

// invisible reports the format characters that can hide or reorder text: the bidirectional
// embedding, override and isolate controls, the directional marks and the byte-order mark.
// Zero-width joiners and variation selectors stay: emoji sequences need them.
func invisible(r rune) bool {
	switch {
	case r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
		return true
	case r == '\u200e', r == '\u200f', r == '\u061c', r == '\ufeff':
		return true
	}
	return false
}

// escapeLen returns the length in bytes of the escape sequence at the start of s (s[0] is ESC):
// a CSI sequence (ESC [ params intermediates final), a string sequence (OSC, DCS, SOS, PM, APC,
// ended by BEL or ESC \) or a two-byte escape. An unterminated string sequence counts as its
// two-byte introducer only, so that it cannot swallow the text after it.
func escapeLen(s string) int {
	if len(s) < 2 {
		return 1
	}
	switch c := s[1]; {
	case c == '[':
		i := 2
		for i < len(s) && s[i] >= 0x20 && s[i] <= 0x3f {
			i++ // parameter and intermediate bytes
		}
		if i < len(s) && s[i] >= 0x40 && s[i] <= 0x7e {
			i++ // final byte
		}
		return i
	case c == ']' || c == 'P' || c == 'X' || c == '^' || c == '_':
		for i := 2; i < len(s); i++ {
			if s[i] == 0x07 {
				return i + 1
			}
			if s[i] == esc && i+1 < len(s) && s[i+1] == '\\' {
				return i + 2
			}
		}
		return 2
	case c >= 0x20 && c <= 0x7e:
		return 2
	}
	return 1
}

// truncate shortens s so that its measure (the sum of width over its runes) is at most limit,
// cutting between runes and ending with tail when it cut. A zero-width joiner or variation
// selector left dangling at the cut is dropped with the rest.
func truncate(s string, limit int, width func(rune) int, tail string) string {
	total := 0
	for _, r := range s {
		total += width(r)
	}
	if total <= limit {
		return s
	}
	tailWidth := 0
	for _, r := range tail {
		tailWidth += width(r)
	}
	budget := limit - tailWidth
	if budget < 0 {
		return ""
	}
	used, cut := 0, 0
	for cut < len(s) {
		r, size := utf8.DecodeRuneInString(s[cut:])
		if used+width(r) > budget {
			break
		}
		used += width(r)
		cut += size
	}
	head := strings.TrimRightFunc(s[:cut], func(r rune) bool {
		return unicode.IsSpace(r) || r == '\u200d' || (r >= '\ufe00' && r <= '\ufe0f')
	})
	return head + tail
}

// runeWidth counts one per rune.
func runeWidth(rune) int { return 1 }

// utf16Width counts UTF-16 code units, as the Java-based AWS APIs measure string lengths.
func utf16Width(r rune) int {
	if r >= 0x10000 {
		return 2
	}
	return 1
}

// displayWidth approximates the number of terminal columns a rune takes: 0 for combining marks,
// joiners and variation selectors, 2 for East Asian wide characters and emoji, 1 otherwise.
func displayWidth(r rune) int {
	switch {
	case r == '\u200b' || r == '\u200d' || (r >= '\ufe00' && r <= '\ufe0f') || unicode.Is(unicode.Mn, r):
		return 0
	case r >= 0x1100 && r <= 0x115f, r >= 0x2e80 && r <= 0xa4cf && r != 0x303f,
		r >= 0xac00 && r <= 0xd7a3, r >= 0xf900 && r <= 0xfaff, r >= 0xfe30 && r <= 0xfe4f,
		r >= 0xff00 && r <= 0xff60, r >= 0xffe0 && r <= 0xffe6,
		r >= 0x1f300 && r <= 0x1f64f, r >= 0x1f900 && r <= 0x1f9ff, r >= 0x1fa70 && r <= 0x1faff,
		r >= 0x20000 && r <= 0x3fffd:
		return 2
	}
	return 1
}

// measure returns the sum of w over the runes of s.
func measure(s string, w func(rune) int) int {
	n := 0
	for _, r := range s {
		n += w(r)
	}
	return n
}
