package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestHelpCitesTheRepository: the help text cites only documents of the repository, and the
// README sections it names exist (the specification, rules.md, is not in the repository).
func TestHelpCitesTheRepository(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var help strings.Builder
	for _, cmd := range []string{"replay", "audit", "rules", "snapshot", "report"} {
		_, out, errOut := runCLI(t, nil, "", cmd, "-h")
		help.WriteString(out + errOut)
	}
	text := help.String()
	if !strings.Contains(text, "--org") && !strings.Contains(text, "-org") {
		t.Fatalf("no help text for --org:\n%s", text)
	}
	if strings.Contains(text, "rules.md") {
		t.Error("the help text cites rules.md, which is not in the repository")
	}
	sections := regexp.MustCompile(`README\.md, "([^"]+)"`).FindAllStringSubmatch(text, -1)
	if len(sections) == 0 {
		t.Error("the help text names no README section for the snapshot format")
	}
	for _, m := range sections {
		if !strings.Contains(string(readme), "\n## "+m[1]+"\n") && !strings.Contains(string(readme), "\n### "+m[1]+"\n") {
			t.Errorf("the help text cites README.md, %q: no such section", m[1])
		}
	}
}
