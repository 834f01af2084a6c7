package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/rootguard/rootguard/internal/render"
)

func cmdReplay(ctx context.Context, e env, args []string) (int, error) {
	fs := newFlagSet("replay", e)
	var o options
	o.register(fs)
	audit := fs.Bool("audit", false, "after the events, audit the organization as the events left it [ROOTGUARD_REPLAY_AUDIT]")
	quiet := fs.Bool("quiet", false, "no progress or summary lines on stderr [ROOTGUARD_QUIET]")
	var in inputFlags
	in.register(fs)
	revertRole := fs.String("revert-role", "", "with --format plan: the revert role's `ARN`; changes made by it are never planned [ROOTGUARD_REVERT_ROLE]")
	o.planOK = true
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
	if *revertRole != "" && !isRoleARN(*revertRole) {
		return exitUsage, fmt.Errorf("--revert-role %q: want an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)", *revertRole)
	}
	rep := eng.NewReplayer(facts)
	r, err := in.replay(ctx, e, "replay", *quiet, eng, rep, *revertRole, fs.Args())
	if err != nil {
		return exitUsage, err
	}
	stats, runErr, plan, inputErrors := r.stats, r.runErr, r.plan, r.inputErrors
	// A resolution prints the finding again (same id), resolved, after the findings.
	findings := append(r.findings, r.resolved...)
	if *audit {
		more, err := rep.Audit(time.Now().UTC())
		if err != nil {
			return exitUsage, err
		}
		findings = append(findings, more...)
	}
	if o.format == "plan" {
		err = render.Plan(e.stdout, plan)
	} else {
		err = write(e, o.format, findings, time.Now().UTC())
	}
	if err != nil {
		return exitUsage, err
	}
	if !*quiet && o.format == "text" {
		fmt.Fprintf(e.stderr, "rootguard replay: %d files, %d records, %d events evaluated, %d duplicates, %d input errors\n",
			stats.Files, stats.Records, stats.Decoded-stats.NotFromAWS, stats.Duplicates, stats.Errors)
		if in.since != "" || in.until != "" { // a window was given
			fmt.Fprintf(e.stderr, "rootguard replay: window: %d events outside it not evaluated, %d S3 objects outside it not fetched\n",
				stats.OutsideWindow, stats.Skipped)
		}
	}
	if !*quiet && stats.NotFromAWS > 0 {
		fmt.Fprintf(e.stderr, "rootguard replay: %d events skipped: not from AWS (a source other than aws.*, an account other than the recording one, or a heartbeat canary)\n", stats.NotFromAWS)
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

// isRoleARN reports whether s has the shape of an IAM role ARN (any partition).
func isRoleARN(s string) bool {
	parts := strings.SplitN(s, ":", 6)
	return len(parts) == 6 && parts[0] == "arn" && parts[1] != "" && parts[2] == "iam" && parts[3] == "" &&
		len(parts[4]) == 12 && strings.HasPrefix(parts[5], "role/") && len(parts[5]) > len("role/")
}
