package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFormatsHaveGoldenFiles: every output format names its renderer's golden file, which the
// render package's TestGolden compares the output with; a new format without one fails here.
func TestFormatsHaveGoldenFiles(t *testing.T) {
	golden, err := os.ReadFile(filepath.Join("..", "..", "internal", "render", "golden_test.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range formats {
		if f.golden == "" {
			t.Errorf("format %s names no golden file", f.name)
			continue
		}
		if _, err := os.Stat(filepath.Join("..", "..", "internal", "render", "testdata", f.golden)); err != nil {
			t.Errorf("format %s: %v", f.name, err)
		}
		if !strings.Contains(string(golden), `"`+f.golden+`"`) {
			t.Errorf("format %s: internal/render's TestGolden does not compare %s", f.name, f.golden)
		}
	}
}

// TestFormatFlag: the --format check and its error list every format, and refuse others.
func TestFormatFlag(t *testing.T) {
	for _, f := range formats {
		if code, _, errOut := runCLI(t, nil, "", "audit", "--org", "../../events/org.json", "--stax-domains", "stax.example", "--format", f.name); code == exitUsage {
			t.Errorf("--format %s refused: %s", f.name, errOut)
		}
	}
	code, _, errOut := runCLI(t, nil, "", "audit", "--org", "../../events/org.json", "--stax-domains", "stax.example", "--format", "yaml")
	if code != exitUsage || !strings.Contains(errOut, formatList()) {
		t.Errorf("--format yaml: exit %d, %q; want exit 2 naming %s", code, errOut, formatList())
	}
}
