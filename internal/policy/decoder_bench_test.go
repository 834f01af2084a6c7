package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Issue 8, item 5: is the hand-written tree scanner of parse.go worth its code against
// encoding/json? parseWithDecoder is Parse with the tree built by json.Decoder.Token (which
// keeps member order, so duplicate and case-insensitive names are still found) instead of the
// scanner; everything else (limits, json.Valid, buildDocument) is shared. Run with
//
//	go test ./internal/policy -run '^$' -bench 'ParseVsDecoder' -cpu 1

func parseWithDecoder(content string) (*Document, error) {
	if len(content) > MaxContentBytes {
		return nil, &ParseError{Msg: fmt.Sprintf("the document is %d bytes; the limit is %d (an SCP has at most 5,120 characters)", len(content), MaxContentBytes)}
	}
	if strings.TrimSpace(content) == "" {
		return nil, &ParseError{Msg: "the document is empty"}
	}
	if !json.Valid([]byte(content)) {
		return Parse(content) // the same syntax error
	}
	dec := json.NewDecoder(strings.NewReader(content))
	dec.UseNumber()
	root, err := tokenValue(dec, nil, 1)
	if err != nil {
		return nil, err
	}
	return buildDocument(root)
}

// tokenValue reads one value of a document json.Valid accepted into the tree parse.go builds.
func tokenValue(dec *json.Decoder, p *path, depth int) (node, error) {
	tok, err := dec.Token()
	if err != nil {
		return node{}, err
	}
	switch v := tok.(type) {
	case json.Delim:
		if depth > maxDepth {
			return node{}, errAt(p, "nested deeper than %d levels", maxDepth)
		}
		if v == '[' {
			n := node{kind: kArray}
			for dec.More() {
				e, err := tokenValue(dec, p.elem(len(n.arr)), depth+1)
				if err != nil {
					return node{}, err
				}
				n.arr = append(n.arr, e)
			}
			_, err := dec.Token() // ']'
			return n, err
		}
		n := node{kind: kObject}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return node{}, err
			}
			key := kt.(string)
			for _, m := range n.obj {
				if strings.EqualFold(m.key, key) {
					if m.key == key {
						return node{}, errAt(p, "%s appears twice", strconv.Quote(key))
					}
					return node{}, errAt(p, "%s and %s both appear (names are case-insensitive)", strconv.Quote(m.key), strconv.Quote(key))
				}
			}
			val, err := tokenValue(dec, p.field(key), depth+1)
			if err != nil {
				return node{}, err
			}
			n.obj = append(n.obj, member{key: key, val: val})
		}
		_, err := dec.Token() // '}'
		return n, err
	case string:
		return node{kind: kString, text: v}, nil
	case json.Number:
		return node{kind: kNumber, text: string(v)}, nil
	case bool:
		return node{kind: kBool, text: strconv.FormatBool(v)}, nil
	case nil:
		return node{kind: kNull}, nil
	}
	return node{}, errors.New("unexpected token")
}

// TestParseWithDecoderAgrees pins that the comparison is fair: both parsers give the same
// document or the same error on the benchmark's policy, on valid shapes and on bad ones.
func TestParseWithDecoderAgrees(t *testing.T) {
	docs := []string{loadProtection5K(t), staxProtection,
		`{"Statement":{"Effect":"Deny","Action":"iam:CreateUser"}}`,
		`{"Statement":[{"Effect":"Deny","Action":"*","Condition":{"Bool":{"k":[true,1.5e3,"x"]}}}]}`,
		`{"Statement":[{"Effect":"Deny","Action":"*","action":"x"}]}`,
		`{"Statement":[{"Effect":"Deny","Action":"*","Condition":{"StringLike":{"a":{"b":1}}}}]}`,
		`{"Statement":[{"Effect":"Deny","Action":"\u0069am:*","Sid":"caf\u00e9 \ud83d\ude00"}]}`,
		`[1,2]`, `{"Version":1}`, `{"Statement":[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]}`,
	}
	for _, d := range docs {
		want, wantErr := Parse(d)
		got, gotErr := parseWithDecoder(d)
		if fmt.Sprint(wantErr) != fmt.Sprint(gotErr) || !reflect.DeepEqual(want, got) {
			t.Errorf("%.60s: Parse = %+v, %v; with json.Decoder = %+v, %v", d, want, wantErr, got, gotErr)
		}
	}
}

func BenchmarkParseVsDecoder(b *testing.B) {
	content := loadProtection5K(b)
	for _, impl := range []struct {
		name  string
		parse func(string) (*Document, error)
	}{{"parse.go", Parse}, {"encoding-json", parseWithDecoder}} {
		b.Run(impl.name, func(b *testing.B) {
			b.SetBytes(int64(len(content)))
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				if _, err := impl.parse(content); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
}

// cpuTime is the CPU time the process has used (all threads): with -cpu 1 a figure that other
// work on a shared machine inflates less than wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkParseVsDecoderPaired runs both parsers one after the other in each iteration and
// reports each one's CPU time and their ratio: on a shared machine, a drift in load between two
// sub-benchmarks cannot tilt the comparison. "valid-ns/op" is json.Valid alone, which both do.
func BenchmarkParseVsDecoderPaired(b *testing.B) {
	content := loadProtection5K(b)
	var scanner, decoder, valid time.Duration
	for b.Loop() {
		t0 := cpuTime()
		if _, err := Parse(content); err != nil {
			b.Fatal(err)
		}
		t1 := cpuTime()
		if _, err := parseWithDecoder(content); err != nil {
			b.Fatal(err)
		}
		t2 := cpuTime()
		json.Valid([]byte(content))
		t3 := cpuTime()
		scanner, decoder, valid = scanner+t1-t0, decoder+t2-t1, valid+t3-t2
	}
	n := float64(b.N)
	b.ReportMetric(float64(scanner.Nanoseconds())/n, "parse.go-cpu-ns/op")
	b.ReportMetric(float64(decoder.Nanoseconds())/n, "encoding-json-cpu-ns/op")
	b.ReportMetric(float64(valid.Nanoseconds())/n, "valid-ns/op")
	b.ReportMetric(float64(decoder)/float64(scanner), "gain")
}
