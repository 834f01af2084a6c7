// Command rootguard evaluates recorded CloudTrail events and organization posture against the
// rootguard rule catalogue, offline: the same rule engine the Lambdas run.
//
//	rootguard replay [flags] PATH...   evaluate recorded events; PATH is a file, a folder or s3://BUCKET/PREFIX/
//	rootguard audit  [flags]           posture checks on every account of the organization facts
//	rootguard rules  [--format text|json|markdown]   the catalogue
//	rootguard snapshot [--out FILE]    write the live organization as a snapshot
//	rootguard report [flags] [PATH...] the HTML posture report of the events and an audit
//
// Exit status: 0 done; 1 a finding at or above --fail-on; 2 usage or input errors.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
)

// Exit codes.
const (
	exitOK       = 0
	exitFindings = 1
	exitUsage    = 2
)

const usage = `rootguard: root-credential guard for AWS Organizations (offline rule engine)

Usage:
  rootguard replay [flags] PATH...   evaluate recorded CloudTrail events (files, folders, s3://BUCKET/PREFIX/; - is stdin)
  rootguard audit  [flags]           posture checks on every account of the organization facts
  rootguard rules  [--format text|json|markdown]   the rule catalogue
  rootguard snapshot [--out FILE]    write the live organization (AWS credentials) as a snapshot
  rootguard report [flags] [PATH...] --out report.html   the HTML posture report (events + audit)

Run 'rootguard COMMAND -h' for a command's flags.
Exit status: 0 done; 1 a finding at or above --fail-on; 2 usage or input errors.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// env is how commands read the environment (a parameter, so tests can set it).
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	e := env{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	var err error
	code := exitOK
	switch args[0] {
	case "replay":
		code, err = cmdReplay(ctx, e, args[1:])
	case "audit":
		code, err = cmdAudit(ctx, e, args[1:])
	case "rules":
		code, err = cmdRules(e, args[1:])
	case "snapshot":
		code, err = cmdSnapshot(ctx, e, args[1:])
	case "report":
		code, err = cmdReport(ctx, e, args[1:])
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "rootguard: unknown command %q\n\n%s", args[0], usage)
		return exitUsage
	}
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		fmt.Fprintf(stderr, "rootguard %s: %v\n", args[0], err)
		if code == exitOK {
			code = exitUsage
		}
	}
	return code
}

// usageError marks errors in the command line (exit 2).
type usageError struct{ error }

func newFlagSet(name string, e env) *flag.FlagSet {
	fs := flag.NewFlagSet("rootguard "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	return fs
}
