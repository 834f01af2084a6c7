package render

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rootguard/rootguard/internal/finding"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites the file with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs from the golden file (-want +got):\n%s", name, diff)
	}
}

// indent pretty-prints JSON for a readable golden file.
func indent(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, b)
	}
	out.WriteByte('\n')
	return out.Bytes()
}

func TestGolden(t *testing.T) {
	findings := testFindings()
	tests := []struct {
		name   string
		render func(t *testing.T) []byte
	}{
		{"text.golden", func(t *testing.T) []byte {
			var b bytes.Buffer
			if err := Text(&b, findings, TextOptions{}); err != nil {
				t.Fatal(err)
			}
			return b.Bytes()
		}},
		{"text_color.golden", func(t *testing.T) []byte {
			var b bytes.Buffer
			if err := Text(&b, findings, TextOptions{Color: true}); err != nil {
				t.Fatal(err)
			}
			return b.Bytes()
		}},
		{"text_empty.golden", func(t *testing.T) []byte {
			var b bytes.Buffer
			if err := Text(&b, nil, TextOptions{Color: true}); err != nil {
				t.Fatal(err)
			}
			return b.Bytes()
		}},
		{"findings.jsonl.golden", func(t *testing.T) []byte {
			var b bytes.Buffer
			if err := JSONLines(&b, findings); err != nil {
				t.Fatal(err)
			}
			return b.Bytes()
		}},
		{"asff.golden", func(t *testing.T) []byte {
			b, err := ASFFBatch(findings, testASFFContext)
			if err != nil {
				t.Fatal(err)
			}
			return indent(t, b)
		}},
		{"chat.golden", func(t *testing.T) []byte {
			var out []byte
			for _, f := range findings {
				b, err := Chat(f)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, indent(t, b)...)
			}
			return out
		}},
		{"email.golden", func(t *testing.T) []byte {
			var out bytes.Buffer
			for _, f := range findings {
				out.WriteString("Subject: " + EmailSubject(f) + "\n\n")
				out.WriteString(EmailBody(f))
				out.WriteString("========================================================================\n")
			}
			return out.Bytes()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			golden(t, tt.name, tt.render(t))
		})
	}
}

// TestGoldenCoversEverySeverity keeps the fixed set honest: every severity and a hostile
// finding with a 5,000-character description.
func TestGoldenCoversEverySeverity(t *testing.T) {
	seen := map[finding.Severity]bool{}
	longest := 0
	for _, f := range testFindings() {
		seen[f.Severity] = true
		longest = max(longest, len([]rune(f.Description)))
	}
	for _, s := range finding.Severities {
		if !seen[s] {
			t.Errorf("no test finding has severity %s", s)
		}
	}
	if longest != 5000 {
		t.Errorf("longest description has %d runes, want 5000", longest)
	}
}
