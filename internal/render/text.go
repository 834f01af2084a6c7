package render

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/rootguard/rootguard/internal/finding"
)

// TextOptions sets how Text writes its table.
type TextOptions struct {
	// Color colours the severity column and the summary by severity with ANSI escape sequences.
	// The CLI sets it when stdout is a terminal and NO_COLOR is unset.
	Color bool
	// MaxCellWidth caps every column but the title, in terminal columns; 0 means 40.
	MaxCellWidth int
	// MaxTitleWidth caps the title column, in terminal columns; 0 means 100.
	MaxTitleWidth int
}

// Default cell widths of TextOptions.
const (
	defaultMaxCellWidth  = 40
	defaultMaxTitleWidth = 100
)

// ansiReset ends a coloured span.
const ansiReset = "\x1b[0m"

// severityColors are the ANSI colours of the severities.
var severityColors = map[finding.Severity]string{
	finding.Critical:      "\x1b[1;31m", // bold red
	finding.High:          "\x1b[31m",   // red
	finding.Medium:        "\x1b[33m",   // yellow
	finding.Low:           "\x1b[36m",   // cyan
	finding.Informational: "\x1b[2m",    // dim
}

var textHeader = []string{"SEVERITY", "RULE", "ACCOUNT", "OWNERSHIP/ROLE", "EVENT TIME", "TITLE"}

// Text writes findings as an aligned table, one line per finding in the order given, followed
// by a summary line with the count per severity (highest first), or a single "No findings."
// line. Cells are sanitized to one line (no control characters or escape sequences) and
// truncated with an ellipsis, so event text cannot break the table or the terminal.
func Text(w io.Writer, findings []finding.Finding, opts TextOptions) error {
	if len(findings) == 0 {
		if _, err := io.WriteString(w, "No findings.\n"); err != nil {
			return fmt.Errorf("write text: %w", err)
		}
		return nil
	}
	maxCell, maxTitle := opts.MaxCellWidth, opts.MaxTitleWidth
	if maxCell <= 0 {
		maxCell = defaultMaxCellWidth
	}
	if maxTitle <= 0 {
		maxTitle = defaultMaxTitleWidth
	}
	rows := make([][]string, 0, len(findings)+1)
	rows = append(rows, textHeader)
	for _, f := range findings {
		rows = append(rows, textRow(f, maxCell, maxTitle))
	}
	widths := make([]int, len(textHeader))
	for _, row := range rows {
		for i, c := range row {
			widths[i] = max(widths[i], measure(c, displayWidth))
		}
	}
	var b strings.Builder
	for n, row := range rows {
		for i, c := range row {
			if i == len(row)-1 {
				b.WriteString(c) // the last column is not padded
				break
			}
			pad := strings.Repeat(" ", widths[i]-measure(c, displayWidth)+2)
			if i == 0 && n > 0 && opts.Color {
				c = colorize(findings[n-1].Severity, c)
			}
			b.WriteString(c)
			b.WriteString(pad)
		}
		b.WriteByte('\n')
	}
	b.WriteString(summary(findings, opts.Color))
	b.WriteByte('\n')
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write text: %w", err)
	}
	return nil
}

// textRow returns the cells of one finding.
func textRow(f finding.Finding, maxCell, maxTitle int) []string {
	cell := func(s string, limit int) string {
		s = sanitize(s)
		if s == "" {
			s = "-"
		}
		return truncate(s, limit, displayWidth, ellipsis)
	}
	account := strings.TrimSpace(sanitize(f.AccountID) + " " + sanitize(f.AccountName))
	ownership, role := f.Ownership, f.AccountRole
	if ownership == "" {
		ownership = finding.Unknown
	}
	if role == "" {
		role = finding.Unknown
	}
	title := f.Title
	if f.Canary {
		title = "[canary] " + title
	}
	if f.Exception != "" {
		title += " (exception: " + f.Exception + ")"
	}
	if f.Status == finding.StatusResolved {
		title = "[resolved " + f.ResolvedAt + " by " + f.ResolvedBy + "] " + title
	}
	return []string{
		cell(f.Severity.String(), maxCell),
		cell(f.Rule, maxCell),
		cell(account, maxCell),
		cell(ownership+"/"+role, maxCell),
		cell(f.EventTime, maxCell),
		cell(title, maxTitle),
	}
}

// colorize wraps s in the colour of severity s, when it has one.
func colorize(sev finding.Severity, s string) string {
	c, ok := severityColors[sev]
	if !ok {
		return s
	}
	return c + s + ansiReset
}

// summary returns the closing line: "12 findings: 3 CRITICAL, 4 HIGH, ...", highest first,
// severities without findings left out.
func summary(findings []finding.Finding, color bool) string {
	counts := map[finding.Severity]int{}
	for _, f := range findings {
		counts[f.Severity]++
	}
	sevs := make([]finding.Severity, 0, len(counts))
	for s := range counts {
		sevs = append(sevs, s)
	}
	slices.SortFunc(sevs, func(a, b finding.Severity) int { return int(b) - int(a) })
	parts := make([]string, 0, len(sevs))
	for _, s := range sevs {
		part := fmt.Sprintf("%d %s", counts[s], s)
		if color {
			part = colorize(s, part)
		}
		parts = append(parts, part)
	}
	noun := "findings"
	if len(findings) == 1 {
		noun = "finding"
	}
	return fmt.Sprintf("%d %s: %s", len(findings), noun, strings.Join(parts, ", "))
}
