// Package replay evaluates recorded CloudTrail events from files, folders, standard input and
// S3 (s3://bucket/prefix, listed in CloudTrail's date layout and fetched a few objects ahead):
// the input side of `rootguard replay`. It streams each input with flat memory (gunzipping it
// when it starts with the gzip magic bytes), keeps only the records a routing pattern may match
// (cloudtrail.Prefilter), decodes those, drops repeated event ids, calls the rule engine in
// input order and merges repeated findings. Bad inputs are reported with their file and record index
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

	"github.com/rootguard/rootguard/internal/cloudtrail"
	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/route"
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
	// Window keeps only the events whose time is inside it; for s3:// inputs it also prunes
	// the listing (folders of days outside it are never listed). Zero: every event.
	Window Window
	// S3 is the client for s3:// inputs; when nil, NewS3Client(Getenv) makes one at the first.
	S3 S3API
	// Getenv reads the environment for NewS3Client; os.Getenv when nil.
	Getenv func(string) string
	// S3Parallel is how many S3 objects are fetched at once; S3Parallel when 0.
	S3Parallel int
	// ProgressEvery is the least time between two Progress calls; ProgressInterval when 0.
	ProgressEvery time.Duration
	// Patterns are the routing patterns of every event the rules read: a record that cannot
	// match one is not decoded, only checked for its shape (cloudtrail.Prefilter). Nil: every
	// record is decoded.
	Patterns []route.Pattern

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
	// Objects is how many objects of the S3 input being read are done (0 for local inputs).
	Objects int
	// ObjectsTotal and BytesTotal are how many objects, and bytes as stored, of the S3 input
	// being read have been listed so far for reading; Listing says the listing goes on.
	ObjectsTotal int
	BytesTotal   int64
	Listing      bool
	// ObjectsBytes is how many bytes of the S3 input being read are done (as stored).
	ObjectsBytes int64
}

// Stats counts what a run did.
type Stats struct {
	// Files is how many inputs were opened.
	Files int
	// Records is how many records were read, bad ones included (not those where reading a file
	// stopped).
	Records int
	// Candidates is how many records passed the prefilter (Options.Patterns).
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
	// Skipped is how many S3 objects were listed but not fetched: delivered outside the window.
	Skipped int
	// OutsideWindow is how many decoded events were outside the window (not evaluated).
	OutsideWindow int
	// NotFromAWS is how many decoded EventBridge events were skipped, not evaluated, because AWS
	// did not write them (cloudtrail.Event.NotFromAWS: a source other than aws.*, an account
	// other than detail.recipientAccountId, or a heartbeat canary). They are neither input
	// errors nor duplicates, and their event ids are not remembered: a forged copy cannot hide
	// the genuine event.
	NotFromAWS int
}

// Run reads every path (a file, a folder walked recursively in name order, "-" for standard
// input, or s3://bucket/prefix: see s3fetch.go) and evaluates its events. It is the one entry
// point of every command that reads recorded events. Input problems are reported through
// OnInputError and counted in Stats.Errors; they do not stop the run. The returned error is the context's when it is
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
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	for _, p := range paths {
		if IsS3URI(p) {
			if _, err := ParseS3URI(p); err != nil {
				return Stats{}, err
			}
		}
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
	if opts.Patterns != nil {
		r.stream.SetPrefilter(cloudtrail.NewPrefilter(opts.Patterns))
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
	s3prog       *s3Progress // the S3 input being read, if any
}

// path reads one path argument.
func (r *runner) path(ctx context.Context, p string) error {
	if p == "-" {
		return r.read(ctx, StdinName, r.opts.Stdin)
	}
	if IsS3URI(p) {
		return r.s3(ctx, p)
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
	return isSnapshotHead(head[:n])
}

// isSnapshotHead is isSnapshot on the first bytes of a file (up to 4,096).
func isSnapshotHead(head []byte) bool {
	head = bytes.TrimSpace(head[:min(len(head), 4096)])
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
	if !r.opts.Window.Contains(ev.Time()) {
		r.stats.OutsideWindow++
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
	every := ProgressInterval
	if r.opts.ProgressEvery > 0 {
		every = r.opts.ProgressEvery
	}
	if now.Sub(r.lastProgress) < every {
		return
	}
	r.lastProgress = now
	p := Progress{
		Records:  r.stats.Records,
		Bytes:    r.bytes.Load(),
		Findings: len(r.findings),
		File:     r.file,
		Elapsed:  now.Sub(r.start),
	}
	if s := r.s3prog; s != nil {
		p.Objects, p.ObjectsTotal = s.objects, int(s.lister.listed.Load())
		p.BytesTotal, p.Listing = s.lister.listedBytes.Load(), !s.lister.done.Load()
		p.ObjectsBytes = p.Bytes - s.bytes0
	}
	r.opts.Progress(p)
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
