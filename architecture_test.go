package rootguard

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/rootguard/rootguard/internal/function"
)

const architectureDoc = "docs/architecture.md"

// skipDirs are folders that hold no package of the repository's own.
var skipDirs = map[string]bool{"node_modules": true, ".tools": true, ".git": true, "cdk.out": true, "build": true, "testdata": true, "bin": true}

// goPackageDirs returns every folder of the repository that holds Go files, slash-separated
// ("." for the top).
func goPackageDirs(t *testing.T) []string {
	t.Helper()
	var dirs []string
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != "." && (skipDirs[d.Name()] || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(p, ".go") {
			dir := filepath.ToSlash(filepath.Dir(p))
			if !slices.Contains(dirs, dir) {
				dirs = append(dirs, dir)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return dirs
}

// packageMap returns the paths the package map of docs/architecture.md names in its first column.
func packageMap(t *testing.T) []string {
	t.Helper()
	doc, err := os.ReadFile(architectureDoc)
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(doc), "## Package map")
	if !ok {
		t.Fatalf("%s has no package map", architectureDoc)
	}
	section, _, _ := strings.Cut(after, "\n## ")
	var out []string
	cell := regexp.MustCompile("`([^`]+)`")
	for _, line := range strings.Split(section, "\n") {
		cols := strings.Split(line, "|")
		if !strings.HasPrefix(line, "| `") || len(cols) < 3 {
			continue
		}
		for _, m := range cell.FindAllStringSubmatch(cols[1], -1) {
			out = append(out, strings.TrimSuffix(strings.TrimSpace(m[1]), " (the repository)"))
		}
	}
	return out
}

// TestArchitectureMapsEveryPackage: the package map of docs/architecture.md names every folder
// with Go code, and only folders that exist: a new package is placed on the map or this fails.
func TestArchitectureMapsEveryPackage(t *testing.T) {
	named := packageMap(t)
	dirs := goPackageDirs(t)
	for _, d := range dirs {
		if !slices.Contains(named, d) {
			t.Errorf("%s: package %s is not on the package map", architectureDoc, d)
		}
	}
	for _, n := range named {
		if !slices.Contains(dirs, n) {
			t.Errorf("%s: the package map names %s, which holds no Go code", architectureDoc, n)
		}
	}
}

// TestArchitectureNamesRealTests: every test the checklists of docs/architecture.md name exists,
// so each step is tied to a test that fails when it is forgotten.
func TestArchitectureNamesRealTests(t *testing.T) {
	doc, err := os.ReadFile(architectureDoc)
	if err != nil {
		t.Fatal(err)
	}
	named := regexp.MustCompile("`(Test[A-Z][A-Za-z0-9_]*)`").FindAllStringSubmatch(string(doc), -1)
	if len(named) < 10 {
		t.Fatalf("%s names %d tests; its checklists should name the tests that enforce them", architectureDoc, len(named))
	}
	defined := map[string]bool{}
	decl := regexp.MustCompile(`(?m)^func (Test[A-Za-z0-9_]+)\(`)
	for _, dir := range goPackageDirs(t) {
		files, _ := filepath.Glob(filepath.Join(dir, "*_test.go"))
		for _, f := range files {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range decl.FindAllStringSubmatch(string(src), -1) {
				defined[m[1]] = true
			}
		}
	}
	for _, m := range named {
		if !defined[m[1]] {
			t.Errorf("%s names %s, which no test file defines", architectureDoc, m[1])
		}
	}
}

// TestFunctionFolders: every function of the table has its folder with a main.go, naming the
// function by its constant, and its row in the README's table of functions; every folder of
// functions/ with a main.go is in the table.
func TestFunctionFolders(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	mains, err := filepath.Glob("functions/*/main.go")
	if err != nil {
		t.Fatal(err)
	}
	var folders []string
	for _, m := range mains {
		folders = append(folders, filepath.Base(filepath.Dir(m)))
	}
	for _, fn := range function.Table {
		if !slices.Contains(folders, fn.Name) {
			t.Errorf("function %s: no functions/%s/main.go", fn.Name, fn.Name)
		}
		if !strings.Contains(string(readme), "\n| `"+fn.Name+"` |") {
			t.Errorf("function %s: no row in the README's table of functions", fn.Name)
		}
	}
	for _, f := range folders {
		if _, ok := function.Lookup(f); !ok {
			t.Errorf("functions/%s/main.go: %s is not in the function table (internal/function)", f, f)
		}
	}
}
