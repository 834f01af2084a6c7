package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/function"
	"github.com/rootguard/rootguard/internal/render"
)

// outputFormat is one output format of replay, audit and report's findings: its name (the
// --format value), what it is, how findings are written in it, and the renderer's golden file
// (internal/render/testdata) that pins its output.
type outputFormat struct {
	name   string
	help   string
	golden string
	write  func(e env, findings []finding.Finding, now time.Time) error
}

// formats are the output formats, in the order the help lists them. Adding one here adds it to
// the flag's check and help, and to the tests that feed every format hostile event text
// (TestHostileInput) and check its golden file (TestFormatsHaveGoldenFiles).
var formats = []outputFormat{
	{name: "text", golden: "text.golden", write: func(e env, findings []finding.Finding, _ time.Time) error {
		return render.Text(e.stdout, findings, render.TextOptions{Color: colorOK(e)})
	}},
	{name: "json", help: "one finding per line", golden: "findings.jsonl.golden", write: func(e env, findings []finding.Finding, _ time.Time) error {
		return render.JSONLines(e.stdout, findings)
	}},
	{name: "asff", help: "a Security Hub BatchImportFindings body", golden: "asff.golden", write: writeASFF},
	{name: "chatbot", help: "one chat notification per line", golden: "chat.golden", write: func(e env, findings []finding.Finding, _ time.Time) error {
		for _, f := range findings {
			b, err := render.Chat(f)
			if err != nil {
				return err
			}
			if _, err := fmt.Fprintf(e.stdout, "%s\n", b); err != nil {
				return err
			}
		}
		return nil
	}},
}

func writeASFF(e env, findings []finding.Finding, now time.Time) error {
	body, err := render.ASFFBatch(findings, render.ASFFContext{
		Region:           firstNonEmpty(e.getenv("AWS_REGION"), e.getenv("AWS_DEFAULT_REGION"), "us-east-1"),
		CallingAccountID: firstNonEmpty(e.getenv(function.EnvSecurityHubAccount), "000000000000"),
		Now:              now,
	})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(e.stdout, "%s\n", body)
	return err
}

// lookupFormat returns the output format of a name, or false.
func lookupFormat(name string) (outputFormat, bool) {
	for _, f := range formats {
		if f.name == name {
			return f, true
		}
	}
	return outputFormat{}, false
}

// formatList is the formats' names for an error: "text, json, asff or chatbot".
func formatList() string {
	names := make([]string, len(formats))
	for i, f := range formats {
		names[i] = f.name
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// formatHelp is the formats for the --format help: "text, json (one finding per line), ...".
func formatHelp() string {
	parts := make([]string, len(formats))
	for i, f := range formats {
		parts[i] = f.name
		if f.help != "" {
			parts[i] += " (" + f.help + ")"
		}
	}
	return strings.Join(parts, ", ")
}
