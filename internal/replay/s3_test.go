package replay

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rootguard/rootguard/events"
	"github.com/rootguard/rootguard/internal/cloudtrail"
	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/org"
	"github.com/rootguard/rootguard/internal/routing"
	"github.com/rootguard/rootguard/internal/rule"
)

const testBucket = "trail-archive"

// archiveOnce generates testArchive once for the package's tests.
var archiveOnce = sync.OnceValue(func() []archiveFile { return testArchive.generate(42) })

// engineRun is a replay through the real rule engine (stateful, as the CLI runs it), recording
// the findings, the ids of the events evaluated in order, and the input errors.
type engineRun struct {
	findings []finding.Finding
	events   []string
	errors   []string
	opts     Options
}

func newEngineRun(t testing.TB) *engineRun {
	t.Helper()
	eng, err := rule.NewEngine(rule.Config{StaxDomains: []string{"stax.example"}})
	if err != nil {
		t.Fatal(err)
	}
	facts, err := org.LoadSnapshot(bytes.NewReader(events.Org()))
	if err != nil {
		t.Fatal(err)
	}
	rep := eng.NewReplayer(facts)
	er := &engineRun{}
	er.opts = Options{
		Evaluate: func(ev *cloudtrail.Event) []finding.Finding {
			er.events = append(er.events, ev.ID())
			return rep.Evaluate(ev)
		},
		Merge:        rule.Merge,
		Emit:         func(f finding.Finding) { er.findings = append(er.findings, f) },
		Patterns:     routing.Patterns(),
		OnInputError: func(e InputError) { er.errors = append(er.errors, e.Error()) },
	}
	return er
}

// setup puts the archive in the fake bucket and on disk.
func setup(t *testing.T) (*fakeS3, []archiveFile, string) {
	t.Helper()
	files := archiveOnce()
	fake := newFakeS3(t)
	fake.put(t, testBucket, files)
	dir := t.TempDir()
	writeArchive(t, dir, files)
	return fake, files, dir
}

func TestS3SameFindingsAsDisk(t *testing.T) {
	fake, files, dir := setup(t)
	disk := newEngineRun(t)
	diskStats, err := Run(context.Background(), replayOrder(dir, files, nil), disk.opts)
	if err != nil || len(disk.errors) > 0 {
		t.Fatalf("disk replay: %v %q", err, disk.errors)
	}
	if diskStats.Files != 96 || diskStats.Records != 96*300 || len(disk.findings) == 0 {
		t.Fatalf("disk replay read %+v, %d findings: the archive is not what the test expects", diskStats, len(disk.findings))
	}
	for _, uri := range []string{"s3://" + testBucket + "/AWSLogs/", "s3://" + testBucket, "s3://" + testBucket + "/AWSLogs/" + archiveOrg + "/"} {
		t.Run(uri, func(t *testing.T) {
			fake.counts()
			fake.getDelay = 5 * time.Millisecond
			run := newEngineRun(t)
			run.opts.S3 = fake.client("us-east-1")
			stats, err := Run(context.Background(), []string{uri}, run.opts)
			if err != nil || len(run.errors) > 0 {
				t.Fatalf("S3 replay: %v %q", err, run.errors)
			}
			if diff := cmp.Diff(disk.findings, run.findings); diff != "" {
				t.Errorf("findings differ from the disk replay's (-disk +s3):\n%s", diff)
			}
			if !slices.Equal(disk.events, run.events) {
				t.Errorf("events evaluated in another order than the disk replay's (%d and %d events)", len(disk.events), len(run.events))
			}
			if stats != diskStats {
				t.Errorf("stats %+v, disk replay's %+v", stats, diskStats)
			}
			lists, gets, maxGets := fake.counts()
			if len(gets) != 96 {
				t.Errorf("%d GETs, want one per log file (96) and none for digests", len(gets))
			}
			if maxGets < 2 || maxGets > S3Parallel {
				t.Errorf("at most %d GETs at once, want 2..%d", maxGets, S3Parallel)
			}
			t.Logf("%d LISTs, %d GETs (at most %d at once), %d findings", len(lists), len(gets), maxGets, len(run.findings))
		})
	}
}

func TestS3WindowPrunes(t *testing.T) {
	fake, files, dir := setup(t)
	for _, tt := range []struct {
		since, until string
		fetched      func(day string, delivered time.Duration) bool // which files are fetched
		skipped      int                                            // listed, not fetched
		unlisted     []string                                       // day folders never listed
		month        string                                         // a month folder never listed
	}{
		{"2024-05-01", "2024-05-01", func(day string, h time.Duration) bool {
			return day == "2024/05/01" || day == "2024/05/02" && h < time.Hour // delivered within DeliveryMargin
		}, 6 * 3, []string{"2024/04/30", "2024/05/03"}, "2024/04/"},
		{"2024-05-02T05:00:00Z", "2024-05-02T13:00:00Z", func(day string, h time.Duration) bool {
			return day == "2024/05/02" && h >= 6*time.Hour && h <= 12*time.Hour
		}, 6 * 2, []string{"2024/04/30", "2024/05/01", "2024/05/03"}, "2024/04/"},
		{"2024-05-03", "", func(day string, h time.Duration) bool { return day == "2024/05/03" }, 0,
			[]string{"2024/04/30", "2024/05/01", "2024/05/02"}, "2024/04/"},
		{"", "2024-04-30T12:00:00Z", func(day string, h time.Duration) bool { return day == "2024/04/30" && h <= 12*time.Hour }, 6, []string{"2024/05/01", "2024/05/02"}, "2024/05/"},
	} {
		t.Run(tt.since+".."+tt.until, func(t *testing.T) {
			win, err := ParseWindow(tt.since, tt.until)
			if err != nil {
				t.Fatal(err)
			}
			fake.counts()
			run := newEngineRun(t)
			run.opts.S3 = fake.client("us-east-1")
			run.opts.Window = win
			stats, err := Run(context.Background(), []string{"s3://" + testBucket + "/AWSLogs/"}, run.opts)
			if err != nil || len(run.errors) > 0 {
				t.Fatalf("S3 replay: %v %q", err, run.errors)
			}
			lists, gets, _ := fake.counts()
			var want []string
			for _, a := range files {
				m := keyDate.FindStringSubmatch(a.key)
				if m == nil {
					continue
				}
				ft, _ := fileTime(a.key)
				day, _ := time.Parse("2006/01/02", m[1])
				if tt.fetched(m[1], ft.Sub(day)) {
					want = append(want, a.key)
				}
			}
			slices.Sort(want)
			slices.Sort(gets)
			if diff := cmp.Diff(want, gets); diff != "" {
				t.Errorf("GETs (-want +got):\n%s", diff)
			}
			if stats.Skipped != tt.skipped {
				t.Errorf("%d objects listed and skipped, want %d", stats.Skipped, tt.skipped)
			}
			for _, l := range lists {
				if m := keyDate.FindStringSubmatch(l); m != nil && slices.Contains(tt.unlisted, m[1]) || strings.HasSuffix(l, "/"+tt.month) {
					t.Errorf("listed %q, outside the window", l)
				}
			}
			// The same window over every file on disk gives the same findings.
			disk := newEngineRun(t)
			disk.opts.Window = win
			if _, err := Run(context.Background(), replayOrder(dir, files, nil), disk.opts); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(disk.findings, run.findings); diff != "" {
				t.Errorf("findings differ from the disk replay's with the same window (-disk +s3):\n%s", diff)
			}
			if !slices.Equal(disk.events, run.events) {
				t.Errorf("events differ from the disk replay's with the same window")
			}
			t.Logf("%d LISTs, %d GETs, %d events outside the window, %d findings", len(lists), len(gets), stats.OutsideWindow, len(run.findings))
		})
	}
}

func TestS3ErrorsAndTheRest(t *testing.T) {
	fake, files, dir := setup(t)
	corrupt := "AWSLogs/" + archiveOrg + "/222222222222/CloudTrail/us-east-1/2024/05/01/222222222222_CloudTrail_us-east-1_20240501T0900Z_corrupt.json.gz"
	fake.put(t, testBucket, []archiveFile{{key: corrupt, data: []byte("\x1f\x8bnot really gzip")}})
	denied := files[5].key
	fake.deny[denied] = "AccessDenied"

	run := newEngineRun(t)
	run.opts.S3 = fake.client("us-east-1")
	stats, err := Run(context.Background(), []string{"s3://" + testBucket + "/AWSLogs/"}, run.opts)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"s3://" + testBucket + "/" + denied + ": get: access denied (AccessDenied Access Denied): rootguard needs s3:GetObject on the key, and kms:Decrypt on its KMS key for SSE-KMS objects",
		"s3://" + testBucket + "/" + corrupt + ": gunzip: ",
	}
	if len(run.errors) != 2 {
		t.Fatalf("input errors %q, want the denied and the corrupt object", run.errors)
	}
	for i, w := range want {
		if !strings.HasPrefix(run.errors[i], w) {
			t.Errorf("error %d = %q, want it to start with %q", i, run.errors[i], w)
		}
	}
	// Everything else is evaluated, as from disk without the two objects.
	disk := newEngineRun(t)
	if _, err := Run(context.Background(), replayOrder(dir, files, func(k string) bool { return k != denied }), disk.opts); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(disk.findings, run.findings); diff != "" {
		t.Errorf("findings differ from the disk replay of the readable objects (-disk +s3):\n%s", diff)
	}
	if stats.Records != 95*300 || stats.Errors != 2 || stats.Files != 96 {
		t.Errorf("stats %+v, want 95 files of 300 records read, the corrupt one opened, 2 errors", stats)
	}
}

func TestS3InputErrors(t *testing.T) {
	fake := newFakeS3(t)
	fake.put(t, testBucket, []archiveFile{{key: "AWSLogs/a.json", data: []byte(rootRecord("a"))}})
	for _, tt := range []struct{ uri, want string }{
		{"s3://no-such-bucket/AWSLogs/", "s3://no-such-bucket/AWSLogs/: list: no such bucket"},
		{"s3://" + testBucket + "/Logs/", "s3://" + testBucket + "/Logs/: list: no objects under this prefix"},
	} {
		run := newEngineRun(t)
		run.opts.S3 = fake.client("us-east-1")
		stats, err := Run(context.Background(), []string{tt.uri, "s3://" + testBucket + "/AWSLogs/"}, run.opts)
		if err != nil {
			t.Fatal(err)
		}
		if len(run.errors) != 1 || run.errors[0] != tt.want {
			t.Errorf("%s: errors %q, want %q", tt.uri, run.errors, tt.want)
		}
		if stats.Decoded != 1 || len(run.findings) == 0 {
			t.Errorf("%s: the next input was not evaluated: %+v", tt.uri, stats)
		}
	}
	for _, tt := range []struct{ uri, want string }{
		{"s3://", `bad S3 URI "s3://": no bucket name`},
		{"s3:///AWSLogs/", `no bucket name`},
		{"s3://Trail_Archive/AWSLogs/", `"Trail_Archive" is not a valid bucket name`},
		{"S3://ab/", `"ab" is not a valid bucket name`},
	} {
		_, err := Run(context.Background(), []string{"events/", tt.uri}, Options{Evaluate: func(*cloudtrail.Event) []finding.Finding { return nil }})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one with %q", tt.uri, err, tt.want)
		}
	}
}

func TestS3RegionRedirect(t *testing.T) {
	fake := newFakeS3(t)
	fake.put(t, testBucket, archiveOnce()[:8])
	fake.region = "eu-west-1"
	run := newEngineRun(t)
	run.opts.S3 = fake.client("us-east-1")
	stats, err := Run(context.Background(), []string{"s3://" + testBucket + "/"}, run.opts)
	if err != nil || len(run.errors) > 0 {
		t.Fatalf("%v %q", err, run.errors)
	}
	if stats.Files != 8 {
		t.Errorf("read %d objects, want 8 (after the redirect to the bucket's region)", stats.Files)
	}
}

func TestS3ClientFromEnvironment(t *testing.T) {
	fake := newFakeS3(t)
	fake.put(t, testBucket, archiveOnce()[:4])
	home := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "AKIAFAKE", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "",
		"AWS_PROFILE": "", "AWS_CONFIG_FILE": filepath.Join(home, "config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(home, "credentials"),
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL_S3": "", "AWS_ENDPOINT_URL": "", "AWS_REGION": "", "AWS_DEFAULT_REGION": "",
	} {
		t.Setenv(k, v)
	}
	env := map[string]string{"AWS_ENDPOINT_URL_S3": fake.srv.URL, "AWS_REGION": "eu-west-1"}
	run := newEngineRun(t)
	run.opts.Getenv = func(k string) string { return env[k] }
	stats, err := Run(context.Background(), []string{"s3://" + testBucket + "/AWSLogs/"}, run.opts)
	if err != nil || len(run.errors) > 0 {
		t.Fatalf("%v %q", err, run.errors)
	}
	if stats.Files != 4 {
		t.Errorf("read %d objects through AWS_ENDPOINT_URL_S3, want 4", stats.Files)
	}
}

func TestS3Cancelled(t *testing.T) {
	fake, _, _ := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	run := newEngineRun(t)
	run.opts.S3 = fake.client("us-east-1")
	evaluate := run.opts.Evaluate
	run.opts.Evaluate = func(ev *cloudtrail.Event) []finding.Finding {
		cancel()
		return evaluate(ev)
	}
	done := make(chan struct{})
	var stats Stats
	var err error
	go func() {
		defer close(done)
		stats, err = Run(ctx, []string{"s3://" + testBucket + "/"}, run.opts)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after the context was cancelled")
	}
	if !errors.Is(err, context.Canceled) || stats.Files > S3Parallel+1 {
		t.Errorf("Run = %v after %d objects, want context.Canceled after the first", err, stats.Files)
	}
}

func TestS3Progress(t *testing.T) {
	fake, _, _ := setup(t)
	run := newEngineRun(t)
	run.opts.S3 = fake.client("us-east-1")
	clock := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	run.opts.now = func() time.Time { clock = clock.Add(300 * time.Millisecond); return clock }
	run.opts.ProgressEvery = time.Second
	var reports []Progress
	run.opts.Progress = func(p Progress) { reports = append(reports, p) }
	if _, err := Run(context.Background(), []string{"s3://" + testBucket + "/AWSLogs/"}, run.opts); err != nil {
		t.Fatal(err)
	}
	if len(reports) < 10 {
		t.Fatalf("%d progress reports, want many", len(reports))
	}
	for i, p := range reports {
		if p.Objects > p.ObjectsTotal || p.ObjectsBytes > p.BytesTotal || p.ObjectsTotal == 0 || !strings.HasPrefix(p.File, "s3://"+testBucket+"/AWSLogs/") {
			t.Errorf("report %d: %+v", i, p)
		}
		if i > 0 && p.Elapsed-reports[i-1].Elapsed < time.Second {
			t.Errorf("reports %d and %d %v apart, want at least a second", i-1, i, p.Elapsed-reports[i-1].Elapsed)
		}
	}
	if last := reports[len(reports)-1]; last.ObjectsTotal != 96 || last.Objects < 90 {
		t.Errorf("last report %+v, want 96 objects listed and nearly all done", last)
	}
}

func TestParseWindow(t *testing.T) {
	day := func(s string) time.Time { t, _ := time.Parse(time.RFC3339Nano, s); return t }
	for _, tt := range []struct {
		since, until string
		want         Window
		err          string
	}{
		{"", "", Window{}, ""},
		{"2024-05-01", "2024-05-02", Window{day("2024-05-01T00:00:00Z"), day("2024-05-02T23:59:59.999999999Z")}, ""},
		{"2024-05-01T10:00:00+02:00", "", Window{Since: day("2024-05-01T08:00:00Z")}, ""},
		{"yesterday", "", Window{}, `--since "yesterday": want a date (2024-05-01) or an RFC 3339 time`},
		{"", "2024-13-01", Window{}, `--until "2024-13-01"`},
		{"2024-05-02", "2024-05-01", Window{}, "--since 2024-05-02 is after --until 2024-05-01"},
	} {
		got, err := ParseWindow(tt.since, tt.until)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseWindow(%q, %q) error %v, want %q", tt.since, tt.until, err, tt.err)
			}
			continue
		}
		if err != nil || !got.Since.Equal(tt.want.Since) || !got.Until.Equal(tt.want.Until) {
			t.Errorf("ParseWindow(%q, %q) = %v, %v; want %v", tt.since, tt.until, got, err, tt.want)
		}
	}
	w := Window{Since: day("2024-05-01T00:00:00Z"), Until: day("2024-05-01T23:59:59Z")}
	for ts, want := range map[string]bool{"2024-05-01T00:00:00Z": true, "2024-04-30T23:59:59Z": false, "2024-05-02T00:00:00Z": false, "": true, "not a time": true} {
		if w.Contains(ts) != want {
			t.Errorf("Contains(%q) = %v, want %v", ts, !want, want)
		}
	}
}

func TestClassify(t *testing.T) {
	for dir, want := range map[string]int{
		"":                                       kindPlain,
		"AWSLogs/":                               kindPlain,
		"AWSLogs/o-1/111/CloudTrail/":            kindPlain,
		"AWSLogs/o-1/111/CloudTrail/eu-west-1/":  kindRoot,
		"AWSLogs/111/CloudTrail/eu-west-1/2024/": kindYear,
		"AWSLogs/111/CloudTrail/eu-west-1/2024/05/":           kindMonth,
		"AWSLogs/111/CloudTrail/eu-west-1/2024/05/31/":        kindDay,
		"AWSLogs/111/CloudTrail/eu-west-1/2024/05/31/x/":      kindDay,
		"AWSLogs/111/CloudTrail/eu-west-1/2024/02/30/":        kindPlain,
		"AWSLogs/111/CloudTrail/eu-west-1/2024/13/":           kindPlain,
		"AWSLogs/111/CloudTrail/eu-west-1/latest/":            kindPlain,
		"AWSLogs/111/CloudTrail-Digest/eu-west-1/2024/05/01/": kindPlain,
	} {
		if got, _, _ := classify(dir); got != want {
			t.Errorf("classify(%q) = %d, want %d", dir, got, want)
		}
	}
}

// TestS3OutsideTheLayout replays the samples (events/, not in the CloudTrail layout, with the
// organization snapshot beside them) from S3 and from disk (a copy of the events package's).
func TestS3OutsideTheLayout(t *testing.T) {
	var files []archiveFile
	err := fs.WalkDir(events.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(events.FS, p)
		files = append(files, archiveFile{key: "exports/events/" + p, data: data})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	fake := newFakeS3(t)
	fake.put(t, testBucket, files)
	top := t.TempDir()
	dir := filepath.Join(top, "events")
	if err := events.CopyTo(dir); err != nil {
		t.Fatal(err)
	}
	disk := newEngineRun(t)
	diskStats, err := Run(context.Background(), []string{dir}, disk.opts)
	if err != nil {
		t.Fatal(err)
	}
	run := newEngineRun(t)
	run.opts.S3 = fake.client("us-east-1")
	stats, err := Run(context.Background(), []string{"s3://" + testBucket + "/exports/events/"}, run.opts)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(disk.errors, stripPrefix(run.errors, "s3://"+testBucket+"/exports/", top+string(filepath.Separator))); diff != "" {
		t.Errorf("input errors (-disk +s3):\n%s", diff)
	}
	if diff := cmp.Diff(disk.findings, run.findings); diff != "" {
		t.Errorf("findings differ from the folder replay's (-disk +s3):\n%s", diff)
	}
	if stats.Files != diskStats.Files || stats.Decoded != diskStats.Decoded || len(run.findings) < 50 {
		t.Errorf("stats %+v, disk replay's %+v", stats, diskStats)
	}
}

func stripPrefix(list []string, old, new string) []string {
	var out []string
	for _, s := range list {
		out = append(out, strings.Replace(s, old, new, 1))
	}
	return out
}

func TestS3ArchivedObject(t *testing.T) {
	fake := newFakeS3(t)
	files := archiveOnce()[:3]
	fake.put(t, testBucket, files)
	fake.deny[files[1].key] = "InvalidObjectState"
	run := newEngineRun(t)
	run.opts.S3 = fake.client("us-east-1")
	stats, err := Run(context.Background(), []string{"s3://" + testBucket + "/"}, run.opts)
	if err != nil {
		t.Fatal(err)
	}
	want := "s3://" + testBucket + "/" + files[1].key + ": get: the object is archived (Glacier or Deep Archive): restore it first"
	if len(run.errors) != 1 || run.errors[0] != want || stats.Files != 2 {
		t.Errorf("errors %q after %d objects, want %q and the 2 others read", run.errors, stats.Files, want)
	}
}

// TestS3LargeObjects replays objects larger than the read-ahead head, whose rest streams from
// the open response when their turn comes.
func TestS3LargeObjects(t *testing.T) {
	files := archive{
		accounts: []string{"111111111111"}, regions: []string{"eu-west-1", "us-east-1"},
		days: testArchive.days[:2], hours: []time.Duration{time.Hour, 2 * time.Hour}, records: 3000,
	}.generate(9)
	for _, f := range files {
		if len(f.data) <= s3HeadSize && keyDate.MatchString(f.key) {
			t.Fatalf("%s is %d bytes, want more than the %d-byte head", f.key, len(f.data), s3HeadSize)
		}
	}
	fake := newFakeS3(t)
	fake.put(t, testBucket, files)
	dir := t.TempDir()
	writeArchive(t, dir, files)
	disk := newEngineRun(t)
	diskStats, err := Run(context.Background(), replayOrder(dir, files, nil), disk.opts)
	if err != nil {
		t.Fatal(err)
	}
	run := newEngineRun(t)
	run.opts.S3 = fake.client("us-east-1")
	run.opts.S3Parallel = 3
	stats, err := Run(context.Background(), []string{"s3://" + testBucket + "/"}, run.opts)
	if err != nil || len(run.errors) > 0 {
		t.Fatalf("%v %q", err, run.errors)
	}
	if stats != diskStats || stats.Records != 8*3000 {
		t.Errorf("stats %+v, disk replay's %+v", stats, diskStats)
	}
	if diff := cmp.Diff(disk.findings, run.findings); diff != "" {
		t.Errorf("findings (-disk +s3):\n%s", diff)
	}
}
