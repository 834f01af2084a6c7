package rule_test

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/rootguard/rootguard/internal/rule"
)

var updateReadme = flag.Bool("update", false, "rewrite the README's rule table from the catalogue")

// TestReadmeRuleTable fails when the README's rule table differs from the catalogue.
func TestReadmeRuleTable(t *testing.T) {
	const path = "../../README.md"
	const begin, end = "<!-- rules:begin -->\n", "<!-- rules:end -->"
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	i, j := strings.Index(text, begin), strings.Index(text, end)
	if i < 0 || j < i {
		t.Fatalf("README.md has no %q ... %q section", strings.TrimSpace(begin), end)
	}
	var want bytes.Buffer
	if err := rule.WriteMarkdown(&want); err != nil {
		t.Fatal(err)
	}
	got := text[i+len(begin) : j]
	if got == want.String() {
		return
	}
	if *updateReadme {
		if err := os.WriteFile(path, []byte(text[:i+len(begin)]+want.String()+text[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md's rule table differs from the catalogue; run: go test ./internal/rule -run TestReadmeRuleTable -update\n--- README\n%s\n--- catalogue\n%s", got, want.String())
}
