package awsorg

import (
	"regexp"
	"testing"
)

// rootARNPattern is the shape parseRootARN reads.
var rootARNPattern = `^arn:[a-z-]+:organizations::([0-9]{12}):root/(o-[a-z0-9]+)/(r-[a-z0-9]+)$`

// checkRootARN compares parseRootARN with the pattern it replaces.
func checkRootARN(t *testing.T, re *regexp.Regexp, arn string) {
	t.Helper()
	mgmt, orgID, rootID, ok := parseRootARN(arn)
	m := re.FindStringSubmatch(arn)
	if ok != (m != nil) {
		t.Fatalf("parseRootARN(%q) ok = %v, pattern matched = %v", arn, ok, m != nil)
	}
	if ok && (mgmt != m[1] || orgID != m[2] || rootID != m[3]) {
		t.Errorf("parseRootARN(%q) = %q, %q, %q; pattern: %q", arn, mgmt, orgID, rootID, m[1:])
	}
}

func TestParseRootARN(t *testing.T) {
	re := regexp.MustCompile(rootARNPattern)
	for _, arn := range []string{
		"arn:aws:organizations::111111111111:root/o-abc123/r-ab12",
		"arn:aws-us-gov:organizations::111111111111:root/o-abc123/r-ab12",
		"", "arn:", "arn:aws:organizations::111111111111:root/o-abc123", "arn:aws:organizations::111111111111:root/o-/r-ab12",
		"arn:aws:organizations::111111111111:root/o-abc123/r-", "arn:aws:organizations::11111111111:root/o-abc123/r-ab12",
		"arn:aws:organizations::111111111111:root/o-abc123/r-ab12/x", "arn:AWS:organizations::111111111111:root/o-abc123/r-ab12",
		"arn::organizations::111111111111:root/o-abc123/r-ab12", "arn:aws:organizations:us-east-1:111111111111:root/o-abc123/r-ab12",
		"arn:aws:organizations::111111111111:ou/o-abc123/ou-ab12-x", "arn:aws:organizations::111111111111:root/o-ABC/r-ab12",
		"arn:aws:organizations::111111111111:root/r-ab12/o-abc123", "arn:aws1:organizations::111111111111:root/o-abc123/r-ab12",
	} {
		t.Run(arn, func(t *testing.T) { checkRootARN(t, re, arn) })
	}
}

func FuzzParseRootARN(f *testing.F) {
	re := regexp.MustCompile(rootARNPattern)
	f.Add("arn:aws:organizations::111111111111:root/o-abc123/r-ab12")
	f.Fuzz(func(t *testing.T, arn string) { checkRootARN(t, re, arn) })
}
