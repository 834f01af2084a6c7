package render

// OneLine returns event text as one escaped line of at most limit runes (ending with an ellipsis
// when cut): control characters, escape sequences and bidirectional overrides removed, line
// breaks and tabs turned into spaces. For plain-text metadata such as SNS message attributes.
func OneLine(s string, limit int) string { return truncate(sanitize(s), limit, runeWidth, ellipsis) }
