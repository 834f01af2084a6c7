package replay

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rootguard/rootguard/internal/cloudtrail"
)

// Issue 8, item 5: is the hand-written stream scanner (internal/cloudtrail/stream.go) worth its
// code against encoding/json? Both read the decompressed 200,000-record file of
// BenchmarkReplay from memory, split it into records, prefilter them and check the shape of
// those dropped; the "decode" variants also decode the candidates, as the replay does next.
//
//	go test ./internal/replay -run '^$' -bench 'Splitter' -cpu 1 -benchtime 5x
//
// encoding/json reads the file with Decoder.Token down to the Records array and one
// json.RawMessage per record; its prefilter is cloudtrail.Prefilter.MayMatter on the record's bytes (the
// byte check the scanner's word check refines: a superset of candidates), then CheckShape.

// splitJSON calls fn with each record of a CloudTrail log file ({"Records":[...]}), read with
// encoding/json.
func splitJSON(r io.Reader, fn func(raw []byte)) error {
	dec := json.NewDecoder(r)
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return fmt.Errorf("not a JSON object: %v %v", tok, err)
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return err
		}
		if key != "Records" {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return err
			}
			continue
		}
		if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
			return fmt.Errorf("Records is not a list: %v %v", tok, err)
		}
		for dec.More() {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return err
			}
			fn(raw)
		}
		if _, err := dec.Token(); err != nil {
			return err
		}
	}
	_, err := dec.Token()
	return err
}

// splitCounts is what one pass saw.
type splitCounts struct{ records, candidates, decoded, badShape int }

func splitWithScanner(data []byte, decode bool) (splitCounts, error) {
	var c splitCounts
	s := cloudtrail.NewStream(bytes.NewReader(data))
	s.SetPrefilter(benchPrefilter)
	for {
		rec, err := s.Next()
		if err == io.EOF {
			return c, nil
		}
		if err != nil {
			return c, err
		}
		c.records++
		if !rec.MayMatter() {
			if rec.CheckShape() != nil {
				c.badShape++
			}
			continue
		}
		c.candidates++
		if decode {
			if _, err := cloudtrail.Decode(rec.Bytes); err == nil {
				c.decoded++
			}
		}
	}
}

func splitWithEncodingJSON(data []byte, decode bool) (splitCounts, error) {
	var c splitCounts
	err := splitJSON(bytes.NewReader(data), func(raw []byte) {
		c.records++
		if !benchPrefilter.MayMatter(raw) {
			if cloudtrail.CheckShape(raw) != nil {
				c.badShape++
			}
			return
		}
		c.candidates++
		if decode {
			if _, err := cloudtrail.Decode(raw); err == nil {
				c.decoded++
			}
		}
	})
	return c, err
}

// decompressed returns a gzipped log file, gunzipped into memory.
func decompressed(tb testing.TB, path string) []byte {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var g gzipReader
	if err := g.Reset(f); err != nil {
		tb.Fatal(err)
	}
	data, err := io.ReadAll(g.Reader())
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// TestSplitterAgree checks, on a small generated file, that both splitters read the same
// records and that the encoding/json prefilter keeps every record the scanner keeps.
func TestSplitterAgree(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "log.json.gz"))
	if err != nil {
		t.Fatal(err)
	}
	if err := writeLogFile(f, 5000, 3); err != nil {
		t.Fatal(err)
	}
	f.Close()
	data := decompressed(t, f.Name())
	for _, decode := range []bool{false, true} {
		a, err := splitWithScanner(data, decode)
		if err != nil {
			t.Fatal(err)
		}
		b, err := splitWithEncodingJSON(data, decode)
		if err != nil {
			t.Fatal(err)
		}
		if a.records != 5000 || b.records != a.records || b.badShape != 0 || a.badShape != 0 ||
			b.candidates < a.candidates || decode && (a.decoded != a.candidates || b.decoded != b.candidates) {
			t.Errorf("decode=%v: scanner %+v, encoding/json %+v", decode, a, b)
		}
	}
}

func BenchmarkSplitter(b *testing.B) {
	const n = 200_000
	data := decompressed(b, benchFile(b, n))
	for _, decode := range []bool{false, true} {
		for _, impl := range []struct {
			name  string
			split func([]byte, bool) (splitCounts, error)
		}{{"scanner", splitWithScanner}, {"encoding-json", splitWithEncodingJSON}} {
			name := impl.name + "/split"
			if decode {
				name = impl.name + "/decode"
			}
			b.Run(name, func(b *testing.B) {
				b.SetBytes(int64(len(data)))
				b.ReportAllocs()
				var c splitCounts
				cpu0 := cpuTime()
				for b.Loop() {
					var err error
					if c, err = impl.split(data, decode); err != nil {
						b.Fatal(err)
					}
					if c.records != n {
						b.Fatalf("%d records, want %d", c.records, n)
					}
				}
				cpu := cpuTime() - cpu0
				b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
				b.ReportMetric(float64(n)*float64(b.N)/cpu.Seconds(), "cpu-records/s")
				b.ReportMetric(float64(c.candidates), "candidates")
			})
		}
	}
}

// BenchmarkSplitterPaired runs both splitters one after the other in each iteration and reports
// each one's CPU time per record and their ratio, so that a drift in the load of a shared
// machine cannot tilt the comparison.
func BenchmarkSplitterPaired(b *testing.B) {
	const n = 200_000
	data := decompressed(b, benchFile(b, n))
	for _, decode := range []bool{false, true} {
		name := "split"
		if decode {
			name = "decode"
		}
		b.Run(name, func(b *testing.B) {
			var scanner, decoder time.Duration
			for b.Loop() {
				t0 := cpuTime()
				a, err := splitWithScanner(data, decode)
				t1 := cpuTime()
				c, err2 := splitWithEncodingJSON(data, decode)
				t2 := cpuTime()
				if err != nil || err2 != nil || a.records != n || c.records != n {
					b.Fatalf("scanner %+v %v, encoding/json %+v %v", a, err, c, err2)
				}
				scanner, decoder = scanner+t1-t0, decoder+t2-t1
			}
			recs := float64(n) * float64(b.N)
			b.ReportMetric(recs/scanner.Seconds(), "scanner-cpu-records/s")
			b.ReportMetric(recs/decoder.Seconds(), "encoding-json-cpu-records/s")
			b.ReportMetric(float64(decoder)/float64(scanner), "gain")
		})
	}
}
