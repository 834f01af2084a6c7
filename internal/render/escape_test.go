package render

import (
	"math"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func TestSanitize(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "Root signed in", "Root signed in"},
		{"ANSI colour", "\x1b[31mRED\x1b[0m text", "RED text"},
		{"ANSI clear screen and cursor", "a\x1b[2J\x1b[1;1Hb", "ab"},
		{"OSC 8 hyperlink", "\x1b]8;;https://evil.example\x07link\x1b]8;;\x1b\\ end", "link end"},
		{"OSC window title", "\x1b]0;pwned\x07after", "after"},
		{"unterminated OSC keeps the rest", "\x1b]0;title and the rest", "0;title and the rest"},
		{"two-byte escape", "a\x1bcb", "ab"},
		{"lone ESC at end", "abc\x1b", "abc"},
		{"C1 CSI", "a\u009b31mb", "a31mb"},
		{"CR LF and tabs", "line1\r\nline2\rline3\nline4\tcol", "line1 line2 line3 line4 col"},
		{"Unicode line separators", "a\u2028b\u2029c\u0085d", "a b c d"},
		{"runs and trim", "  a  \t\n b   ", "a b"},
		{"NUL BEL DEL backspace", "a\x00b\x07c\x7fd\x08e", "abcde"},
		{"bidi override", "evil\u202egnp.exe\u202c", "evilgnp.exe"},
		{"bidi isolates and marks", "\u2066a\u2069\u200eb\u200f\u061c", "ab"},
		{"BOM", "\ufeffa", "a"},
		{"invalid UTF-8", "a\xffb\xc3", "a\ufffdb\ufffd"},
		{"emoji and ZWJ kept", "👩‍💻 ✈️", "👩‍💻 ✈️"},
		{"non-ASCII kept", "Zürich 東京", "Zürich 東京"},
		{"only controls", "\x00\x1b[0m\r\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, sanitize(tt.in)); diff != "" {
				t.Errorf("sanitize(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		limit int
		width func(rune) int
		tail  string
		want  string
	}{
		{"fits", "abc", 3, runeWidth, ellipsis, "abc"},
		{"cut with ellipsis", "abcdef", 4, runeWidth, ellipsis, "abc…"},
		{"cut with dots", "abcdef", 5, runeWidth, "...", "ab..."},
		{"multi-byte runes", "ééééé", 3, runeWidth, ellipsis, "éé…"},
		{"trailing space trimmed", "ab cdef", 4, runeWidth, ellipsis, "ab…"},
		{"UTF-16 counts emoji twice", "a🚀🚀", 4, utf16Width, ellipsis, "a🚀…"},
		{"UTF-16 fits", "a🚀🚀", 5, utf16Width, ellipsis, "a🚀🚀"},
		{"UTF-16 no room for a split pair", "ab🚀🚀", 4, utf16Width, ellipsis, "ab…"},
		{"dangling ZWJ dropped", "ab👩\u200d💻", 4, runeWidth, ellipsis, "ab👩…"},
		{"display width of wide runes", "東京都庁", 5, displayWidth, ellipsis, "東京…"},
		{"limit below tail", "abcdef", 2, runeWidth, "...", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := truncate(tt.in, tt.limit, tt.width, tt.tail)
			if got != tt.want {
				t.Errorf("truncate(%q, %d) = %q, want %q", tt.in, tt.limit, got, tt.want)
			}
			if !utf8.ValidString(got) {
				t.Errorf("truncate(%q, %d) = %q is not valid UTF-8", tt.in, tt.limit, got)
			}
			if n := measure(got, tt.width); n > tt.limit {
				t.Errorf("truncate(%q, %d) measures %d", tt.in, tt.limit, n)
			}
		})
	}
}

func TestChatText(t *testing.T) {
	z := "\u200b"
	tests := []struct {
		name, in, want string
	}{
		{"markdown link", "[x](https://evil.example)", "［x］(https://evil.example)"},
		{"markdown image", "![x](https://evil.example/a.png)", "!［x］(https://evil.example/a.png)"},
		{"slack link", "<https://evil.example|text>", "‹https://evil.example|text›"},
		{"slack special mentions", "<!here> <!channel> <!everyone>", "‹!here› ‹!channel› ‹!everyone›"},
		{"slack user and channel", "<@U123> <#C123>", "‹@" + z + "U123› ‹#C123›"},
		{"at mentions", "@channel @here @everyone ops@stax.example", "@" + z + "channel @" + z + "here @" + z + "everyone ops@" + z + "stax.example"},
		{"HTML", "<script>alert(1)</script>", "‹script›alert(1)‹/script›"},
		{"HTML entity", "&lt;b&gt;", "＆lt;b＆gt;"},
		{"code", "`code` ```block```", "ˋcodeˋ ˋˋˋblockˋˋˋ"},
		{"emphasis", "*bold* _it_ ~strike~", "∗bold∗ ˍitˍ ∼strike∼"},
		{"quote", "> quoted", "› quoted"},
		{"heading at start", "# big", "＃ big"},
		{"hash elsewhere", "Production #2", "Production #2"},
		{"newline cannot start a heading", "a\n# big", "a # big"},
		{"control characters", "a\x1b[31mb\x00c\r\nd", "abc d"},
		{"readable text untouched", "Root signed in to 222222222222 (web): MFA used: No.", "Root signed in to 222222222222 (web): MFA used: No."},
		{"non-ASCII and emoji untouched", "Zürich 東京 🚀", "Zürich 東京 🚀"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := chatText(tt.in, math.MaxInt)
			if got != tt.want {
				t.Errorf("chatText(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if err := checkChatSafe(got); err != "" {
				t.Errorf("chatText(%q) = %q: %s", tt.in, got, err)
			}
		})
	}
}

// chatForbidden are substrings that must not survive chat escaping.
var chatForbidden = []string{"](", "[", "]", "<", ">", "`", "*", "_", "~", "&", "\x1b", "\r", "\n", "\t"}

// checkChatSafe returns what is wrong with chat-escaped text, or "".
func checkChatSafe(s string) string {
	if !utf8.ValidString(s) {
		return "not valid UTF-8"
	}
	for _, bad := range chatForbidden {
		if strings.Contains(s, bad) {
			return "contains " + strconv.Quote(bad)
		}
	}
	for i, r := range s {
		if unicode.IsControl(r) || invisible(r) {
			return "contains control " + strconv.QuoteRune(r)
		}
		if r == '@' && !strings.HasPrefix(s[i+1:], "\u200b") {
			return "contains @ without a zero-width space after it"
		}
	}
	if strings.HasPrefix(s, "#") {
		return "starts with #"
	}
	return ""
}

func TestASCII(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"accents", "Zürich Café Ærøskøbing Straße", "Zurich Cafe AEroskobing Strasse"},
		{"polish and nordic", "Łódź Þórr Øst", "Lodz Thorr Ost"},
		{"typography", "“quoted” — it’s… done", "\"quoted\" - it's... done"},
		{"fullwidth", "ｆｕｌｌ［x］", "full[x]"},
		{"CJK and emoji dropped", "web 東京 🚀 prod", "web prod"},
		{"controls removed", "a\r\nb\x1b[31mc\x00", "a bc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ascii(tt.in); got != tt.want {
				t.Errorf("ascii(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
