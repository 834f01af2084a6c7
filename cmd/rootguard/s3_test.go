package main

import (
	"bytes"
	"flag"
	"io"
	"io/fs"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/rootguard/rootguard/events"
	"github.com/rootguard/rootguard/internal/replay"
)

// s3Env serves the samples (the events package's events/) from an in-process S3 under s3://samples-bucket/exports/
// and returns the environment that points rootguard at it.
func s3Env(t *testing.T) map[string]string {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket("samples-bucket"); err != nil {
		t.Fatal(err)
	}
	err := fs.WalkDir(events.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(events.FS, p)
		if err != nil {
			return err
		}
		_, err = backend.PutObject("samples-bucket", "exports/events/"+p, map[string]string{}, bytes.NewReader(data), int64(len(data)), nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	home := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "AKIAFAKE", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "", "AWS_PROFILE": "",
		"AWS_CONFIG_FILE": filepath.Join(home, "config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(home, "credentials"),
		"AWS_EC2_METADATA_DISABLED": "true",
	} {
		t.Setenv(k, v)
	}
	return map[string]string{"AWS_ENDPOINT_URL_S3": srv.URL, "AWS_REGION": "eu-west-1"}
}

func TestReplayS3(t *testing.T) {
	env := s3Env(t)
	args := []string{"replay", "--org", "../../events/org.json", "--stax-domains", "stax.example", "--format", "json"}
	code, want, errOut := runCLI(t, nil, "", append(args, "../../events")...)
	if code != exitOK {
		t.Fatalf("replay of the folder: exit %d: %s", code, errOut)
	}
	code, got, errOut := runCLI(t, env, "", append(args, "s3://samples-bucket/exports/events/")...)
	if code != exitOK {
		t.Fatalf("replay from S3: exit %d: %s", code, errOut)
	}
	if got != want {
		t.Errorf("replay from S3 differs from the folder's:\nS3:\n%.2000s\nfolder:\n%.2000s", got, want)
	}
	// A window that holds none of the samples' events.
	code, got, errOut = runCLI(t, env, "", append(args, "--since", "1999-01-01", "--until", "1999-12-31T23:59:59Z", "s3://samples-bucket/exports/events/")...)
	if code != exitOK || got != "" {
		t.Errorf("empty window: exit %d, output %q, stderr %s", code, got, errOut)
	}
	code, _, errOut = runCLI(t, env, "", "replay", "--org", "../../events/org.json", "--until", "1999-12-31", "s3://samples-bucket/exports/events/")
	if code != exitOK || !strings.Contains(errOut, "window: ") || strings.Contains(errOut, "window: 0 events") {
		t.Errorf("empty window, text: exit %d, stderr %s", code, errOut)
	}
}

func TestReplayS3Errors(t *testing.T) {
	env := s3Env(t)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"s3://missing-bucket/AWSLogs/"}, "rootguard replay: s3://missing-bucket/AWSLogs/: list: no such bucket"},
		{[]string{"s3://Samples_Bucket/"}, `rootguard replay: bad S3 URI "s3://Samples_Bucket/": "Samples_Bucket" is not a valid bucket name`},
		{[]string{"s3://"}, `bad S3 URI "s3://": no bucket name`},
		{[]string{"--since", "last week", "s3://samples-bucket/"}, `--since "last week": want a date (2024-05-01) or an RFC 3339 time`},
		{[]string{"--since", "2024-05-02", "--until", "2024-05-01", "s3://samples-bucket/"}, "--since 2024-05-02 is after --until 2024-05-01"},
	} {
		code, _, errOut := runCLI(t, env, "", append([]string{"replay", "--quiet"}, tt.args...)...)
		if code != exitUsage || !strings.Contains(errOut, tt.want) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", tt.args, code, errOut, tt.want)
		}
	}
	// The window also comes from the environment.
	env["ROOTGUARD_SINCE"] = "yesterday"
	if code, _, errOut := runCLI(t, env, "", "replay", "s3://samples-bucket/"); code != exitUsage || !strings.Contains(errOut, `ROOTGUARD_SINCE="yesterday"`) && !strings.Contains(errOut, `--since "yesterday"`) {
		t.Errorf("ROOTGUARD_SINCE=yesterday: exit %d, stderr %q", code, errOut)
	}
}

func TestProgressOnlyWhenAsked(t *testing.T) {
	for _, tt := range []struct {
		args  []string
		quiet bool
		want  bool
	}{
		{nil, false, false}, // stderr is not a terminal
		{[]string{"--progress"}, false, true},
		{[]string{"--progress"}, true, false},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		var in inputFlags
		in.register(fs)
		if err := fs.Parse(tt.args); err != nil {
			t.Fatal(err)
		}
		var opts replay.Options
		if err := in.apply(env{stderr: io.Discard, getenv: func(string) string { return "" }}, "replay", tt.quiet, &opts); err != nil {
			t.Fatal(err)
		}
		if got := opts.Progress != nil; got != tt.want || got && opts.ProgressEvery != time.Second {
			t.Errorf("%q quiet=%v: progress %v every %v, want %v every second", tt.args, tt.quiet, got, opts.ProgressEvery, tt.want)
		}
	}
	line := progressLine(replay.Progress{Records: 1200, Findings: 3, File: "s3://b/k.json.gz", Elapsed: 4 * time.Second,
		Objects: 12, ObjectsTotal: 40, ObjectsBytes: 1_500_000, BytesTotal: 6_000_000, Listing: true})
	if want := "12/40+ objects, 1.5/6.0+ MB, 1200 records, 3 findings, s3://b/k.json.gz (4s)"; line != want {
		t.Errorf("progress line %q, want %q", line, want)
	}
}
