package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/rule"
)

func cmdRules(e env, args []string) (int, error) {
	fs := newFlagSet("rules", e)
	format := fs.String("format", "text", "output `FORMAT`: text, json or markdown")
	if err := fs.Parse(args); err != nil {
		return exitUsage, err
	}
	if fs.NArg() > 0 {
		return exitUsage, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var err error
	switch *format {
	case "text":
		err = rule.WriteText(e.stdout)
	case "json":
		err = rule.WriteJSON(e.stdout)
	case "markdown", "md":
		err = rule.WriteMarkdown(e.stdout)
	default:
		return exitUsage, fmt.Errorf("--format %q: want text, json or markdown", *format)
	}
	return exitOK, err
}

func cmdAudit(ctx context.Context, e env, args []string) (int, error) {
	fs := newFlagSet("audit", e)
	var o options
	o.register(fs)
	at := fs.String("at", "", "audit time `RFC3339` (default now); posture findings repeat once a day [ROOTGUARD_AUDIT_AT]")
	if err := fs.Parse(args); err != nil {
		return exitUsage, err
	}
	if fs.NArg() > 0 {
		return exitUsage, fmt.Errorf("unexpected argument %q (audit reads --org, not event files)", fs.Arg(0))
	}
	if err := applyEnv(fs, e.getenv); err != nil {
		return exitUsage, err
	}
	if o.org == "" {
		return exitUsage, fmt.Errorf("--org FILE is required: the audit checks the accounts of an organization snapshot (write one with 'rootguard snapshot')")
	}
	eng, facts, failOn, err := o.setup()
	if err != nil {
		return exitUsage, err
	}
	now := time.Now().UTC()
	if *at != "" {
		if now, err = time.Parse(time.RFC3339, *at); err != nil {
			return exitUsage, fmt.Errorf("--at: %w", err)
		}
	}
	findings, err := eng.Audit(facts, now)
	if err != nil {
		return exitUsage, err
	}
	if err := write(e, o.format, findings, now); err != nil {
		return exitUsage, err
	}
	return exitCode(findings, failOn), nil
}

// write renders findings in the chosen format (one of formats; checked when the flags are read).
func write(e env, format string, findings []finding.Finding, now time.Time) error {
	f, ok := lookupFormat(format)
	if !ok {
		return fmt.Errorf("--format %q: want %s", format, formatList())
	}
	return f.write(e, findings, now)
}

func colorOK(e env) bool {
	if e.getenv("NO_COLOR") != "" {
		return false
	}
	f, ok := e.stdout.(*os.File)
	return ok && isTerminal(f)
}

func exitCode(findings []finding.Finding, failOn finding.Severity) int {
	if failOn == 0 {
		return exitOK
	}
	for _, f := range findings {
		if f.Severity >= failOn {
			return exitFindings
		}
	}
	return exitOK
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}
