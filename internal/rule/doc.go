package rule

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// RuleDoc is a rule's public metadata (what `rootguard rules --format json` prints).
type RuleDoc struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Group       Group    `json:"group"`
	When        string   `json:"when"`
	Severity    string   `json:"severity"`
	Why         string   `json:"why"`
	Remediation string   `json:"remediation"`
	References  []string `json:"references"`
	AuditOnly   bool     `json:"auditOnly,omitempty"`
}

// Docs returns the catalogue's metadata in catalogue order.
func Docs() []RuleDoc {
	out := make([]RuleDoc, 0, len(catalogue))
	for _, r := range catalogue {
		out = append(out, RuleDoc{ID: r.ID, Title: r.Title, Group: r.Group, When: r.When, Severity: r.Severity,
			Why: r.Why, Remediation: r.Remediation, References: r.References, AuditOnly: r.AuditOnly})
	}
	return out
}

// WriteMarkdown writes the catalogue as the Markdown table the README embeds.
func WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString("| ID | Group | When | Severity |\n|---|---|---|---|\n")
	for _, r := range Docs() {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", r.ID, r.Group, mdCell(r.When), mdCell(r.Severity))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func mdCell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// WriteJSON writes the catalogue as a JSON array.
func WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(Docs())
}

// WriteText writes the catalogue as a readable list.
func WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tGROUP\tTITLE")
	for _, r := range Docs() {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.ID, r.Group, r.Title)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range Docs() {
		fmt.Fprintf(w, "\n%s: %s\n  When:        %s\n  Severity:    %s\n  Why:         %s\n  Remediation: %s\n",
			r.ID, r.Title, strings.ReplaceAll(r.When, "`", ""), strings.ReplaceAll(r.Severity, "`", ""), r.Why, r.Remediation)
		for _, ref := range r.References {
			fmt.Fprintf(w, "  See:         %s\n", ref)
		}
	}
	return nil
}
