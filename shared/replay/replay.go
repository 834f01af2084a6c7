// Package replay evaluates recorded CloudTrail events from files, folders and standard input:
// the input side of `rootguard replay`. It streams each input with flat memory (gunzipping it
// when it starts with the gzip magic bytes), keeps only the records that can raise a finding
// (cloudtrail.MayMatter), decodes those, drops repeated event ids, calls the rule engine in input
// order and merges repeated findings. Bad inputs are reported with their file and record index
// and every other input is still evaluated.
//
// Records the prefilter drops are never decoded: they are checked only for being valid JSON
// objects with non-empty string "eventName" and "eventSource" members. A field of the wrong type
// (userIdentity a string, say) is therefore detected and reported only in records that can raise
// a finding, which are decoded fully.
package replay

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rootguard/rootguard/shared/cloudtrail"
	"github.com/rootguard/rootguard/shared/finding"
)

// StdinName is the file name given to standard input ("-") in errors and progress.
const StdinName = "<stdin>"

// ProgressInterval is the least time between two Progress calls, and the time a run must have
// lasted before the first.
const ProgressInterval = 2 * time.Second

// checkEvery is how many records go by between two looks at the clock and the context.
const checkEvery = 64

// Options configures Run.
type Options struct {
	// Evaluate returns the findings of one event. It is called in input order, from one
	// goroutine, once per distinct event id; it may keep state. Required.
	Evaluate func(*cloudtrail.Event) []finding.Finding
	// Merge folds a finding into an earlier one with the same id (a root session's calls into
	// one finding). When nil, the first finding with an id is kept.
	Merge func(dst *finding.Finding, src finding.Finding)
	// Emit receives the findings at the end of the run, in the order their ids were first seen.
	Emit func(finding.Finding)
	// OnInputError is called for each bad input, in input order. Optional.
	OnInputError func(InputError)
	// Progress is called at most every ProgressInterval once the run has lasted that long.
	// Optional.
	Progress func(Progress)
	// Stdin is what the path "-" reads; os.Stdin when nil.
	Stdin io.Reader

	now      func() time.Time // the clock; time.Now when nil (tests set it)
	parallel *bool            // gunzip in a goroutine; when nil, if GOMAXPROCS > 1 (tests set it)
}

// InputError is a bad input: a file that cannot be read, a record that is not JSON, not an
// event, has a field of the wrong type, or is too large.
type InputError struct {
	// File is the path as given or walked, or StdinName.
	File string
	// Record is the 1-based index of the record in the file; 0 when the error is about the file.
	Record int
	// Line is the 1-based line where the record starts; 0 when unknown.
	Line int
	// Err is the reason.
	Err error
}

// Error returns "file: record N: reason", or "file: reason" for the file as a whole.
func (e InputError) Error() string {
	if e.Record == 0 {
		return fmt.Sprintf("%s: %v", e.File, e.Err)
	}
	return fmt.Sprintf("%s: record %d: %v", e.File, e.Record, e.Err)
}

// Unwrap returns the reason.
func (e InputError) Unwrap() error { return e.Err }

// Progress is a report on a running replay.
type Progress struct {
	// Records is how many records have been read.
	Records int
	// Bytes is how many bytes of input files have been read (compressed, as stored).
	Bytes int64
	// Findings is how many distinct findings have been raised.
	Findings int
	// File is the input being read.
	File string
	// Elapsed is the time since the run started.
	Elapsed time.Duration
}

// Stats counts what a run did.
type Stats struct {
	// Files is how many inputs were opened.
	Files int
	// Records is how many records were read, bad ones included (not those where reading a file
	// stopped).
	Records int
	// Candidates is how many records passed cloudtrail.MayMatter.
	Candidates int
	// Decoded is how many candidates decoded to an event.
	Decoded int
	// Errors is how many input errors were reported.
	Errors int
	// Duplicates is how many decoded events repeated an event id already seen.
	Duplicates int
	// Findings is how many distinct findings were raised.
	Findings int
	// Bytes is how many bytes of input were read (compressed, as stored).
	Bytes int64
	// NotFromAWS is how many decoded EventBridge events were skipped, not evaluated, because AWS
	// did not write them (cloudtrail.Event.NotFromAWS: a source other than aws.*, an account
	// other than detail.recipientAccountId, or a heartbeat canary). They are neither input
	// errors nor duplicates, and their event ids are not remembered: a forged copy cannot hide
	// the genuine event.
	NotFromAWS int
}

// Run reads every path (a file, a folder walked recursively in name order, or "-" for standard
// input) and evaluates its events. Input problems are reported through OnInputError and counted
// in Stats.Errors; they do not stop the run. The returned error is the context's when it is
// cancelled (the findings seen so far are still emitted), or a usage error.
func Run(ctx context.Context, paths []string, opts Options) (Stats, error) {
	if opts.Evaluate == nil {
		return Stats{}, errors.New("replay: Options.Evaluate is required")
	}
	if opts.Stdin == nil {
		opts.Stdin = os.Stdin
	}
	if opts.now == nil {
		opts.now = time.Now
	}
	parallel := runtime.GOMAXPROCS(0) > 1
	if opts.parallel != nil {
		parallel = *opts.parallel
	}
	r := &runner{
		opts:   opts,
		seen:   map[string]struct{}{},
		byID:   map[string]int{},
		stream: cloudtrail.NewStream(nil),
		br:     bufio.NewReaderSize(nil, 64<<10),
	}
	if parallel {
		r.ahead = newReadAhead()
	}
	r.start = opts.now()
	r.lastProgress = r.start
	var err error
	for _, p := range paths {
		if err = r.path(ctx, p); err != nil {
			break
		}
	}
	r.stats.Findings = len(r.findings)
	r.stats.Bytes = r.bytes.Load()
	if opts.Emit != nil {
		for _, f := range r.findings {
			opts.Emit(f)
		}
	}
	return r.stats, err
}

// runner is the state of one Run.
type runner struct {
	opts         Options
	stats        Stats
	seen         map[string]struct{} // event ids of decoded candidates
	findings     []finding.Finding   // distinct findings, first seen first
	byID         map[string]int      // finding id -> index in findings
	stream       *cloudtrail.Stream
	br           *bufio.Reader
	gz           gzipReader
	ahead        *readAhead   // nil when gunzipping on the calling goroutine
	bytes        atomic.Int64 // bytes read from inputs (the read-ahead goroutine adds too)
	in           countingReader
	file         string
	start        time.Time
	lastProgress time.Time
}

// path reads one path argument.
func (r *runner) path(ctx context.Context, p string) error {
	if p == "-" {
		return r.read(ctx, StdinName, r.opts.Stdin)
	}
	info, err := os.Stat(p)
	if err != nil {
		r.inputError(InputError{File: p, Err: err})
		return nil
	}
	if !info.IsDir() {
		return r.open(ctx, p) // a file given explicitly is read whatever its name
	}
	return filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			r.inputError(InputError{File: path, Err: err})
			return nil
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		if path != p && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() || !IsInputName(d.Name()) {
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			info, err := os.Stat(path)
			if err != nil {
				r.inputError(InputError{File: path, Err: err})
				return nil
			}
			if !info.Mode().IsRegular() {
				return nil // symbolic links to folders are not followed
			}
		} else if !d.Type().IsRegular() {
			return nil
		}
		if isSnapshot(path) {
			return nil // an organization snapshot kept beside the events (events/org.json)
		}
		return r.open(ctx, path)
	})
}

// isSnapshot reports whether a file is an organization snapshot (rules.md's format), which a
// folder walk skips: judged by content, the start of the document.
func isSnapshot(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 4096)
	n, _ := io.ReadFull(f, head)
	head = bytes.TrimSpace(head[:n])
	return bytes.HasPrefix(head, []byte("{")) && bytes.Contains(head, []byte(`"organization"`)) &&
		bytes.Contains(head, []byte(`"managementAccountId"`)) && !bytes.Contains(head, []byte(`"eventName"`))
}

// IsInputName reports whether a folder walk reads a file of this name: .json, .jsonl, .gz
// (so .json.gz and .jsonl.gz), in any case. Hidden files are skipped before this test.
func IsInputName(name string) bool {
	name = strings.ToLower(name)
	return strings.HasSuffix(name, ".json") || strings.HasSuffix(name, ".jsonl") || strings.HasSuffix(name, ".gz")
}

// open reads one file.
func (r *runner) open(ctx context.Context, path string) error {
	f, err := os.Open(path)
	if err != nil {
		r.inputError(InputError{File: path, Err: err})
		return nil
	}
	defer f.Close()
	return r.read(ctx, path, f)
}

// read evaluates the records of one input.
func (r *runner) read(ctx context.Context, name string, in io.Reader) error {
	r.stats.Files++
	r.file = name
	r.in = countingReader{r: in, n: &r.bytes}
	r.br.Reset(&r.in)
	var src io.Reader = r.br
	if head, _ := r.br.Peek(2); len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		if err := r.gz.Reset(r.br); err != nil {
			r.inputError(InputError{File: name, Err: fmt.Errorf("gunzip: %w", err)})
			return nil
		}
		src = r.gz.Reader()
		if r.ahead != nil && name != StdinName {
			r.ahead.Start(src)
			defer r.ahead.Stop()
			src = r.ahead
		}
	}
	r.stream.Reset(src)
	for n := 0; ; n++ {
		if n%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
			r.tick()
		}
		rec, err := r.stream.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			var re *cloudtrail.RecordError
			if !errors.As(err, &re) {
				r.inputError(InputError{File: name, Err: err})
				return nil
			}
			if !re.Fatal {
				r.stats.Records++
			}
			r.inputError(InputError{File: name, Record: re.Index, Line: re.Line, Err: re.Err})
			continue
		}
		r.stats.Records++
		r.record(name, rec)
	}
}

// record evaluates one record.
func (r *runner) record(name string, rec cloudtrail.RawRecord) {
	if !rec.MayMatter() {
		if err := rec.CheckShape(); err != nil {
			r.inputError(InputError{File: name, Record: rec.Index, Line: rec.Line, Err: err})
		}
		return
	}
	r.stats.Candidates++
	ev, err := cloudtrail.Decode(rec.Bytes)
	if err != nil {
		r.inputError(InputError{File: name, Record: rec.Index, Line: rec.Line, Err: err})
		return
	}
	r.stats.Decoded++
	if ev.NotFromAWS("") != "" {
		r.stats.NotFromAWS++
		return
	}
	if id := ev.ID(); id != "" {
		if _, dup := r.seen[id]; dup {
			r.stats.Duplicates++
			return
		}
		r.seen[id] = struct{}{}
	}
	for _, f := range r.opts.Evaluate(ev) {
		if i, ok := r.byID[f.ID]; ok {
			if r.opts.Merge != nil {
				r.opts.Merge(&r.findings[i], f)
			}
			continue
		}
		r.byID[f.ID] = len(r.findings)
		r.findings = append(r.findings, f)
	}
}

func (r *runner) inputError(e InputError) {
	r.stats.Errors++
	if r.opts.OnInputError != nil {
		r.opts.OnInputError(e)
	}
}

// tick calls Progress when it is due.
func (r *runner) tick() {
	if r.opts.Progress == nil {
		return
	}
	now := r.opts.now()
	if now.Sub(r.lastProgress) < ProgressInterval {
		return
	}
	r.lastProgress = now
	r.opts.Progress(Progress{
		Records:  r.stats.Records,
		Bytes:    r.bytes.Load(),
		Findings: len(r.findings),
		File:     r.file,
		Elapsed:  now.Sub(r.start),
	})
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}
