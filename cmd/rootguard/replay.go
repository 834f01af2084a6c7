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
	var in inputFlags
	in.register(fs)
	if err := fs.Parse(args); err != nil {
		return exitUsage, err
	}
	if err := applyEnv(fs, e.getenv); err != nil {
		return exitUsage, err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return exitUsage, fmt.Errorf("no PATH given (a file, a folder, s3://BUCKET/PREFIX/, or - for standard input)")
	}
	eng, facts, failOn, err := o.setup()
	if err != nil {
		return exitUsage, err
	}
	rep := eng.NewReplayer(facts)
	var findings []finding.Finding
	inputErrors := 0
	opts := replay.Options{
		Evaluate: rep.Evaluate,
		Merge:    rule.Merge,
		Emit:     func(f finding.Finding) { findings = append(findings, f) },
		Stdin:    e.stdin,
		OnInputError: func(ie replay.InputError) {
			inputErrors++
			fmt.Fprintf(e.stderr, "rootguard replay: %v\n", ie)
		},
	}
	if err := in.apply(e, "replay", *quiet, &opts); err != nil {
		return exitUsage, err
	}
	stats, runErr := replay.Run(ctx, fs.Args(), opts)
	if *audit {
		more, err := eng.Audit(rep.State, time.Now().UTC())
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
		if !opts.Window.IsZero() {
			fmt.Fprintf(e.stderr, "rootguard replay: window: %d events outside it not evaluated, %d S3 objects outside it not fetched\n",
				stats.OutsideWindow, stats.Skipped)
		}
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
