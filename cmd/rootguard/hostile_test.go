package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rootguard/rootguard/events"
	"github.com/rootguard/rootguard/internal/cloudtrail"
)

// hostileLogin is a root sign-in to a Stax-owned member whose event text tries to inject
// markdown links, mentions, HTML and terminal control sequences into every output format.
func hostileLogin(t *testing.T) []byte {
	t.Helper()
	raw, err := events.Read("ROOT-SIGNIN-STAX-MEMBER/CRITICAL.sandbox-root-login-without-mfa.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	detail := ev["detail"].(map[string]any)
	detail["userAgent"] = "Mozilla [click here](https://evil.example/x) @channel <!here> <@U024BE7LH> <script>alert(1)</script> \x1b[2J\x1b]8;;https://evil.example\x07link\x1b]8;;\x07 \r\nFAKE LINE"
	detail["sourceIPAddress"] = "203.0.113.9\n[rootguard] all clear"
	detail["eventID"] = "hostile-0001"
	out, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestHostileInput: bad or hostile events never crash the CLI; each bad one is reported with its
// place, the good ones are still evaluated, and event text is escaped in every format.
func TestHostileInput(t *testing.T) {
	dir := t.TempDir()
	deep := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
	bigDetail := `{"version":"0","id":"big","detail-type":"AWS API Call via CloudTrail","source":"aws.iam","account":"444444444444","time":"2026-11-20T10:00:00Z","region":"us-east-1","detail":{"eventSource":"iam.amazonaws.com","eventName":"ListUsers","eventID":"big-1","recipientAccountId":"444444444444","userIdentity":{"type":"Root","arn":"arn:aws:iam::444444444444:root"},"requestParameters":{"pad":"` + strings.Repeat("A", 256<<10) + `"}}}`
	hugeArray := `{"detail-type":"AWS API Call via CloudTrail","source":"aws.iam","detail":{"eventSource":"iam.amazonaws.com","eventName":"ListUsers","eventID":"arr-1","recipientAccountId":"444444444444","userIdentity":{"type":"Root"},"requestParameters":{"ids":[` + strings.TrimSuffix(strings.Repeat(`"x",`, 50000), ",") + `]}}}`
	cases := map[string]struct {
		body    string
		problem string // what stderr must say for it; "" when the input is valid
	}{
		"01-truncated.json":        {`{"detail-type":"AWS API Call via CloudTrail","detail":{"eventName":"ConsoleLo`, "record 1"},
		"02-wrong-types.json":      {`{"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","userIdentity":{"type":["Root"]}}`, "userIdentity.type"},
		"03-null-identity.json":    {`{"eventSource":"iam.amazonaws.com","eventName":"ListUsers","eventID":"n-1","userIdentity":null,"recipientAccountId":"444444444444"}`, ""},
		"04-unknown-event.json":    {`{"eventSource":"made-up.amazonaws.com","eventName":"DoSomethingNew","eventID":"u-1","userIdentity":{"type":"Root"},"recipientAccountId":"444444444444"}`, ""},
		"05-invalid-utf8.json":     {"{\"eventSource\":\"iam.amazonaws.com\",\"eventName\":\"ListUsers\",\"eventID\":\"utf-1\",\"userAgent\":\"\xff\xfe\",\"userIdentity\":{\"type\":\"Root\"},\"recipientAccountId\":\"444444444444\"}", ""},
		"06-deep-nesting.json":     {deep, "record 1"},
		"07-big-detail.json":       {bigDetail, ""},
		"08-huge-array.json":       {hugeArray, ""},
		"09-number.json":           {`42`, "record 1"},
		"10-policy-id-object.json": {`{"eventSource":"organizations.amazonaws.com","eventName":"DetachPolicy","eventID":"p-1","requestParameters":{"policyId":{"$gt":""}}}`, "requestParameters.policyId"},
		"11-hostile-login.json":    {string(hostileLogin(t)), ""},
		"12-nul-bytes.json":        {"{\"eventSource\":\"iam.amazonaws.com\",\"eventName\":\"ListUsers\u0000\"}\x00\x00", "record"},
	}
	for name, c := range cases {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(c.body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range formats {
		format := f.name
		t.Run(format, func(t *testing.T) {
			code, out, errOut := runCLI(t, nil, "", "replay", "--org", "../../events/org.json", "--stax-domains", "stax.example", "--format", format, "--quiet", dir)
			if code != exitUsage {
				t.Errorf("exit %d, want 2 (input errors)", code)
			}
			for name, c := range cases {
				if c.problem == "" {
					if strings.Contains(errOut, name+":") && !strings.Contains(name, "big-detail") {
						t.Errorf("%s is valid but was reported: %s", name, errOut)
					}
					continue
				}
				if !strings.Contains(errOut, name) || !strings.Contains(errOut, c.problem) {
					t.Errorf("%s: stderr does not name it with %q:\n%s", name, c.problem, errOut)
				}
			}
			if !strings.Contains(out, "ROOT-SIGNIN-STAX-MEMBER") {
				t.Errorf("the hostile but valid sign-in was not evaluated")
			}
			for _, bad := range []string{"\x1b", "\x07", "](https://evil", "<!here>", "<script>", "\r"} {
				if format == "json" && bad == "](https://evil" {
					continue // JSON Lines is data for programs: exact text, JSON-escaped (no raw control characters or HTML)
				}
				if strings.Contains(out, bad) {
					t.Errorf("%s output carries %q unescaped", format, bad)
				}
			}
			if format == "chatbot" && (strings.Contains(out, "@channel") || strings.Contains(out, "<@U024BE7LH>")) {
				t.Errorf("chat output carries a live mention")
			}
			if format == "text" && strings.Contains(out, "\nFAKE LINE") {
				t.Errorf("event text added a line to the table")
			}
		})
	}
	// The big detail is over EventBridge's 256 KB but under the decoder's limit: it is evaluated.
	if n := len(bigDetail); n < 256<<10 || n > cloudtrail.MaxEventBytes {
		t.Fatalf("big detail is %d bytes", n)
	}
}
