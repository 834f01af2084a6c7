package handler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/rootguard/rootguard/functions/internal/notify"
	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/function"
	"github.com/rootguard/rootguard/internal/route"
)

// Hostile text: markdown links, mentions (Slack, Teams, chat), HTML, terminal and bell control
// sequences, carriage returns and fake lines.
const hostileText = "Mozilla [click here](https://evil.example/x) @channel @here <!here> <!channel> <@U024BE7LH> <at>all</at> " +
	"<script>alert(1)</script><img src=x onerror=alert(1)> \x1b[2J\x1b]8;;https://evil.example\x07link\x1b]8;;\x07 \x00\x7f\u202e\r\nFAKE LINE"

// detailEvent is an EventBridge event around a CloudTrail record given as JSON text, in the
// account that recorded it (its recipientAccountId), as AWS delivers it.
func detailEvent(source, detailType, detail string) []byte {
	var rec struct {
		RecipientAccountID string `json:"recipientAccountId"`
	}
	_ = json.Unmarshal([]byte(detail), &rec) // a malformed detail is what some cases test
	return []byte(`{"version":"0","id":"env-1","detail-type":"` + detailType + `","source":"` + source +
		`","account":"` + rec.RecipientAccountID + `","time":"2026-11-20T10:00:00Z","region":"us-east-1","resources":[],"detail":` + detail + `}`)
}

// sampleWith reads a sample event and changes fields of its CloudTrail record.
func sampleWith(t *testing.T, rel string, change func(detail map[string]any)) []byte {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(readSample(t, rel), &ev); err != nil {
		t.Fatal(err)
	}
	change(ev["detail"].(map[string]any))
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestHostileEvents: bad events are refused with an error that says what is wrong (so Lambda
// keeps them in the on-failure destination for a person), odd but valid ones are evaluated, and
// nothing panics.
func TestHostileEvents(t *testing.T) {
	const orgsAPI, signinType = "AWS API Call via CloudTrail", "AWS Console Sign In via CloudTrail"
	root := `"userIdentity":{"type":"Root","arn":"arn:aws:iam::444444444444:root","accountId":"444444444444"}`
	nested := strings.Repeat(`{"a":`, 20000) + `1` + strings.Repeat(`}`, 20000)
	bigPad := strings.Repeat("A", 256<<10)
	hugeArray := `[` + strings.TrimSuffix(strings.Repeat(`"x",`, 60000), ",") + `]` // 240 KB: under EventBridge's 256 KB
	tests := []struct {
		name    string
		fn      string
		raw     []byte
		wantErr error    // nil: the event is evaluated
		errHas  []string // what the error must name
		rules   []string // rules raised by an evaluated event
	}{
		{
			name: "truncated JSON", fn: function.RootActivity,
			raw:     []byte(`{"detail-type":"AWS API Call via CloudTrail","detail":{"eventName":"ConsoleLo`),
			wantErr: ErrDecode, errHas: []string{"not JSON", "unexpected end of JSON input"},
		},
		{
			name: "wrong type: userIdentity.type an array", fn: function.RootActivity,
			raw:     detailEvent("aws.signin", signinType, `{"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","userIdentity":{"type":["Root"]}}`),
			wantErr: ErrDecode, errHas: []string{"detail.userIdentity.type", "array"},
		},
		{
			name: "wrong type: eventTime a number", fn: function.SCPGuard,
			raw:     detailEvent("aws.organizations", orgsAPI, `{"eventSource":"organizations.amazonaws.com","eventName":"DetachPolicy","eventTime":12}`),
			wantErr: ErrDecode, errHas: []string{"detail.eventTime", "number"},
		},
		{
			name: "wrong type: policyId an object (injection attempt)", fn: function.SCPGuard,
			raw:     detailEvent("aws.organizations", orgsAPI, `{"eventSource":"organizations.amazonaws.com","eventName":"DetachPolicy","requestParameters":{"policyId":{"$gt":""}}}`),
			wantErr: ErrDecode, errHas: []string{"requestParameters.policyId"},
		},
		{
			name: "detail null", fn: function.SCPGuard,
			raw:     detailEvent("aws.organizations", orgsAPI, `null`),
			wantErr: ErrDecode, errHas: []string{"detail is a JSON null"},
		},
		{
			name: "null userIdentity: evaluated, actor unknown", fn: function.SCPGuard,
			raw: detailEvent("aws.organizations", orgsAPI, `{"eventVersion":"1.08","eventSource":"organizations.amazonaws.com","eventName":"DetachPolicy","eventID":"null-identity",`+
				`"eventTime":"2026-11-20T10:00:00Z","userIdentity":null,"requestParameters":{"policyId":"p-st4xprot01","targetId":"r-st4x"},"recipientAccountId":"111111111111","awsRegion":"us-east-1"}`),
			rules: []string{"SCP-DETACHED"},
		},
		{
			name: "null userIdentity on a sign-in: not routed to root-activity", fn: function.RootActivity,
			raw:     detailEvent("aws.signin", signinType, `{"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","eventID":"x","userIdentity":null}`),
			wantErr: ErrNotRouted, errHas: []string{`userIdentity.type ""`},
		},
		{
			name: "unknown event name from an unknown service, by root: evaluated", fn: function.RootActivity,
			raw: detailEvent("aws.madeup", orgsAPI, `{"eventSource":"made-up.amazonaws.com","eventName":"DoSomethingNew","eventID":"unknown-1","eventTime":"2026-11-20T10:00:00Z",`+
				root+`,"recipientAccountId":"444444444444","awsRegion":"us-east-1"}`),
			rules: []string{"ROOT-ACTIVITY"},
		},
		{
			name: "unknown Organizations event name: not routed, named", fn: function.SCPGuard,
			raw:     detailEvent("aws.organizations", orgsAPI, `{"eventSource":"organizations.amazonaws.com","eventName":"FrobnicatePolicy","eventID":"f-1","userIdentity":{"type":"IAMUser"}}`),
			wantErr: ErrNotRouted, errHas: []string{`eventName "FrobnicatePolicy"`},
		},
		{
			name: "256 KB detail: evaluated", fn: function.RootActivity,
			raw: detailEvent("aws.iam", orgsAPI, `{"eventSource":"iam.amazonaws.com","eventName":"CreateUser","eventID":"big-1","eventTime":"2026-11-20T10:00:00Z",`+
				root+`,"recipientAccountId":"444444444444","awsRegion":"us-east-1","requestParameters":{"userName":"x","pad":"`+bigPad+`"}}`),
			rules: []string{"ROOT-ACTIVITY"},
		},
		{
			name: "over 1 MB: refused, the size named", fn: function.RootActivity,
			raw:     detailEvent("aws.iam", orgsAPI, `{"eventSource":"iam.amazonaws.com","eventName":"CreateUser",`+root+`,"requestParameters":{"pad":"`+strings.Repeat(bigPad, 5)+`"}}`),
			wantErr: ErrDecode, errHas: []string{"bytes, more than the"},
		},
		{
			name: "invalid UTF-8 in the user agent: evaluated", fn: function.RootActivity,
			raw: detailEvent("aws.iam", orgsAPI, "{\"eventSource\":\"iam.amazonaws.com\",\"eventName\":\"CreateUser\",\"eventID\":\"utf-1\",\"eventTime\":\"2026-11-20T10:00:00Z\","+
				root+",\"userAgent\":\"\xff\xfe\xc0\xaf\",\"sourceIPAddress\":\"\xed\xa0\x80\",\"recipientAccountId\":\"444444444444\",\"awsRegion\":\"us-east-1\"}"),
			rules: []string{"ROOT-ACTIVITY"},
		},
		{
			name: "deep nesting in requestParameters: refused", fn: function.SCPGuard,
			raw:     detailEvent("aws.organizations", orgsAPI, `{"eventSource":"organizations.amazonaws.com","eventName":"DetachPolicy","requestParameters":{"policyId":"p-1","x":`+nested+`}}`),
			wantErr: ErrDecode, errHas: []string{"exceeded max depth"},
		},
		{
			name: "deep nesting of the whole event: refused", fn: function.RootActivity,
			raw:     []byte(strings.Repeat("[", 100000) + strings.Repeat("]", 100000)),
			wantErr: ErrDecode, errHas: []string{"exceeded max depth"},
		},
		{
			name: "huge array in requestParameters: evaluated", fn: function.SCPGuard,
			raw: detailEvent("aws.organizations", orgsAPI, `{"eventVersion":"1.08","eventSource":"organizations.amazonaws.com","eventName":"DetachPolicy","eventID":"arr-1",`+
				`"eventTime":"2026-11-20T10:00:00Z","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111111111111:user/x"},"requestParameters":{"policyId":"p-st4xprot01","targetId":"r-st4x","extra":`+hugeArray+`},"recipientAccountId":"111111111111","awsRegion":"us-east-1"}`),
			rules: []string{"SCP-DETACHED"},
		},
		{
			name: "hostile text in a sign-in: evaluated", fn: function.RootActivity,
			raw:   hostileSignIn(t),
			rules: []string{"ROOT-SIGNIN-STAX-MEMBER"},
		},
		{
			name: "hostile policy name in a rename: evaluated", fn: function.SCPGuard,
			raw:   hostileRename(t),
			rules: []string{"SCP-MODIFIED"},
		},
		{
			name: "not an object", fn: function.RootActivity,
			raw:     []byte(`42`),
			wantErr: ErrDecode,
		},
		{
			name: "empty input", fn: function.SCPGuard,
			raw:     []byte(``),
			wantErr: ErrDecode,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, log := &publisher{}, &bytes.Buffer{}
			h := evaluator(t, tt.fn, sampleOrg(t), out, log)
			err := h.Handle(context.Background(), tt.raw)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Handle = %v, want %v", err, tt.wantErr)
				}
				for _, s := range tt.errHas {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not name %q", err, s)
					}
				}
				if !strings.HasPrefix(err.Error(), tt.fn+": ") {
					t.Errorf("error %q does not name the function", err)
				}
				if len(out.got) != 0 {
					t.Errorf("published %d findings for a refused event", len(out.got))
				}
				if !strings.Contains(log.String(), `"msg":"event refused"`) {
					t.Errorf("no refusal in the log:\n%.2000s", log)
				}
				return
			}
			if err != nil {
				t.Fatalf("Handle: %v", err)
			}
			var rules []string
			for _, f := range out.got {
				rules = append(rules, f.Rule)
				if b := f.JSON(); !utf8.Valid(b) || !json.Valid(b) || len(b) > 64<<10 {
					t.Errorf("finding %s: %d bytes of JSON, valid UTF-8 %v: want small valid JSON", f.ID, len(b), utf8.Valid(b))
				}
			}
			for _, r := range tt.rules {
				if !slices.Contains(rules, r) {
					t.Errorf("rules %v, want %s among them", rules, r)
				}
			}
			if l := log.String(); !utf8.ValidString(l) || strings.ContainsAny(l, "\x1b\x07") {
				t.Errorf("the log carries invalid UTF-8 or raw control characters:\n%.2000q", l)
			}
		})
	}
}

// hostileSignIn is a root sign-in to a Stax-owned member whose text tries to inject into every
// output: user agent, source address, session and ARN.
func hostileSignIn(t *testing.T) []byte {
	t.Helper()
	return sampleWith(t, "ROOT-SIGNIN-STAX-MEMBER/CRITICAL.sandbox-root-login-without-mfa.json", func(d map[string]any) {
		d["userAgent"] = hostileText
		d["sourceIPAddress"] = "203.0.113.9\n[rootguard] all clear <@U024BE7LH>"
		d["eventID"] = "hostile-signin-1"
	})
}

// hostileRename renames the protection SCP to a name carrying injection text.
func hostileRename(t *testing.T) []byte {
	t.Helper()
	return detailEvent("aws.organizations", "AWS API Call via CloudTrail", mustJSON(t, map[string]any{
		"eventVersion": "1.08", "eventSource": "organizations.amazonaws.com", "eventName": "UpdatePolicy", "eventID": "hostile-rename-1",
		"eventTime": "2026-11-20T10:00:00Z", "awsRegion": "us-east-1", "recipientAccountId": "111111111111", "sourceIPAddress": "198.51.100.7",
		"userAgent":         hostileText,
		"userIdentity":      map[string]any{"type": "AssumedRole", "arn": "arn:aws:sts::111111111111:assumed-role/admin/<!channel>\x1b[31m[x](https://evil.example)", "accountId": "111111111111"},
		"requestParameters": map[string]any{"policyId": "p-st4xprot01", "name": "harmless " + hostileText},
	}))
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// capture records what the notifier would send to SNS and Security Hub.
type capture struct {
	publishes []*sns.PublishInput
	imports   []*securityhub.BatchImportFindingsInput
}

func (c *capture) Publish(_ context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	c.publishes = append(c.publishes, in)
	return &sns.PublishOutput{MessageId: aws.String("m")}, nil
}

func (c *capture) BatchImportFindings(_ context.Context, in *securityhub.BatchImportFindingsInput, _ ...func(*securityhub.Options)) (*securityhub.BatchImportFindingsOutput, error) {
	c.imports = append(c.imports, in)
	return &securityhub.BatchImportFindingsOutput{FailedCount: aws.Int32(0), SuccessCount: aws.Int32(int32(len(in.Findings)))}, nil
}

// TestHostileTextIsEscapedInNotifications: the findings of hostile events, as the notifier would
// send them, carry no live link, mention, HTML or control character: the SNS email subject is
// one printable ASCII line, the email body has no control characters, the chat JSON has its
// markdown and mentions escaped, and the Security Hub finding has none of the raw sequences.
func TestHostileTextIsEscapedInNotifications(t *testing.T) {
	for name, raw := range map[string][]byte{"sign-in": hostileSignIn(t), "rename": hostileRename(t)} {
		t.Run(name, func(t *testing.T) {
			fn := function.RootActivity
			if name == "rename" {
				fn = function.SCPGuard
			}
			out := &publisher{}
			if err := evaluator(t, fn, sampleOrg(t), out, &bytes.Buffer{}).Handle(context.Background(), raw); err != nil {
				t.Fatal(err)
			}
			if len(out.got) == 0 {
				t.Fatal("no finding")
			}
			c := &capture{}
			n := &notify.Handler{
				Channels: []notify.Channel{
					{Name: notify.ChannelAlerts, MinSeverity: finding.Informational, People: true, Sender: &notify.Alerts{API: c, TopicARN: "arn:aws:sns:us-east-1:111111111111:alerts"}},
					{Name: notify.ChannelChat, MinSeverity: finding.Informational, People: true, Sender: &notify.Chat{API: c, TopicARN: "arn:aws:sns:us-east-1:111111111111:chat"}},
					{Name: notify.ChannelSecurityHub, MinSeverity: finding.Informational, Sender: &notify.SecurityHub{API: c, Region: "us-east-1",
						Account: func(context.Context) (string, error) { return "111111111111", nil }}},
				},
				Log: slog.New(slog.NewJSONHandler(io.Discard, nil)),
			}
			var mentioned bool
			for _, f := range out.got {
				if strings.Contains(f.Description+f.Title+f.Actor+f.SourceIP+strings.Join(f.Calls, ""), "evil.example") ||
					strings.Contains(f.Description+f.Actor+f.SourceIP, "U024BE7LH") || strings.Contains(f.Description+f.Actor, "<!channel>") {
					mentioned = true
				}
				if err := n.Handle(context.Background(), busEventOf(t, f)); err != nil {
					t.Fatalf("notifier: %v", err)
				}
			}
			if !mentioned {
				t.Fatal("no finding carries the hostile text: the test proves nothing")
			}
			raw := []string{"\x1b", "\x07", "\x00", "\r", "\u202e", "](https://evil", "<!here>", "<!channel>", "<@U024BE7LH>", "<script>", "<img", "<at>"}
			for _, p := range c.publishes {
				msg := aws.ToString(p.Message)
				if p.Subject != nil { // email
					s := aws.ToString(p.Subject)
					if len(s) == 0 || len(s) > 100 || strings.IndexFunc(s, func(r rune) bool { return r < 0x20 || r > 0x7e }) >= 0 {
						t.Errorf("email subject %q: want 1 to 100 printable ASCII characters", s)
					}
					for _, bad := range []string{"\x1b", "\x07", "\x00", "\r", "\u202e"} {
						if strings.Contains(msg, bad) {
							t.Errorf("email body carries %q", bad)
						}
					}
					if strings.Contains(msg, "\nFAKE LINE") || strings.Contains(msg, "\n[rootguard] all clear") {
						t.Errorf("event text starts a line of its own in the email:\n%s", msg)
					}
					continue
				}
				if !json.Valid([]byte(msg)) {
					t.Fatalf("chat message is not JSON: %s", msg)
				}
				var decoded any
				_ = json.Unmarshal([]byte(msg), &decoded)
				text := fmt.Sprint(decoded)
				for _, bad := range append(raw, "@channel", "@here") {
					if strings.Contains(text, bad) {
						t.Errorf("chat message carries %q live:\n%s", bad, msg)
					}
				}
			}
			if len(c.imports) == 0 {
				t.Fatal("nothing imported into Security Hub")
			}
			for _, in := range c.imports {
				b, _ := json.Marshal(in.Findings)
				var decoded any
				_ = json.Unmarshal(b, &decoded)
				text := fmt.Sprint(decoded)
				for _, bad := range []string{"\x1b", "\x07", "\x00", "\r", "\u202e"} {
					if strings.Contains(text, bad) {
						t.Errorf("Security Hub finding carries %q", bad)
					}
				}
			}
		})
	}
}

func busEventOf(t *testing.T, f finding.Finding) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"version": "0", "id": "bus-" + f.ID, "source": route.FindingSource, "detail-type": route.FindingDetailType,
		"account": "111111111111", "time": "2026-11-20T10:00:05Z", "region": "us-east-1", "detail": json.RawMessage(f.JSON()),
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}
