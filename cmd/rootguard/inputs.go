package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/rootguard/rootguard/shared/replay"
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
