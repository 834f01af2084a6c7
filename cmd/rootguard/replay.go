package main

import (
	"context"
	"fmt"
	"time"

	"github.com/rootguard/rootguard/shared/finding"
	"github.com/rootguard/rootguard/shared/replay"
	"github.com/rootguard/rootguard/shared/rule"
)

func cmdReplay(ctx context.Context, e env, args []string) (int, error) {
	fs := newFlagSet("replay", e)
	var o options
	o.register(fs)
	audit := fs.Bool("audit", false, "after the events, audit the organization as the events left it [ROOTGUARD_REPLAY_AUDIT]")
	quiet := fs.Bool("quiet", false, "no progress or summary lines on stderr [ROOTGUARD_QUIET]")
	if err := fs.Parse(args); err != nil {
		return exitUsage, err
	}
	if err := applyEnv(fs, e.getenv); err != nil {
		return exitUsage, err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return exitUsage, fmt.Errorf("no PATH given (a file, a folder, or - for standard input)")
	}
	eng, facts, failOn, err := o.setup()
	if err != nil {
		return exitUsage, err
	}
	rep := eng.NewReplayer(facts)
	var findings []finding.Finding
	inputErrors := 0
	stats, runErr := replay.Run(ctx, fs.Args(), replay.Options{
		Evaluate: rep.Evaluate,
		Merge:    rule.Merge,
		Emit:     func(f finding.Finding) { findings = append(findings, f) },
		Stdin:    e.stdin,
		OnInputError: func(ie replay.InputError) {
			inputErrors++
			fmt.Fprintf(e.stderr, "rootguard replay: %v\n", ie)
		},
		Progress: func(p replay.Progress) {
			if !*quiet {
				fmt.Fprintf(e.stderr, "rootguard replay: %d records, %.1f MB read, %d findings, %s (%s)\n",
					p.Records, float64(p.Bytes)/1e6, p.Findings, p.File, p.Elapsed.Round(time.Second))
			}
		},
	})
	if *audit {
		more, err := rep.Audit(time.Now().UTC())
		if err != nil {
			return exitUsage, err
		}
		findings = append(findings, more...)
	}
	if err := write(e, o.format, findings, time.Now().UTC()); err != nil {
		return exitUsage, err
	}
	if !*quiet && o.format == "text" {
		fmt.Fprintf(e.stderr, "rootguard replay: %d files, %d records, %d events evaluated, %d duplicates, %d input errors\n",
			stats.Files, stats.Records, stats.Decoded, stats.Duplicates, stats.Errors)
	}
	if runErr != nil {
		return exitUsage, runErr
	}
	code := exitCode(findings, failOn)
	if inputErrors > 0 {
		code = exitUsage // input errors win: something was not evaluated
	}
	return code, nil
}
