package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/rootguard/rootguard/functions/internal/fault"
	"github.com/rootguard/rootguard/internal/finding"
)

const hostile = "[click here](https://evil.example/x) @channel @here <!here> <!channel> <@U024BE7LH> <at>all</at> " +
	"<script>alert(1)</script> \x1b[2J\x1b]8;;https://evil.example\x07link\x1b]8;;\x07 \x00\u202e\r\nFAKE LINE"

// envelope wraps a detail (JSON text) in a finding event.
func envelope(detail string) []byte {
	return []byte(`{"version":"0","id":"bus-1","source":"rootguard","detail-type":"RootGuard Finding","account":"111111111111",` +
		`"time":"2026-11-17T09:01:30Z","region":"us-east-1","detail":` + detail + `}`)
}

// TestHostileFindingEvents: what the notifier refuses it refuses with a permanent error that
// says what is wrong (the event then waits in the on-failure destination for a person); odd but
// valid findings are delivered within every channel's limits; nothing panics.
func TestHostileFindingEvents(t *testing.T) {
	good := sample("f-hostile", finding.High)
	withText := func(change func(f *finding.Finding)) []byte {
		f := good
		change(&f)
		return event(t, f)
	}
	nested := strings.Repeat(`{"a":`, 20000) + `1` + strings.Repeat(`}`, 20000)
	tests := []struct {
		name   string
		raw    []byte
		errHas []string // nil: delivered
	}{
		{"truncated JSON", []byte(`{"source":"rootguard","detail-type":"RootGuard Finding","detail":{"id":"f-1","rul`), []string{"unexpected end of JSON input"}},
		{"wrong type: severity a number", envelope(`{"id":"f-1","rule":"ROOT-SIGNIN","severity":4}`), []string{"detail", "Finding.severity"}},
		{"wrong type: id a number", envelope(`{"id":17,"rule":"ROOT-SIGNIN","severity":"HIGH"}`), []string{"detail", "Finding.id"}},
		{"wrong type: calls a string", envelope(`{"id":"f-1","rule":"ROOT-SIGNIN","severity":"HIGH","calls":"ListUsers"}`), []string{"detail", "Finding.calls"}},
		{"detail null", envelope(`null`), []string{"no id"}},
		{"unknown detail-type", []byte(`{"source":"rootguard","detail-type":"RootGuard Findings v2","detail":{}}`), []string{`detail-type "RootGuard Findings v2"`}},
		{"not from rootguard", []byte(`{"source":"aws.signin","detail-type":"RootGuard Finding","detail":{}}`), []string{`source "aws.signin"`}},
		{"deep nesting", envelope(`{"id":"f-1","rule":"ROOT-SIGNIN","severity":"HIGH","x":` + nested + `}`), []string{"exceeded max depth"}},
		{"unknown severity word", envelope(`{"id":"f-1","rule":"ROOT-SIGNIN","severity":"APOCALYPTIC"}`), []string{`unknown severity "APOCALYPTIC"`}},
		{"256 KB description", withText(func(f *finding.Finding) { f.Description = strings.Repeat("A very long description. ", 11000) }), nil},
		{"huge array of calls", withText(func(f *finding.Finding) {
			for i := range 100000 {
				f.Calls = append(f.Calls, fmt.Sprintf("iam:Call%d", i))
			}
		}), nil},
		{"invalid UTF-8", envelope("{\"id\":\"f-utf\",\"rule\":\"ROOT-SIGNIN\",\"severity\":\"HIGH\",\"accountName\":\"\xff\xfe\",\"title\":\"\xc0\xaf title\",\"description\":\"\xed\xa0\x80\"}"), nil},
		{"hostile text in every field", withText(func(f *finding.Finding) {
			f.Title, f.Description, f.Remediation, f.AccountName = hostile, hostile, hostile, hostile
			f.Actor, f.SourceIP, f.EventName, f.Region = hostile, hostile, hostile, hostile
			f.Calls, f.Resources, f.Exception = []string{hostile}, []string{hostile}, hostile
		}), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api, hub := &fakeSNS{}, &fakeHub{}
			h := &Handler{
				Channels: []Channel{
					{Name: ChannelAlerts, MinSeverity: finding.Low, People: true, Sender: &Alerts{API: api, TopicARN: "arn:aws:sns:us-east-1:111111111111:alerts"}},
					{Name: ChannelChat, MinSeverity: finding.Medium, People: true, Sender: &Chat{API: api, TopicARN: "arn:aws:sns:us-east-1:111111111111:chat"}},
					{Name: ChannelSecurityHub, MinSeverity: finding.Informational, Sender: &SecurityHub{API: hub, Region: "us-east-1",
						Account: func(context.Context) (string, error) { return "111111111111", nil }}},
				},
				Log: quietLog(),
			}
			err := h.Handle(context.Background(), tt.raw)
			if tt.errHas != nil {
				if !errors.Is(err, ErrNotFinding) || fault.Classify(err) {
					t.Fatalf("Handle = %v, want a permanent ErrNotFinding", err)
				}
				for _, s := range tt.errHas {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not name %q", err, s)
					}
				}
				if len(api.in) != 0 || len(hub.calls) != 0 {
					t.Errorf("sent %d messages and %d imports for a refused event", len(api.in), len(hub.calls))
				}
				return
			}
			if err != nil {
				t.Fatalf("Handle: %v", err)
			}
			if len(api.in) != 2 || len(hub.calls) != 1 {
				t.Fatalf("%d SNS messages and %d imports, want 2 and 1", len(api.in), len(hub.calls))
			}
			for _, in := range api.in {
				msg := aws.ToString(in.Message)
				if len(msg) > 256<<10 || !utf8.ValidString(msg) {
					t.Errorf("SNS message of %d bytes (valid UTF-8 %v): want at most 256 KB of valid UTF-8", len(msg), utf8.ValidString(msg))
				}
				checkEscaped(t, in, msg)
			}
			b, _ := json.Marshal(hub.calls[0])
			if !utf8.Valid(b) {
				t.Error("the Security Hub finding is not valid UTF-8")
			}
			for _, bad := range []string{`\u001b`, `\u0007`, `\u0000`, `\r`, `\u202e`} {
				if strings.Contains(string(b), bad) {
					t.Errorf("the Security Hub finding carries %s", bad)
				}
			}
		})
	}
}

// checkEscaped checks one SNS message: an email (it has a subject) carries no control
// character and no injected line; a chat message no live link, mention or HTML.
func checkEscaped(t *testing.T, in *sns.PublishInput, msg string) {
	t.Helper()
	if in.Subject != nil {
		s := aws.ToString(in.Subject)
		if len(s) == 0 || len(s) > 100 || strings.IndexFunc(s, func(r rune) bool { return r < 0x20 || r > 0x7e }) >= 0 {
			t.Errorf("email subject %q: want 1 to 100 printable ASCII characters", s)
		}
		for _, bad := range []string{"\x1b", "\x07", "\x00", "\r", "\u202e"} {
			if strings.Contains(msg, bad) {
				t.Errorf("email body carries %q", bad)
			}
		}
		if strings.Contains(msg, "\nFAKE LINE") {
			t.Error("event text starts a line of its own in the email")
		}
		return
	}
	var decoded any
	if err := json.Unmarshal([]byte(msg), &decoded); err != nil {
		t.Fatalf("chat message is not JSON: %v", err)
	}
	text := fmt.Sprint(decoded)
	for _, bad := range []string{"\x1b", "\x07", "\x00", "\r", "\u202e", "](https://evil", "<!here>", "<!channel>", "<@U024BE7LH>", "<script>", "<at>", "@channel", "@here"} {
		if strings.Contains(text, bad) {
			t.Errorf("chat message carries %q live", bad)
		}
	}
}
