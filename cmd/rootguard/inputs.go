package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/rootguard/rootguard/internal/cloudtrail"
	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/replay"
	"github.com/rootguard/rootguard/internal/routing"
	"github.com/rootguard/rootguard/internal/rule"
)

// inputFlags are the flags of every command that reads recorded events (replay, report): the
// time window and progress. Inputs themselves (files, folders, -, s3://bucket/prefix/) are the
// command's arguments, resolved by replay.Run.
type inputFlags struct {
	since    string
	until    string
	progress bool
}

func (f *inputFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.since, "since", "", "only events at or after `TIME`: a date (2024-05-01, UTC) or RFC 3339; S3 inputs skip earlier date folders [ROOTGUARD_SINCE]")
	fs.StringVar(&f.until, "until", "", "only events at or before `TIME`: a date (the whole day, UTC) or RFC 3339; S3 inputs skip later date folders [ROOTGUARD_UNTIL]")
	fs.BoolVar(&f.progress, "progress", false, "progress on stderr at most once a second, even when stderr is not a terminal [ROOTGUARD_PROGRESS]")
}

// apply sets the window, the environment and the progress printing of a run. Progress is
// printed when stderr is a terminal or with --progress, never with quiet.
func (f *inputFlags) apply(e env, command string, quiet bool, opts *replay.Options) error {
	w, err := replay.ParseWindow(f.since, f.until)
	if err != nil {
		return err
	}
	opts.Window = w
	opts.Getenv = e.getenv
	if quiet || !(f.progress || stderrIsTerminal(e)) {
		return nil
	}
	opts.ProgressEvery = time.Second
	opts.Progress = func(p replay.Progress) { fmt.Fprintf(e.stderr, "rootguard %s: %s\n", command, progressLine(p)) }
	return nil
}

func stderrIsTerminal(e env) bool {
	f, ok := e.stderr.(*os.File)
	return ok && isTerminal(f)
}

// progressLine says how far a run is: for an S3 input, objects and bytes done of those listed
// so far ("+" while the listing goes on).
func progressLine(p replay.Progress) string {
	elapsed := p.Elapsed.Round(time.Second)
	if p.ObjectsTotal == 0 && !p.Listing {
		return fmt.Sprintf("%d records, %.1f MB read, %d findings, %s (%s)",
			p.Records, float64(p.Bytes)/1e6, p.Findings, p.File, elapsed)
	}
	more := ""
	if p.Listing {
		more = "+"
	}
	return fmt.Sprintf("%d/%d%s objects, %.1f/%.1f%s MB, %d records, %d findings, %s (%s)",
		p.Objects, p.ObjectsTotal, more, float64(p.ObjectsBytes)/1e6, float64(p.BytesTotal)/1e6, more,
		p.Records, p.Findings, p.File, elapsed)
}

// replayed is what replaying a command's inputs gave.
type replayed struct {
	findings []finding.Finding
	// resolved are the findings the events resolved (each again, same id, status resolved).
	resolved []finding.Finding
	// plan is the revert plan of the findings.
	plan        []finding.RevertCall
	stats       replay.Stats
	inputErrors int
	// runErr is the run's error (the inputs could not be read on); input errors are reported
	// on stderr and counted instead.
	runErr error
}

// replay replays paths through rep, planning reverts for revertRole and resolving with a
// tracker, with the window and progress of the flags; bad input is reported on stderr as
// "rootguard COMMAND: ...". The error is a usage error of the flags.
func (f *inputFlags) replay(ctx context.Context, e env, command string, quiet bool, eng *rule.Engine, rep *rule.Replayer, revertRole string, paths []string) (replayed, error) {
	var r replayed
	tracker := eng.NewTracker()
	opts := replay.Options{
		Evaluate: func(ev *cloudtrail.Event) []finding.Finding {
			out, calls, res := rep.EvaluateAll(ev, revertRole, tracker)
			r.plan = append(r.plan, calls...)
			r.resolved = append(r.resolved, res...)
			return out
		},
		Merge:    rule.Merge,
		Emit:     func(fd finding.Finding) { r.findings = append(r.findings, fd) },
		Patterns: routing.Patterns(),
		Stdin:    e.stdin,
		OnInputError: func(ie replay.InputError) {
			r.inputErrors++
			fmt.Fprintf(e.stderr, "rootguard %s: %v\n", command, ie)
		},
	}
	if err := f.apply(e, command, quiet, &opts); err != nil {
		return r, err
	}
	r.stats, r.runErr = replay.Run(ctx, paths, opts)
	return r, nil
}
