package replay

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rootguard/rootguard/internal/cloudtrail"
	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/routing"
)

// rootRecord is a bare CloudTrail record of a root API call, which the prefilter keeps.
func rootRecord(id string) string {
	return fmt.Sprintf(`{"eventVersion":"1.08","userIdentity":{"type":"Root","arn":"arn:aws:iam::444455556666:root","accountId":"444455556666","accessKeyId":"ASIAROOT"},"eventTime":"2024-05-01T12:00:00Z","eventSource":"iam.amazonaws.com","eventName":"ListUsers","awsRegion":"us-east-1","sourceIPAddress":"192.0.2.1","eventID":%q,"readOnly":true,"recipientAccountId":"444455556666"}`, id)
}

// roleRecord is an ordinary record the prefilter drops.
func roleRecord(id string) string {
	return fmt.Sprintf(`{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::444455556666:assumed-role/app/s"},"eventTime":"2024-05-01T12:00:01Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"eu-west-1","eventID":%q,"readOnly":true}`, id)
}

// envelope wraps a record in an EventBridge event.
func envelope(id, detail string) string {
	return fmt.Sprintf(`{"version":"0","id":%q,"detail-type":"AWS API Call via CloudTrail","source":"aws.iam","account":"444455556666","time":"2024-05-01T12:00:00Z","region":"us-east-1","resources":[],"detail":%s}`, id, detail)
}

func gzipped(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	z := gzip.NewWriter(&b)
	if _, err := z.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// writeFiles creates files (path relative to dir -> content) and returns dir.
func writeFiles(t *testing.T, files map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// recorder is a fake rule engine: one finding per event, id from the event id, and the order
// of the events it saw.
type recorder struct {
	seen   []string
	errors []string
}

func (r *recorder) options() Options {
	return r.optionsParallel(false)
}

// optionsParallel is options with gunzipping in a read-ahead goroutine or not.
func (r *recorder) optionsParallel(parallel bool) Options {
	return Options{
		parallel: &parallel,
		Patterns: routing.Patterns(),
		Evaluate: func(ev *cloudtrail.Event) []finding.Finding {
			r.seen = append(r.seen, ev.ID())
			return []finding.Finding{{ID: "f-" + ev.ID(), Rule: "TEST", EventID: ev.ID()}}
		},
		OnInputError: func(e InputError) { r.errors = append(r.errors, e.Error()) },
	}
}

func TestRunShapes(t *testing.T) {
	pretty := func(s string) string {
		var b bytes.Buffer
		for _, c := range s {
			b.WriteRune(c)
			if c == ',' || c == '{' {
				b.WriteString("\n    ")
			}
		}
		return b.String()
	}
	shapes := []struct {
		name  string
		input string
		want  []string
	}{
		{"one EventBridge event", envelope("eb-1", rootRecord("r-1")), []string{"r-1"}},
		{"EventBridge event without eventID", envelope("eb-1", strings.Replace(rootRecord(""), `"eventID":"",`, "", 1)), []string{"eb-1"}},
		{"array of events", "[" + envelope("eb-1", rootRecord("r-1")) + ",\n" + envelope("eb-2", roleRecord("s-2")) + "," + envelope("eb-3", rootRecord("r-3")) + "]", []string{"r-1", "r-3"}},
		{"JSON Lines", rootRecord("r-1") + "\n" + roleRecord("s-2") + "\n" + envelope("eb-3", rootRecord("r-3")) + "\n", []string{"r-1", "r-3"}},
		{"CloudTrail log file", `{"Records":[` + rootRecord("r-1") + "," + roleRecord("s-2") + "," + rootRecord("r-3") + "]}", []string{"r-1", "r-3"}},
		{"Records not the first key", `{"meta":{"n":3},"Records":[` + rootRecord("r-1") + "," + rootRecord("r-2") + `],"digest":"x"}`, []string{"r-1", "r-2"}},
		{"concatenated pretty-printed objects", pretty(rootRecord("r-1")) + "\n" + pretty(envelope("eb-2", rootRecord("r-2"))) + pretty(roleRecord("s-3")), []string{"r-1", "r-2"}},
	}
	for _, sh := range shapes {
		for _, mode := range []string{"plain", "gzip", "gzip read ahead"} {
			name, data, file := sh.name+"/"+mode, []byte(sh.input), "input.json"
			if mode != "plain" {
				data, file = gzipped(t, sh.input), "input.json.gz"
			}
			t.Run(name, func(t *testing.T) {
				dir := writeFiles(t, map[string][]byte{file: data})
				rec := &recorder{}
				stats, err := Run(context.Background(), []string{filepath.Join(dir, file)}, rec.optionsParallel(mode == "gzip read ahead"))
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(sh.want, rec.seen); diff != "" {
					t.Errorf("events evaluated (-want +got):\n%s", diff)
				}
				if len(rec.errors) != 0 || stats.Errors != 0 {
					t.Errorf("errors: %q", rec.errors)
				}
				if stats.Files != 1 || stats.Decoded != len(sh.want) || stats.Findings != len(sh.want) {
					t.Errorf("stats %+v", stats)
				}
			})
		}
	}
}

func TestRunWalksInNameOrder(t *testing.T) {
	dir := writeFiles(t, map[string][]byte{
		"b.json":            []byte(rootRecord("b")),
		"a/2.json":          []byte(rootRecord("a/2")),
		"a/10.json":         []byte(rootRecord("a/10")),
		"a/sub/x.jsonl":     []byte(rootRecord("a/sub/x")),
		"c.jsonl.gz":        gzipped(t, rootRecord("c")),
		"D.JSON":            []byte(rootRecord("D")),
		"e.gz":              gzipped(t, rootRecord("e")),
		".hidden.json":      []byte(rootRecord("hidden")),
		".git/config.json":  []byte(rootRecord("git")),
		"notes.txt":         []byte(rootRecord("txt")),
		"a/readme.md":       []byte("# not read"),
		"plain.json":        []byte(rootRecord("plain")),
		"z/.cache/old.json": []byte(rootRecord("cache")),
		"org.json":          []byte(`{"organization":{"id":"o-1","managementAccountId":"111111111111"},"accounts":[]}`),
	})
	rec := &recorder{}
	paths := []string{dir, filepath.Join(dir, "notes.txt"), filepath.Join(dir, ".hidden.json")}
	stats, err := Run(context.Background(), paths, rec.options())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"D", "a/10", "a/2", "a/sub/x", "b", "c", "e", "plain", "txt", "hidden"}
	if diff := cmp.Diff(want, rec.seen); diff != "" {
		t.Errorf("events in order (-want +got):\n%s", diff)
	}
	if stats.Files != len(want) || len(rec.errors) != 0 {
		t.Errorf("files %d, errors %q", stats.Files, rec.errors)
	}
}

func TestRunDedup(t *testing.T) {
	dir := writeFiles(t, map[string][]byte{
		"1.json":  []byte(rootRecord("r-1") + "\n" + rootRecord("r-2") + "\n" + rootRecord("r-1")),
		"2.jsonl": []byte(envelope("eb-9", rootRecord("r-2")) + "\n" + envelope("eb-9", strings.Replace(rootRecord(""), `"eventID":"",`, "", 1))),
		"3.json":  []byte(envelope("eb-9", strings.Replace(rootRecord(""), `"eventID":"",`, "", 1)) + roleRecord("s-1") + roleRecord("s-1")),
	})
	rec := &recorder{}
	stats, err := Run(context.Background(), []string{dir}, rec.options())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"r-1", "r-2", "eb-9"}, rec.seen); diff != "" {
		t.Errorf("events evaluated (-want +got):\n%s", diff)
	}
	want := Stats{Files: 3, Records: 8, Candidates: 6, Decoded: 6, Duplicates: 3, Findings: 3}
	stats.Bytes = 0
	if diff := cmp.Diff(want, stats); diff != "" {
		t.Errorf("stats (-want +got):\n%s", diff)
	}
}

func TestRunReportsBadInputs(t *testing.T) {
	for _, parallel := range []bool{false, true} {
		t.Run(fmt.Sprintf("read ahead=%v", parallel), func(t *testing.T) { testRunReportsBadInputs(t, parallel) })
	}
}

func testRunReportsBadInputs(t *testing.T, parallel bool) {
	crcContent := "[\n" + rootRecord("c-1") + ",\n" + rootRecord("c-2") + "\n]"
	badCRC := gzipped(t, crcContent)
	badCRC[len(badCRC)-8] ^= 0xff // the CRC-32 in the gzip trailer
	truncated := `{"Records":[` + rootRecord("t-1") + "," + roleRecord("t-2") + "," + rootRecord("t-3")[:40]
	wrongTyped := strings.Replace(rootRecord("w-2"), `"userIdentity":{`, `"userIdentity":"Root","x":{`, 1)
	dir := writeFiles(t, map[string][]byte{
		"1-good.json":        []byte(`{"Records":[` + rootRecord("g-1") + "]}"),
		"2-truncated.json":   []byte(truncated),
		"3-not-event.json":   []byte(`{"hello":"world"}`),
		"4-wrong-type.jsonl": []byte(rootRecord("w-1") + "\n" + wrongTyped + "\n" + rootRecord("w-3") + "\n"),
		"5-not-json.json":    []byte("this is not JSON\n" + rootRecord("n-2")),
		"6-array.json":       []byte(`[` + rootRecord("a-1") + `, 42, ` + roleRecord("a-3") + `, {"eventName":"X"}]`),
		"7-bad-gzip.json.gz": append([]byte{0x1f, 0x8b}, []byte("not really gzip")...),
		"8-good.json.gz":     gzipped(t, rootRecord("g-8")),
		"9-bad-crc.json.gz":  badCRC,
	})
	rec := &recorder{}
	stats, err := Run(context.Background(), []string{dir, filepath.Join(dir, "missing.json")}, rec.optionsParallel(parallel))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"g-1", "t-1", "w-1", "w-3", "n-2", "a-1", "g-8", "c-1", "c-2"}, rec.seen); diff != "" {
		t.Errorf("events evaluated (-want +got):\n%s", diff)
	}
	p := func(name string) string { return filepath.Join(dir, name) }
	want := []string{
		fmt.Sprintf("%s: record 3: not JSON: unexpected end of input at byte %d (line 1); stopped reading the input after 2 records", p("2-truncated.json"), len(truncated)),
		p("3-not-event.json") + ": record 1: not a CloudTrail event: no eventSource or eventName",
		p("4-wrong-type.jsonl") + ": record 2: wrong type: userIdentity is a JSON string where an object belongs",
		p("5-not-json.json") + ": record 1: not JSON: invalid character 'h' in literal true (expecting 'r') at byte 1 (line 1)",
		p("6-array.json") + ": record 2: not a CloudTrail event: a JSON number, not an object",
		p("6-array.json") + ": record 4: not a CloudTrail event: no eventSource",
		p("7-bad-gzip.json.gz") + ": gunzip: gzip: invalid header",
		fmt.Sprintf("%s: record 3: read input at byte %d: gzip: invalid checksum; stopped reading the input after 2 records", p("9-bad-crc.json.gz"), len(crcContent)),
		p("missing.json") + ": stat " + p("missing.json") + ": no such file or directory",
	}
	if diff := cmp.Diff(want, rec.errors); diff != "" {
		t.Errorf("input errors (-want +got):\n%s", diff)
	}
	if stats.Errors != len(want) {
		t.Errorf("stats.Errors = %d, want %d", stats.Errors, len(want))
	}
}

func TestRunSkipsHugeRecord(t *testing.T) {
	for _, parallel := range []bool{false, true} {
		t.Run(fmt.Sprintf("read ahead=%v", parallel), func(t *testing.T) { testRunSkipsHugeRecord(t, parallel) })
	}
}

func testRunSkipsHugeRecord(t *testing.T, parallel bool) {
	huge := strings.Replace(rootRecord("h-1"), `"readOnly"`, `"pad":"`+strings.Repeat("x", cloudtrail.MaxEventBytes)+`","readOnly"`, 1)
	dir := writeFiles(t, map[string][]byte{"big.json.gz": gzipped(t, `{"Records":[`+huge+","+rootRecord("h-2")+"]}")})
	rec := &recorder{}
	stats, err := Run(context.Background(), []string{dir}, rec.optionsParallel(parallel))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"h-2"}, rec.seen); diff != "" {
		t.Errorf("events evaluated (-want +got):\n%s", diff)
	}
	want := []string{fmt.Sprintf("%s: record 1: record too large: %d bytes, more than the 1048576 accepted; skipped", filepath.Join(dir, "big.json.gz"), len(huge))}
	if diff := cmp.Diff(want, rec.errors); diff != "" {
		t.Errorf("input errors (-want +got):\n%s", diff)
	}
	if stats.Records != 2 {
		t.Errorf("stats.Records = %d, want 2", stats.Records)
	}
}

func TestRunStdin(t *testing.T) {
	for _, gz := range []bool{false, true} {
		t.Run(fmt.Sprintf("gzip=%v", gz), func(t *testing.T) {
			input := []byte(rootRecord("s-1") + "\n" + "{bad\n" + rootRecord("s-3") + "\n")
			if gz {
				input = gzipped(t, string(input))
			}
			rec := &recorder{}
			opts := rec.options()
			opts.Stdin = bytes.NewReader(input)
			stats, err := Run(context.Background(), []string{"-"}, opts)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{"s-1", "s-3"}, rec.seen); diff != "" {
				t.Errorf("events evaluated (-want +got):\n%s", diff)
			}
			want := []string{fmt.Sprintf("<stdin>: record 2: not JSON: invalid character 'b' looking for beginning of object key string at byte %d (line 2)", len(rootRecord("s-1"))+2)}
			if diff := cmp.Diff(want, rec.errors); diff != "" {
				t.Errorf("input errors (-want +got):\n%s", diff)
			}
			if stats.Bytes != int64(len(input)) {
				t.Errorf("stats.Bytes = %d, want %d", stats.Bytes, len(input))
			}
		})
	}
}

func TestRunMergesFindings(t *testing.T) {
	var lines []string
	for i, key := range []string{"K1", "K2", "K1", "K3", "K2", "K1"} {
		lines = append(lines, strings.Replace(rootRecord(fmt.Sprintf("e-%d", i)), "ASIAROOT", key, 1))
	}
	dir := writeFiles(t, map[string][]byte{"s.jsonl": []byte(strings.Join(lines, "\n"))})
	var got []finding.Finding
	opts := Options{
		Evaluate: func(ev *cloudtrail.Event) []finding.Finding {
			return []finding.Finding{{ID: "session-" + ev.UserIdentity.AccessKeyID, Calls: []string{ev.EventID}}}
		},
		Merge: func(dst *finding.Finding, src finding.Finding) { dst.Calls = append(dst.Calls, src.Calls...) },
		Emit:  func(f finding.Finding) { got = append(got, f) },
	}
	stats, err := Run(context.Background(), []string{dir}, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := []finding.Finding{
		{ID: "session-K1", Calls: []string{"e-0", "e-2", "e-5"}},
		{ID: "session-K2", Calls: []string{"e-1", "e-4"}},
		{ID: "session-K3", Calls: []string{"e-3"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if stats.Findings != 3 {
		t.Errorf("stats.Findings = %d, want 3", stats.Findings)
	}
}

func TestRunProgress(t *testing.T) {
	var lines []string
	for i := range 1000 {
		lines = append(lines, rootRecord(fmt.Sprintf("p-%d", i)))
	}
	dir := writeFiles(t, map[string][]byte{"p.jsonl": []byte(strings.Join(lines, "\n"))})
	clock := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	rec := &recorder{}
	opts := rec.options()
	opts.now = func() time.Time {
		clock = clock.Add(500 * time.Millisecond) // each look at the clock takes half a second
		return clock
	}
	var reports []Progress
	opts.Progress = func(p Progress) { reports = append(reports, p) }
	if _, err := Run(context.Background(), []string{dir}, opts); err != nil {
		t.Fatal(err)
	}
	// The clock is read at the start and every 64 records: 1 + 16 reads, 8 s in all.
	if len(reports) != 4 {
		t.Fatalf("got %d progress reports, want 4: %+v", len(reports), reports)
	}
	for i, p := range reports {
		if want := time.Duration(i+1) * 2 * time.Second; p.Elapsed != want {
			t.Errorf("report %d after %v, want %v", i, p.Elapsed, want)
		}
		if p.File != filepath.Join(dir, "p.jsonl") || p.Findings != p.Records || p.Records != 64*(4*i+3) || p.Bytes == 0 {
			t.Errorf("report %d: %+v", i, p)
		}
	}
}

func TestRunCancelled(t *testing.T) {
	dir := writeFiles(t, map[string][]byte{"a.json": []byte(rootRecord("a")), "b.json": []byte(rootRecord("b"))})
	ctx, cancel := context.WithCancel(context.Background())
	var emitted []string
	opts := Options{
		Evaluate: func(ev *cloudtrail.Event) []finding.Finding {
			cancel()
			return []finding.Finding{{ID: ev.ID()}}
		},
		Emit: func(f finding.Finding) { emitted = append(emitted, f.ID) },
	}
	_, err := Run(ctx, []string{dir}, opts)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Run: %v, want context.Canceled", err)
	}
	if diff := cmp.Diff([]string{"a"}, emitted); diff != "" {
		t.Errorf("findings emitted (-want +got):\n%s", diff)
	}
}

func TestRunNeedsEvaluate(t *testing.T) {
	if _, err := Run(context.Background(), nil, Options{}); err == nil {
		t.Error("Run without Evaluate: no error")
	}
}

func TestIsInputName(t *testing.T) {
	for name, want := range map[string]bool{
		"a.json": true, "a.jsonl": true, "a.json.gz": true, "a.jsonl.gz": true, "a.gz": true, "A.JSON": true,
		"a.txt": false, "a.json.bak": false, "json": false, "a.ndjson": false,
	} {
		if got := IsInputName(name); got != want {
			t.Errorf("IsInputName(%q) = %v, want %v", name, got, want)
		}
	}
}
