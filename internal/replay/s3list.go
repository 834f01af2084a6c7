package replay

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// s3Object is one object to replay, or a listing error to report in its place.
type s3Object struct {
	key  string
	size int64
	err  error
}

// Folder kinds of the CloudTrail key layout
// AWSLogs/[<org-id>/]<account>/CloudTrail/<region>/YYYY/MM/DD/<file>.json.gz.
const (
	kindPlain = iota // not in the layout's dated part
	kindRoot         // .../CloudTrail/<region>/: its folders are years
	kindYear         // .../YYYY/
	kindMonth        // .../YYYY/MM/
	kindDay          // .../YYYY/MM/DD/ and anything under it
)

// classify says where a folder (a prefix ending with "/", or "") is in the layout, and for the
// dated kinds returns the region folder and the date (the first day of the year or month).
func classify(dir string) (kind int, root string, date time.Time) {
	segs := strings.Split(strings.TrimSuffix(dir, "/"), "/")
	i := len(segs) - 1
	for i >= 0 && segs[i] != "CloudTrail" {
		i--
	}
	if i < 0 || i+1 >= len(segs) {
		return kindPlain, "", time.Time{}
	}
	root = strings.Join(segs[:i+2], "/") + "/"
	parts := segs[i+2:]
	if len(parts) > 3 {
		parts = parts[:3]
	}
	ymd := []int{1, 1, 1}
	for j, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || len(p) != []int{4, 2, 2}[j] || p[0] == '+' || p[0] == '-' {
			return kindPlain, "", time.Time{}
		}
		ymd[j] = n
	}
	date = time.Date(ymd[0], time.Month(ymd[1]), ymd[2], 0, 0, 0, 0, time.UTC)
	if date.Year() != ymd[0] || int(date.Month()) != ymd[1] || date.Day() != ymd[2] {
		return kindPlain, "", time.Time{} // 2024/13 or 2024/02/30
	}
	return kindRoot + len(parts), root, date
}

// spans reports whether [start, end) can hold log files of the window's events.
func (w Window) spans(start, end time.Time) bool {
	return (w.Since.IsZero() || end.After(w.Since)) && (w.Until.IsZero() || !start.After(w.Until.Add(DeliveryMargin)))
}

// s3Lister lists the objects of one S3 input, in replay order: first the objects outside the
// dated layout, in folder-walk order (as a local folder is walked), as the listing finds them; then the dated ones day by day, and
// within a day in key order (so account by account, region by region, file by file). Folders
// of days outside the window are never listed. Memory: the region folders and their days.
type s3Lister struct {
	in  *s3Input
	win Window
	out chan<- s3Object

	roots   []string       // region folders, in key order
	rootIdx map[string]int // region folder -> index in roots
	days    []dayRef       // (day, region folder) pairs to list
	seen    bool           // the prefix holds something

	listed, listedBytes, skipped atomic.Int64
	done                         atomic.Bool
}

// dayRef is one day folder of one region folder.
type dayRef struct {
	day  int32 // days since 1970-01-01
	root int32 // index in roots
}

// errStop ends a listing: the run was cancelled.
var errStop = errors.New("replay: listing stopped")

func (l *s3Lister) run(ctx context.Context) {
	defer close(l.out)
	defer l.done.Store(true)
	prefix := l.in.uri.Prefix
	if kind, _, day := classify(prefix[:strings.LastIndex(prefix, "/")+1]); kind == kindDay {
		if !l.win.spans(day, day.AddDate(0, 0, 1)) { // the prefix is inside one day's folder
			return
		}
		if err := l.flat(ctx, prefix); err != nil {
			l.report(err)
			return
		}
		l.checkSeen()
		return
	}
	if err := l.discover(ctx, prefix); err != nil {
		l.report(err)
		return
	}
	l.checkSeen()
	sort.Slice(l.days, func(i, j int) bool {
		a, b := l.days[i], l.days[j]
		return a.day < b.day || a.day == b.day && a.root < b.root
	})
	for _, d := range l.days {
		day := time.Unix(int64(d.day)*86400, 0).UTC()
		if !l.report(l.flat(ctx, l.roots[d.root]+day.Format("2006/01/02/"))) {
			return
		}
	}
}

// checkSeen reports an input under which nothing at all was found: a mistyped prefix.
func (l *s3Lister) checkSeen() {
	if !l.seen {
		l.out <- s3Object{err: &S3Error{Op: "list", URI: l.in.uri.String(), What: "no objects under this prefix"}}
	}
}

// report sends a listing error (unless nil or a cancellation) and says whether to go on.
func (l *s3Lister) report(err error) bool {
	if err == nil {
		return true
	}
	var se *S3Error
	if errors.As(err, &se) {
		l.out <- s3Object{err: err} // the consumer reads the channel to its end
		return true
	}
	return false
}

// discover walks the folders under prefix with a "/" delimiter, in key order: it sends the
// objects outside the dated layout as it meets them, and notes the region folders' days
// inside the window. A folder that cannot be listed is reported and the walk goes on.
func (l *s3Lister) discover(ctx context.Context, prefix string) error {
	kind, _, _ := classify(prefix[:strings.LastIndex(prefix, "/")+1])
	return l.in.list(ctx, prefix, "/", func(out *s3.ListObjectsV2Output) error {
		// Folders go where a folder walk puts them: by name, "a" before "a-b" (S3 sorts "a/"
		// after "a-b/"), within the page.
		objs, dirs := out.Contents, slices.Clone(out.CommonPrefixes)
		name := func(d types.CommonPrefix) string { return strings.TrimSuffix(aws.ToString(d.Prefix), "/") }
		slices.SortStableFunc(dirs, func(a, b types.CommonPrefix) int { return strings.Compare(name(a), name(b)) })
		for len(objs) > 0 || len(dirs) > 0 {
			l.seen = true
			if len(dirs) == 0 || len(objs) > 0 && aws.ToString(objs[0].Key) < name(dirs[0]) {
				o := objs[0]
				objs = objs[1:]
				if key := aws.ToString(o.Key); isInputKey(key) && !l.send(ctx, s3Object{key: key, size: aws.ToInt64(o.Size)}) {
					return errStop
				}
				continue
			}
			dir := aws.ToString(dirs[0].Prefix)
			dirs = dirs[1:]
			if err := l.folder(ctx, kind, dir); err != nil {
				if !l.report(err) {
					return err
				}
			}
		}
		return nil
	})
}

// folder handles one folder met by discover in a folder of the given kind.
func (l *s3Lister) folder(ctx context.Context, parent int, dir string) error {
	name := path.Base(dir)
	if name == "CloudTrail-Digest" || name == "CloudTrail-Insight" || strings.HasPrefix(name, ".") {
		return nil // digest files are not events; Insights events raise no finding
	}
	kind, root, date := classify(dir)
	switch {
	case kind == kindPlain && parent != kindPlain:
		return l.flat(ctx, dir) // an odd folder among years, months or days: read whole
	case kind == kindPlain, kind == kindRoot:
		return l.discover(ctx, dir)
	case kind == kindYear && l.win.spans(date, date.AddDate(1, 0, 0)),
		kind == kindMonth && l.win.spans(date, date.AddDate(0, 1, 0)):
		return l.discover(ctx, dir)
	case kind == kindDay && l.win.spans(date, date.AddDate(0, 0, 1)):
		i, ok := l.rootIdx[root]
		if !ok {
			i = len(l.roots)
			l.rootIdx[root] = i
			l.roots = append(l.roots, root)
		}
		l.days = append(l.days, dayRef{day: int32(date.Unix() / 86400), root: int32(i)})
	}
	return nil
}

// isInputKey reports whether an object is read: a file name replay reads (IsInputName), not
// hidden, not a folder marker, not a digest file.
func isInputKey(key string) bool {
	name := path.Base(key)
	return !strings.HasSuffix(key, "/") && !strings.HasPrefix(name, ".") && IsInputName(name) &&
		!strings.Contains(key, "/CloudTrail-Digest/")
}

// flat lists every object under prefix in key order and sends those the window keeps.
func (l *s3Lister) flat(ctx context.Context, prefix string) error {
	return l.in.list(ctx, prefix, "", func(out *s3.ListObjectsV2Output) error {
		for _, o := range out.Contents {
			l.seen = true
			key := aws.ToString(o.Key)
			if !isInputKey(key) {
				continue
			}
			if t, ok := fileTime(key); ok && !l.win.deliveredIn(t) {
				l.skipped.Add(1)
				continue
			}
			if !l.send(ctx, s3Object{key: key, size: aws.ToInt64(o.Size)}) {
				return errStop
			}
		}
		return nil
	})
}

// send passes an object on, counting it; false when the run was cancelled.
func (l *s3Lister) send(ctx context.Context, o s3Object) bool {
	l.listed.Add(1)
	l.listedBytes.Add(o.size)
	select {
	case l.out <- o:
		return true
	case <-ctx.Done():
		return false
	}
}

// list calls ListObjectsV2 for every page under prefix. A wrong-region answer naming the
// bucket's region is retried there once, and later calls go there too.
func (in *s3Input) list(ctx context.Context, prefix, delimiter string, page func(*s3.ListObjectsV2Output) error) error {
	input := &s3.ListObjectsV2Input{Bucket: aws.String(in.uri.Bucket), Prefix: aws.String(prefix)}
	if delimiter != "" {
		input.Delimiter = aws.String(delimiter)
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		out, err := in.api.ListObjectsV2(ctx, input, in.regionOpt()...)
		if err != nil && in.learnRegion(err) {
			out, err = in.api.ListObjectsV2(ctx, input, in.regionOpt()...)
		}
		if err != nil {
			return s3Error("list", fmt.Sprintf("s3://%s/%s", in.uri.Bucket, prefix), err)
		}
		if err := page(out); err != nil {
			return err
		}
		if !aws.ToBool(out.IsTruncated) || aws.ToString(out.NextContinuationToken) == "" {
			return nil
		}
		input.ContinuationToken = out.NextContinuationToken
	}
}
