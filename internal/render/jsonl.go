package render

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/rootguard/rootguard/internal/finding"
)

// JSONLines writes one finding per line as JSON, in the public finding format (rules.md,
// "Findings"). encoding/json escapes control characters and, with HTML escaping on, <, > and &,
// so no line can contain a raw newline or escape sequence; invalid UTF-8 becomes U+FFFD.
func JSONLines(w io.Writer, findings []finding.Finding) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	for i := range findings {
		if err := enc.Encode(&findings[i]); err != nil {
			return fmt.Errorf("write finding %s as JSON: %w", findings[i].ID, err)
		}
	}
	return nil
}
