package function

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNamesWrittenOnce: no Go file outside this package and the tests spells a ROOTGUARD_*
// variable name or a root credentials mode as a string literal; they use the constants here.
func TestNamesWrittenOnce(t *testing.T) {
	root := filepath.Join("..", "..")
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("the module root: %v", err)
	}
	here, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	forbidden := []string{`"ROOTGUARD_`, `"` + ModeAuditRole + `"`, `"` + ModeAssumeRoot + `"`}
	files := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != root && (strings.HasPrefix(name, ".") || name == "node_modules" || name == "testdata" || name == "cdk.out" || name == "build") {
				return filepath.SkipDir
			}
			if abs, err := filepath.Abs(path); err == nil && abs == here {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		for _, f := range forbidden {
			if strings.Contains(string(data), f) {
				t.Errorf("%s: the literal %s; use package function's constant", path, f)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 100 {
		t.Errorf("scanned %d Go files, want the whole module", files)
	}
}
