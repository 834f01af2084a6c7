package render

// Plain returns event-derived text neutralised as every rootguard format does before its own
// escaping: one line of valid UTF-8 without control characters, ANSI escape sequences,
// bidirectional-text controls or a byte-order mark (see sanitize), cut to at most limit runes with
// an ellipsis (limit <= 0: no cut). Writers of other formats (the HTML report) apply their own
// markup escaping on top.
func Plain(s string, limit int) string {
	s = sanitize(s)
	if limit > 0 {
		s = truncate(s, limit, runeWidth, ellipsis)
	}
	return s
}
