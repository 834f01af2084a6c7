package replay

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// S3Parallel is how many objects an S3 replay fetches at once (Options.S3Parallel overrides it).
// The objects are still evaluated one after the other, in listing order.
const S3Parallel = 8

// s3HeadSize is how much of each object is read ahead while earlier objects are evaluated: a
// CloudTrail log file is usually smaller, and the rest of a larger one is streamed when its
// turn comes. Memory stays flat: at most S3Parallel such buffers exist.
const s3HeadSize = 256 << 10

// s3Input is one s3:// argument being replayed.
type s3Input struct {
	api    S3API
	uri    S3URI
	region atomic.Pointer[string] // the bucket's region, once a redirect named it
}

func (in *s3Input) regionOpt() []func(*s3.Options) {
	r := in.region.Load()
	if r == nil {
		return nil
	}
	return []func(*s3.Options){func(o *s3.Options) { o.Region = *r }}
}

// learnRegion notes the region a wrong-region error names; false when it names none new.
func (in *s3Input) learnRegion(err error) bool {
	r := redirectRegion(err)
	if r == "" {
		return false
	}
	if old := in.region.Load(); old != nil && *old == r {
		return false
	}
	in.region.Store(&r)
	return true
}

// s3Fetch is one object being fetched: its head read, the rest still in the body.
type s3Fetch struct {
	obj      s3Object
	done     chan struct{}
	acquired bool          // holds a slot of the semaphore
	head     []byte        // the first bytes (a pooled buffer)
	body     io.ReadCloser // the rest; nil when the head holds it all
	err      error
}

// reader returns the object's bytes: the head, then the rest of the body.
func (f *s3Fetch) reader() io.Reader {
	if f.body == nil {
		return bytes.NewReader(f.head)
	}
	return io.MultiReader(bytes.NewReader(f.head), f.body)
}

// s3Fetcher fetches the objects a lister sends, S3Parallel at a time, and hands them over in
// the order they were listed.
type s3Fetcher struct {
	in   *s3Input
	sem  chan struct{}
	free chan []byte
}

func newS3Fetcher(in *s3Input, parallel int) *s3Fetcher {
	return &s3Fetcher{in: in, sem: make(chan struct{}, parallel), free: make(chan []byte, parallel)}
}

// dispatch starts a fetch for each object, in order, and sends it on; it closes fetches when
// objs is closed.
func (fe *s3Fetcher) dispatch(ctx context.Context, objs <-chan s3Object, fetches chan<- *s3Fetch) {
	defer close(fetches)
	for o := range objs {
		f := &s3Fetch{obj: o, done: make(chan struct{})}
		switch {
		case o.err != nil:
			close(f.done)
		default:
			select {
			case fe.sem <- struct{}{}:
				f.acquired = true
				go fe.fetch(ctx, f)
			case <-ctx.Done():
				f.err = ctx.Err()
				close(f.done)
			}
		}
		fetches <- f
	}
}

// fetch gets one object and reads its head.
func (fe *s3Fetcher) fetch(ctx context.Context, f *s3Fetch) {
	defer close(f.done)
	in := &s3.GetObjectInput{Bucket: aws.String(fe.in.uri.Bucket), Key: aws.String(f.obj.key)}
	out, err := fe.in.api.GetObject(ctx, in, fe.in.regionOpt()...)
	if err != nil && fe.in.learnRegion(err) {
		out, err = fe.in.api.GetObject(ctx, in, fe.in.regionOpt()...)
	}
	if err != nil {
		f.err = s3Error("get", "s3://"+fe.in.uri.Bucket+"/"+f.obj.key, err)
		return
	}
	var buf []byte
	select {
	case buf = <-fe.free:
	default:
		buf = make([]byte, s3HeadSize)
	}
	n, err := io.ReadFull(out.Body, buf)
	f.head = buf[:n]
	switch {
	case err == nil:
		f.body = out.Body
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		out.Body.Close()
	default:
		out.Body.Close()
		f.err = err
	}
}

// release closes what a fetch holds and gives its slot and buffer back.
func (fe *s3Fetcher) release(f *s3Fetch) {
	if f.body != nil {
		f.body.Close()
		f.body = nil
	}
	if f.head != nil {
		select {
		case fe.free <- f.head[:cap(f.head)]:
		default:
		}
		f.head = nil
	}
	if f.acquired {
		f.acquired = false
		<-fe.sem
	}
}

// s3Progress is what the progress report says about the S3 input being read.
type s3Progress struct {
	lister  *s3Lister
	objects int   // objects done
	bytes0  int64 // runner.bytes when the input started
}

// s3 replays one s3:// input: a lister goroutine lists the objects in replay order, a
// dispatcher starts their GETs a few ahead, and this goroutine evaluates them in order.
func (r *runner) s3(ctx context.Context, arg string) error {
	uri, err := ParseS3URI(arg) // checked by Run already
	if err != nil {
		r.inputError(InputError{File: arg, Err: err})
		return nil
	}
	if r.opts.S3 == nil {
		client, err := NewS3Client(ctx, r.opts.Getenv)
		if err != nil {
			r.inputError(InputError{File: uri.String(), Err: err})
			return nil
		}
		r.opts.S3 = client
	}
	parallel := r.opts.S3Parallel
	if parallel <= 0 {
		parallel = S3Parallel
	}
	in := &s3Input{api: r.opts.S3, uri: uri}
	ctx2, cancel := context.WithCancel(ctx)
	objs := make(chan s3Object, 1024)
	lister := &s3Lister{in: in, win: r.opts.Window, out: objs, rootIdx: map[string]int{}}
	fe := newS3Fetcher(in, parallel)
	fetches := make(chan *s3Fetch, parallel)
	go lister.run(ctx2)
	go fe.dispatch(ctx2, objs, fetches)
	r.s3prog = &s3Progress{lister: lister, bytes0: r.bytes.Load()}
	defer func() {
		cancel()
		for f := range fetches { // drain: every goroutine ends, every body is closed
			<-f.done
			fe.release(f)
		}
		r.stats.Skipped += int(lister.skipped.Load())
		r.s3prog = nil
	}()
	for f := range fetches {
		<-f.done
		switch {
		case f.obj.err != nil:
			r.inputError(InputError{File: errURI(f.obj.err, uri.String()), Err: f.obj.err})
		case f.err != nil:
			fe.release(f)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			r.inputError(InputError{File: errURI(f.err, "s3://"+uri.Bucket+"/"+f.obj.key), Err: f.err})
		case isSnapshotHead(f.head):
			fe.release(f) // an organization snapshot kept beside the events, as in a folder walk
		default:
			err := r.read(ctx, "s3://"+uri.Bucket+"/"+f.obj.key, f.reader())
			fe.release(f)
			r.s3prog.objects++
			r.tick()
			if err != nil {
				return err
			}
		}
	}
	return ctx.Err()
}

// errURI is the URI an S3Error names, else def.
func errURI(err error, def string) string {
	var se *S3Error
	if errors.As(err, &se) && se.URI != "" {
		return se.URI
	}
	return def
}
