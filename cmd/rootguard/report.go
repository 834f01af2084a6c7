package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/org"
	"github.com/rootguard/rootguard/internal/report"
)

// cmdReport writes the HTML posture report: the findings of the given event files (replayed as
// by replay) and of an audit of the organization facts as given (the snapshot is the organization
// now; the events are its history), with the organization tree from the same facts.
func cmdReport(ctx context.Context, e env, args []string) (int, error) {
	fs := newFlagSet("report", e)
	var o options
	o.register(fs)
	out := fs.String("out", "report.html", "write the report to `FILE` (- for standard output)")
	at := fs.String("at", "", "report and audit time `RFC3339` (default now) [ROOTGUARD_AUDIT_AT]")
	quiet := fs.Bool("quiet", false, "no progress or summary lines on stderr [ROOTGUARD_QUIET]")
	var inputs inputFlags
	inputs.register(fs)
	if err := fs.Parse(args); err != nil {
		return exitUsage, err
	}
	if err := applyEnv(fs, e.getenv); err != nil {
		return exitUsage, err
	}
	if o.org == "" {
		return exitUsage, fmt.Errorf("--org FILE is required: the report shows the accounts of an organization snapshot (write one with 'rootguard snapshot')")
	}
	if *out == "" {
		return exitUsage, fmt.Errorf("--out: want a file name, or - for standard output")
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
	var findings []finding.Finding
	inputErrors := 0
	// The events' grants and trust suspensions count for the audit too.
	rep := eng.NewReplayer(facts)
	if fs.NArg() > 0 {
		r, err := inputs.replay(ctx, e, "report", *quiet, eng, rep, "", fs.Args())
		if err != nil {
			return exitUsage, err
		}
		if r.runErr != nil {
			return exitUsage, r.runErr
		}
		findings, inputErrors = withResolutions(r.findings, r.resolved), r.inputErrors
	}
	audited, err := eng.AuditWith(facts, rep.Custody, now)
	if err != nil {
		return exitUsage, err
	}
	findings = append(findings, audited...)
	in := report.Input{
		Facts:     facts,
		Config:    eng.Config(),
		Findings:  findings,
		Generated: now,
		Sources:   sources(o.org, fs.Args()),
	}
	if s, ok := facts.(*org.Snapshot); ok {
		in.OUs = s.Doc().OrganizationalUnits
	}
	if err := writeReport(e, *out, in); err != nil {
		return exitUsage, err
	}
	if !*quiet && *out != "-" {
		fmt.Fprintf(e.stderr, "rootguard report: %d findings written to %s\n", len(findings), *out)
	}
	code := exitCode(findings, failOn)
	if inputErrors > 0 {
		code = exitUsage // input errors win: something was not evaluated
	}
	return code, nil
}

// sources says what the report evaluated, in one line.
func sources(orgFile string, paths []string) string {
	s := "facts " + filepath.Base(orgFile)
	if len(paths) > 0 {
		s += ", events " + strings.Join(paths, " ")
	}
	return s + ", audit"
}

// writeReport renders the report to a file (written whole, then renamed into place) or stdout.
func writeReport(e env, out string, in report.Input) error {
	if out == "-" {
		return report.Render(e.stdout, in)
	}
	dir := filepath.Dir(out)
	tmp, err := os.CreateTemp(dir, ".report-*.html")
	if err != nil {
		return fmt.Errorf("--out %s: %w", out, err)
	}
	defer os.Remove(tmp.Name())
	if err := report.Render(tmp, in); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("--out %s: %w", out, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("--out %s: %w", out, err)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return fmt.Errorf("--out %s: %w", out, err)
	}
	return nil
}

// withResolutions puts each resolution (the finding again, same id, status resolved) in the place
// of the finding it resolves, so the report shows one row per finding with its latest state.
func withResolutions(findings, resolved []finding.Finding) []finding.Finding {
	at := map[string]int{}
	for i, f := range findings {
		at[f.ID] = i
	}
	for _, r := range resolved {
		if i, ok := at[r.ID]; ok {
			findings[i] = r
			continue
		}
		at[r.ID] = len(findings)
		findings = append(findings, r)
	}
	return findings
}
