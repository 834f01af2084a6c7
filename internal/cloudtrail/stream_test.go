package cloudtrail

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

// item is one result of Stream.Next, for comparisons.
type item struct {
	Rec   string // the record's bytes, or "" for an error
	Index int
	Line  int
	Err   string // a substring of the error
	Fatal bool
}

// readers returns the ways the tests feed an input to a Stream: whole, one byte per read, and
// through a tiny window that must move and grow.
func readers(data string) map[string]func() *Stream {
	return map[string]func() *Stream{
		"whole":    func() *Stream { return NewStream(strings.NewReader(data)) },
		"one byte": func() *Stream { return NewStream(iotest.OneByteReader(strings.NewReader(data))) },
		"tiny window": func() *Stream {
			return newStreamSize(iotest.HalfReader(strings.NewReader(data)), 8, 3)
		},
	}
}

// collect reads a stream to its end. Errors are kept with their full text in Err.
func collect(t *testing.T, s *Stream) []item {
	t.Helper()
	var out []item
	for range 100000 {
		rec, err := s.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			var re *RecordError
			if !errors.As(err, &re) {
				t.Fatalf("Next returned %T %v, want a *RecordError", err, err)
			}
			out = append(out, item{Index: re.Index, Line: re.Line, Err: re.Err.Error(), Fatal: re.Fatal})
			continue
		}
		out = append(out, item{Rec: string(rec.Bytes), Index: rec.Index, Line: rec.Line})
	}
	t.Fatal("Next did not reach the end of the input")
	return nil
}

// matchErrors replaces each got error text by the wanted substring when it contains it, so that
// cmp.Diff shows only real differences.
func matchErrors(got, want []item) []item {
	out := append([]item(nil), got...)
	for i := range out {
		if i < len(want) && want[i].Err != "" && strings.Contains(out[i].Err, want[i].Err) {
			out[i].Err = want[i].Err
		}
	}
	return out
}

const prettyEvent = `{
  "version": "0",
  "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
  "detail-type": "AWS Console Sign In via CloudTrail",
  "detail": {
    "userIdentity": {"type": "Root"},
    "eventSource": "signin.amazonaws.com",
    "eventName": "ConsoleLogin"
  }
}`

func TestStreamShapes(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []item
	}{
		{"one EventBridge event", prettyEvent, []item{{Rec: prettyEvent, Index: 1, Line: 1}}},
		{"one event after blank lines", "\n\n  " + prettyEvent + "\n", []item{{Rec: prettyEvent, Index: 1, Line: 3}}},
		{"array", ` [ {"a":1} ,{"b":[2, {"c":"]"}]}, "x", 3.5e2, null ] `, []item{
			{Rec: `{"a":1}`, Index: 1, Line: 1}, {Rec: `{"b":[2, {"c":"]"}]}`, Index: 2, Line: 1},
			{Rec: `"x"`, Index: 3, Line: 1}, {Rec: `3.5e2`, Index: 4, Line: 1}, {Rec: `null`, Index: 5, Line: 1},
		}},
		{"pretty array", "[\n  {\"a\": 1},\n  {\"b\": 2}\n]\n", []item{{Rec: `{"a": 1}`, Index: 1, Line: 2}, {Rec: `{"b": 2}`, Index: 2, Line: 3}}},
		{"JSON Lines", "{\"a\":1}\n{\"b\":2}\r\n\n{\"c\":\"\\n\\\"}\"}\n", []item{
			{Rec: `{"a":1}`, Index: 1, Line: 1}, {Rec: `{"b":2}`, Index: 2, Line: 2}, {Rec: `{"c":"\n\"}"}`, Index: 3, Line: 4},
		}},
		{"JSON Lines without final newline", "{\"a\":1}\n{\"b\":2}", []item{{Rec: `{"a":1}`, Index: 1, Line: 1}, {Rec: `{"b":2}`, Index: 2, Line: 2}}},
		{"concatenated pretty objects", prettyEvent + "\n" + prettyEvent + prettyEvent, []item{
			{Rec: prettyEvent, Index: 1, Line: 1}, {Rec: prettyEvent, Index: 2, Line: 11}, {Rec: prettyEvent, Index: 3, Line: 20},
		}},
		{"Records file", `{"Records":[{"eventName":"A"},{"eventName":"B"}]}`, []item{
			{Rec: `{"eventName":"A"}`, Index: 1, Line: 1}, {Rec: `{"eventName":"B"}`, Index: 2, Line: 1},
		}},
		{"Records not the first key", `{"x":{"Records":[9]}, "n": [1,{"Records":[8]}],` + "\n" + ` "Records" : [ {"a":1} , {"b":2} ], "after": {"Records": [7]}}`, []item{
			{Rec: `{"a":1}`, Index: 1, Line: 2}, {Rec: `{"b":2}`, Index: 2, Line: 2},
		}},
		{"two Records members", `{"Records":[1],"Records":[2,3]}`, []item{{Rec: "1", Index: 1, Line: 1}, {Rec: "2", Index: 2, Line: 1}, {Rec: "3", Index: 3, Line: 1}}},
		{"Records key with escapes", `{"Rec\u006frds":[1]}`, []item{{Rec: "1", Index: 1, Line: 1}}},
		{"Records not an array", `{"Records":{"a":1},"b":2}`, []item{{Rec: `{"Records":{"a":1},"b":2}`, Index: 1, Line: 1}}},
		{"records key in another case", `{"records":[1]}`, []item{{Rec: `{"records":[1]}`, Index: 1, Line: 1}}},
		{"empty Records", `{"Records":[]}` + "\n" + `{"Records":[ ]}`, nil},
		{"Records file then JSON Lines", "{\"Records\":[1]}\n{\"a\":1}\n[2]", []item{
			{Rec: "1", Index: 1, Line: 1}, {Rec: `{"a":1}`, Index: 2, Line: 2}, {Rec: "2", Index: 3, Line: 3},
		}},
		{"empty input", "", nil},
		{"whitespace only", " \n\t\r\n", nil},
		{"empty array", "[]", nil},
		{"empty object", "{}", []item{{Rec: "{}", Index: 1, Line: 1}}},
		{"byte order mark", "\xEF\xBB\xBF{\"a\":1}", []item{{Rec: `{"a":1}`, Index: 1, Line: 1}}},
		{"scalars", `1 -0.5e+3 true false null "s"`, []item{
			{Rec: "1", Index: 1, Line: 1}, {Rec: "-0.5e+3", Index: 2, Line: 1}, {Rec: "true", Index: 3, Line: 1},
			{Rec: "false", Index: 4, Line: 1}, {Rec: "null", Index: 5, Line: 1}, {Rec: `"s"`, Index: 6, Line: 1},
		}},
		{"values without separators", `{"a":1}{"b":2}[3][4]"x"0 1`, []item{
			{Rec: `{"a":1}`, Index: 1, Line: 1}, {Rec: `{"b":2}`, Index: 2, Line: 1}, {Rec: "3", Index: 3, Line: 1},
			{Rec: "4", Index: 4, Line: 1}, {Rec: `"x"`, Index: 5, Line: 1}, {Rec: "0", Index: 6, Line: 1}, {Rec: "1", Index: 7, Line: 1},
		}},
		{"escapes and unicode", `["\u00e9\"\\\/\b\f\n\r\t", "é 日本"]`, []item{
			{Rec: `"\u00e9\"\\\/\b\f\n\r\t"`, Index: 1, Line: 1}, {Rec: `"é 日本"`, Index: 2, Line: 1},
		}},
	}
	for _, tt := range tests {
		for how, open := range readers(tt.input) {
			t.Run(tt.name+"/"+how, func(t *testing.T) {
				got := collect(t, open())
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("records (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestStreamErrors(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []item
	}{
		{"bad JSON line in the middle", "{\"a\":1}\nnot json\n{\"b\":2}\n", []item{
			{Rec: `{"a":1}`, Index: 1, Line: 1},
			{Index: 2, Line: 2, Err: "not JSON: invalid character 'o' in literal null (expecting 'u') at byte 9 (line 2)"},
			{Rec: `{"b":2}`, Index: 3, Line: 3},
		}},
		{"truncated line", "{\"a\":1}\n{\"b\":\n{\"c\":3}\n", []item{
			{Rec: `{"a":1}`, Index: 1, Line: 1},
			{Index: 2, Line: 2, Err: "not JSON: unexpected end of input at byte 22 (line 4)"},
			{Rec: `{"c":3}`, Index: 3, Line: 3},
		}},
		{"truncated last line", "{\"a\":1}\n{\"b\":[1,", []item{
			{Rec: `{"a":1}`, Index: 1, Line: 1},
			{Index: 2, Line: 2, Err: "not JSON: unexpected end of input at byte 16 (line 2)"},
		}},
		{"broken pretty object resumes at the next object", "{\n  \"a\": 1,\n  \"b\": oops\n}\n{\n  \"c\": 3\n}\n", []item{
			{Index: 1, Line: 1, Err: "invalid character 'o' looking for beginning of value"},
			{Rec: "{\n  \"c\": 3\n}", Index: 2, Line: 5},
		}},
		{"garbage after a value", "{\"a\":1} x\n{\"b\":2}", []item{
			{Rec: `{"a":1}`, Index: 1, Line: 1},
			{Index: 2, Line: 1, Err: "invalid character 'x' looking for beginning of value at byte 8"},
			{Rec: `{"b":2}`, Index: 3, Line: 2},
		}},
		{"bad element stops an array", `[{"a":1},{"b":x},{"c":3}]`, []item{
			{Rec: `{"a":1}`, Index: 1, Line: 1},
			{Index: 2, Line: 1, Fatal: true, Err: "invalid character 'x' looking for beginning of value at byte 14 (line 1); stopped reading the input after 1 records"},
		}},
		{"missing comma stops an array", `[1 2]`, []item{
			{Rec: "1", Index: 1, Line: 1},
			{Index: 2, Line: 1, Fatal: true, Err: "invalid character '2' after array element"},
		}},
		{"trailing comma stops an array", `[1,]`, []item{
			{Rec: "1", Index: 1, Line: 1},
			{Index: 2, Line: 1, Fatal: true, Err: "invalid character ']' looking for beginning of value"},
		}},
		{"truncated Records file", "{\"Records\":[{\"a\":1},\n{\"b\":2},\n{\"c\":", []item{
			{Rec: `{"a":1}`, Index: 1, Line: 1}, {Rec: `{"b":2}`, Index: 2, Line: 2},
			{Index: 3, Line: 3, Fatal: true, Err: "unexpected end of input at byte 35 (line 3); stopped reading the input after 2 records"},
		}},
		{"unclosed Records object", `{"Records":[1]`, []item{
			{Rec: "1", Index: 1, Line: 1},
			{Index: 2, Line: 1, Fatal: true, Err: "unexpected end of input"},
		}},
		{"bad member after Records", `{"Records":[1], x}`, []item{
			{Rec: "1", Index: 1, Line: 1},
			{Index: 2, Line: 1, Fatal: true, Err: "invalid character 'x' looking for beginning of object key string"},
		}},
		{"control character in a string", "{\"a\":\"x\ty\"}\n{\"b\":2}", []item{
			{Index: 1, Line: 1, Err: `invalid character '\t' in string literal`},
			{Rec: `{"b":2}`, Index: 2, Line: 2},
		}},
		{"bad escape", `"\x"`, []item{{Index: 1, Line: 1, Err: "invalid character 'x' in string escape code"}}},
		{"bad unicode escape", `"\u12g4"`, []item{{Index: 1, Line: 1, Err: `invalid character 'g' in \u hexadecimal character escape`}}},
		{"bad numbers", "-x\n1.e5\n1e\n-", []item{
			{Index: 1, Line: 1, Err: "invalid character 'x' in numeric literal"},
			{Index: 2, Line: 2, Err: "invalid character 'e' after decimal point in numeric literal"},
			{Index: 3, Line: 3, Err: "invalid character '\\n' in exponent of numeric literal"},
			{Index: 4, Line: 4, Err: "unexpected end of input"},
		}},
		{"key without colon", `{"a" 1}`, []item{{Index: 1, Line: 1, Err: "invalid character '1' after object key"}}},
		{"non-string key", `{1:2}`, []item{{Index: 1, Line: 1, Err: "invalid character '1' looking for beginning of object key string"}}},
		{"missing comma in object", `{"a":1 "b":2}`, []item{{Index: 1, Line: 1, Err: "invalid character '\"' after object key:value pair"}}},
		{"unclosed string", `"abc`, []item{{Index: 1, Line: 1, Err: "unexpected end of input"}}},
		{"too many bad lines in a row", strings.Repeat("bad\n", 12) + "{}", []item{
			{Index: 1, Line: 1, Err: "invalid character 'b'"}, {Index: 2, Line: 2, Err: "invalid character 'b'"},
			{Index: 3, Line: 3, Err: "invalid character 'b'"}, {Index: 4, Line: 4, Err: "invalid character 'b'"},
			{Index: 5, Line: 5, Err: "invalid character 'b'"}, {Index: 6, Line: 6, Err: "invalid character 'b'"},
			{Index: 7, Line: 7, Err: "invalid character 'b'"}, {Index: 8, Line: 8, Err: "invalid character 'b'"},
			{Index: 9, Line: 9, Err: "invalid character 'b'"},
			{Index: 10, Line: 10, Fatal: true, Err: "stopped reading the input after 10 bad records in a row"},
		}},
		{"a good record resets the bad count", strings.Repeat("bad\n{}\n", 12), func() []item {
			var w []item
			for i := range 12 {
				w = append(w, item{Index: 2*i + 1, Line: 2*i + 1, Err: "invalid character 'b'"}, item{Rec: "{}", Index: 2*i + 2, Line: 2*i + 2})
			}
			return w
		}()},
		{"too deep", strings.Repeat("[", maxNesting+1) + strings.Repeat("]", maxNesting+1), []item{
			{Index: 1, Line: 1, Fatal: true, Err: "exceeded max depth"},
		}},
	}
	for _, tt := range tests {
		for how, open := range readers(tt.input) {
			t.Run(tt.name+"/"+how, func(t *testing.T) {
				raw := collect(t, open())
				if diff := cmp.Diff(tt.want, matchErrors(raw, tt.want)); diff != "" {
					t.Errorf("records (-want +got):\n%s", diff)
				}
				for _, it := range raw {
					if it.Err != "" && !strings.Contains(it.Err, "byte") && !strings.Contains(it.Err, "stopped") {
						t.Errorf("error %q does not say at which byte", it.Err)
					}
				}
			})
		}
	}
}

// TestStreamDepthLimit checks that the nesting limit is encoding/json's: 10000 levels pass.
func TestStreamDepthLimit(t *testing.T) {
	in := "[" + strings.Repeat("[", maxNesting-1) + strings.Repeat("]", maxNesting-1) + "]"
	got := collect(t, NewStream(strings.NewReader(in)))
	if len(got) != 1 || got[0].Err != "" || len(got[0].Rec) != 2*(maxNesting-1) {
		t.Errorf("a value nested %d deep: got %d items, first error %q", maxNesting, len(got), got[0].Err)
	}
}

// errReader returns data and then an error.
type errReader struct {
	data []byte
	err  error
}

func (r *errReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestStreamReadError(t *testing.T) {
	boom := errors.New("gzip: invalid checksum")
	tests := []struct {
		name  string
		input string
		want  []item
	}{
		{"inside an array", `[{"a":1},{"b"`, []item{
			{Rec: `{"a":1}`, Index: 1, Line: 1},
			{Index: 2, Line: 1, Fatal: true, Err: "read input at byte 13: gzip: invalid checksum; stopped reading the input after 1 records"},
		}},
		{"inside a JSON line", "{\"a\":1}\n{\"b\"", []item{
			{Rec: `{"a":1}`, Index: 1, Line: 1},
			{Index: 2, Line: 2, Fatal: true, Err: "read input at byte 12: gzip: invalid checksum"},
		}},
		{"between values", "{\"a\":1}\n", []item{
			{Rec: `{"a":1}`, Index: 1, Line: 1},
			{Index: 2, Line: 2, Fatal: true, Err: "gzip: invalid checksum"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewStream(&errReader{data: []byte(tt.input), err: boom})
			got := collect(t, s)
			var last error
			s2 := NewStream(&errReader{data: []byte(tt.input), err: boom})
			for {
				_, err := s2.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					last = err
				}
			}
			if !errors.Is(last, boom) {
				t.Errorf("last error %v does not wrap the reader's error", last)
			}
			if diff := cmp.Diff(tt.want, matchErrors(got, tt.want)); diff != "" {
				t.Errorf("records (-want +got):\n%s", diff)
			}
		})
	}
}

// TestStreamNoProgress checks that a reader that returns nothing forever ends the stream.
func TestStreamNoProgress(t *testing.T) {
	got := collect(t, NewStream(iotest.ErrReader(nil)))
	if len(got) != 1 || !got[0].Fatal || !strings.Contains(got[0].Err, "multiple Read calls return no data or error") {
		t.Errorf("got %+v, want one fatal io.ErrNoProgress", got)
	}
}

func TestStreamTooLarge(t *testing.T) {
	big := `{"pad":"` + strings.Repeat("x", MaxEventBytes) + `"}`
	exact := `{"pad":"` + strings.Repeat("y", MaxEventBytes-10) + `"}`
	tests := []struct {
		name  string
		input string
		want  []item
	}{
		{"in a Records file", `{"Records":[` + big + `,{"a":1}]}`, []item{
			{Index: 1, Line: 1, Err: "record too large: 1048586 bytes, more than the 1048576 accepted; skipped"},
			{Rec: `{"a":1}`, Index: 2, Line: 1},
		}},
		{"a JSON line", big + "\n{\"a\":1}\n", []item{
			{Index: 1, Line: 1, Err: "record too large"},
			{Rec: `{"a":1}`, Index: 2, Line: 2},
		}},
		{"exactly the limit", "[" + exact + "]", []item{{Rec: exact, Index: 1, Line: 1}}},
		{"a huge member before Records", `{"pad":"` + strings.Repeat("z", 2*MaxEventBytes) + `","Records":[{"a":1}]}`, []item{
			{Rec: `{"a":1}`, Index: 1, Line: 1},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewStream(strings.NewReader(tt.input))
			got := matchErrors(collect(t, s), tt.want)
			if diff := cmp.Diff(tt.want, got, cmp.Transformer("short", func(s string) string {
				if len(s) > 100 {
					return fmt.Sprintf("%s...(%d bytes)", s[:50], len(s))
				}
				return s
			})); diff != "" {
				t.Errorf("records (-want +got):\n%s", diff)
			}
			if len(s.buf) > 2*MaxEventBytes+2*streamMinRead+streamBufSize {
				t.Errorf("window grew to %d bytes", len(s.buf))
			}
		})
	}
}

// recordsSource generates a CloudTrail log file of n records without holding it in memory.
type recordsSource struct {
	n, i int
	pend []byte
	done bool
}

func (g *recordsSource) Read(p []byte) (int, error) {
	for len(g.pend) == 0 {
		switch {
		case g.done:
			return 0, io.EOF
		case g.i == 0:
			g.pend = []byte(`{"Records":[`)
		case g.i > g.n:
			g.pend, g.done = []byte("]}"), true
			continue
		default:
			sep := ","
			if g.i == 1 {
				sep = ""
			}
			g.pend = fmt.Appendf(nil, `%s{"eventID":"%d","eventSource":"s3.amazonaws.com","eventName":"GetObject","requestParameters":{"key":"%s"}}`,
				sep, g.i, strings.Repeat("k", 500+g.i%1000))
		}
		g.i++
	}
	n := copy(p, g.pend)
	g.pend = g.pend[n:]
	return n, nil
}

// TestStreamFlatMemory streams about 40 MB and checks that the window never grows.
func TestStreamFlatMemory(t *testing.T) {
	const n = 40000
	s := NewStream(&recordsSource{n: n})
	count := 0
	for {
		rec, err := s.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("record %d: %v", count+1, err)
		}
		count++
		if rec.Index != count || !bytes.HasPrefix(rec.Bytes, fmt.Appendf(nil, `{"eventID":"%d",`, count)) {
			t.Fatalf("record %d: index %d, bytes %.40s", count, rec.Index, rec.Bytes)
		}
	}
	if count != n {
		t.Errorf("read %d records, want %d", count, n)
	}
	if s.Offset() < 40<<20 {
		t.Errorf("read %d bytes, the test wants more than 40 MB", s.Offset())
	}
	if len(s.buf) != streamBufSize {
		t.Errorf("window is %d bytes, want it to stay %d", len(s.buf), streamBufSize)
	}
}

// TestStreamReuse checks that Reset starts a new input with the same buffers.
func TestStreamReuse(t *testing.T) {
	s := NewStream(strings.NewReader(`[1,2`))
	first := collect(t, s)
	s.Reset(strings.NewReader("{\"a\":1}\n{\"b\":2}"))
	second := collect(t, s)
	want := []item{{Rec: `{"a":1}`, Index: 1, Line: 1}, {Rec: `{"b":2}`, Index: 2, Line: 2}}
	if diff := cmp.Diff(want, second); diff != "" {
		t.Errorf("after Reset (-want +got):\n%s", diff)
	}
	if len(first) != 3 || !first[2].Fatal {
		t.Errorf("first input: got %+v, want two records and a fatal error", first)
	}
}

// TestStringRun compares the scan loop's word-at-a-time search for the end of a run of plain
// string bytes with a byte loop, with the whole input in the window and read a byte at a time.
func TestStringRun(t *testing.T) {
	naive := func(b []byte) int {
		for i, c := range b {
			if c < 0x20 || c == '"' || c == '\\' {
				return i
			}
		}
		return len(b)
	}
	specials := []byte{'"', '\\', 0, 0x1f, 0x20, 0x21, 0x7f, 0x80, 0xff, 'a', 0x5b, 0x5d, 0x23}
	var inputs [][]byte
	for n := 0; n <= 24; n++ {
		for pos := 0; pos < n; pos++ {
			for _, sp := range specials {
				b := bytes.Repeat([]byte{'x'}, n)
				b[pos] = sp
				inputs = append(inputs, b)
				c := bytes.Repeat([]byte{0xe9}, n) // non-ASCII around the byte
				c[pos] = sp
				inputs = append(inputs, c)
			}
		}
	}
	for _, in := range inputs {
		// Where the scan must stop: the string's end, an invalid byte, the byte after a
		// backslash (no input holds a valid escape), or the end of the input.
		k := naive(in)
		want := fmt.Sprintf("at byte %d", 1+k)
		switch {
		case k == len(in):
			want = fmt.Sprintf("unexpected end of input at byte %d", 1+k)
		case in[k] == '"':
			want = fmt.Sprintf("%d bytes", k)
		case in[k] == '\\' && k+1 == len(in):
			want = fmt.Sprintf("unexpected end of input at byte %d", 2+k)
		case in[k] == '\\':
			want = fmt.Sprintf("in string escape code at byte %d", 2+k)
		}
		data := append([]byte{'"'}, in...)
		for name, s := range map[string]*Stream{
			"whole":    newStreamSize(bytes.NewReader(data), 64, 16),
			"one byte": newStreamSize(iotest.OneByteReader(bytes.NewReader(data)), 8, 3),
		} {
			if !s.ensure(1) {
				t.Fatal("no input")
			}
			n, err := s.scanString()
			got := fmt.Sprintf("%d bytes", n)
			if err != nil {
				got = err.Error()
			}
			if !strings.Contains(got, want) {
				t.Errorf("%s: scanString(%q) = %s, want %s", name, data, got, want)
			}
		}
	}
}

// TestRecordFlags checks what the Stream notes about each record while scanning.
func TestRecordFlags(t *testing.T) {
	tests := []struct {
		name      string
		rec       string
		mayMatter bool
		shapeErr  error
	}{
		{"ordinary record", `{"eventSource":"s3.amazonaws.com","eventName":"GetObject","userIdentity":{"type":"AssumedRole"}}`, false, nil},
		{"root", `{"eventSource":"s3.amazonaws.com","eventName":"ListBuckets","userIdentity":{"type":"Root"}}`, true, nil},
		{"root as a substring only", `{"eventSource":"s3.amazonaws.com","eventName":"ListBuckets","note":"Rooted"}`, false, nil},
		{"AssumeRoot", `{"eventSource":"sts.amazonaws.com","eventName":"AssumeRoot"}`, true, nil},
		{"organizations", `{"eventSource":"organizations.amazonaws.com","eventName":"DetachPolicy"}`, true, nil},
		{"organizations, routed nowhere", `{"eventSource":"organizations.amazonaws.com","eventName":"ListAccounts"}`, false, nil},
		{"control tower", `{"eventSource":"controltower.amazonaws.com","eventName":"CreateManagedAccount"}`, true, nil},
		{"sign-in", `{"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin"}`, true, nil},
		{"word in a longer string", `{"eventSource":"s3.amazonaws.com","eventName":"x","host":"ConsoleLogin.evil"}`, false, nil},
		{"tamper call", `{"eventSource":"events.amazonaws.com","eventName":"DisableRule"}`, true, nil},
		{"heartbeat parameter", `{"eventSource":"ssm.amazonaws.com","eventName":"PutParameter","requestParameters":{"name":"/rootguard/heartbeat"}}`, true, nil},
		{"escaped word", `{"eventSource":"s3.amazonaws.com","eventName":"x","t":"R\u006fot"}`, true, nil},
		{"escaped slash (a word holds one)", `{"eventSource":"s3.amazonaws.com","eventName":"x","t":"c\/d"}`, true, nil},
		{"other escapes", `{"eventSource":"s3.amazonaws.com","eventName":"x","t":"a\"b\\c\n"}`, false, nil},
		{"EventBridge event", `{"detail-type":"x","detail":{"eventSource":"s3.amazonaws.com","eventName":"x"}}`, false, nil},
		{"empty eventName", `{"eventSource":"s3.amazonaws.com","eventName":""}`, false, ErrNotEvent},
		{"eventName not a string", `{"eventSource":"s3.amazonaws.com","eventName":["x"]}`, false, ErrWrongType},
		{"names as values", `{"a":"eventName","b":"eventSource","eventName":"x"}`, false, ErrNotEvent},
		{"not an object", `["eventName","eventSource"]`, false, ErrNotEvent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewStream(strings.NewReader(`{"Records":[` + tt.rec + `]}`))
			s.SetPrefilter(testPrefilter)
			rec, err := s.Next()
			if err != nil {
				t.Fatal(err)
			}
			if rec.MayMatter() != tt.mayMatter {
				t.Errorf("MayMatter() = %v, want %v", rec.MayMatter(), tt.mayMatter)
			}
			if err := rec.CheckShape(); !errors.Is(err, tt.shapeErr) {
				t.Errorf("CheckShape() = %v, want %v", err, tt.shapeErr)
			}
		})
	}
}
