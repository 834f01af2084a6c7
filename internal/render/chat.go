package render

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/rootguard/rootguard/internal/finding"
)

// Chat length caps, in runes. The chat platforms cut long messages themselves; these keep a
// message readable and far below the SNS 256 KB limit.
const (
	chatMaxTitle       = 250
	chatMaxDescription = 2000
	chatMaxDetail      = 300
	chatMaxStep        = 1000
	chatMaxResources   = 10
	chatMaxContext     = 256
	chatMaxThreadID    = 100
)

// chatLookalikes replaces the characters that chat markdown (Slack mrkdwn, Microsoft Teams and
// Amazon Chime markdown) gives a meaning with look-alikes that no dialect interprets. Backslash
// escapes are not used: Slack shows the backslash and still applies the markup.
var chatLookalikes = map[rune]string{
	'[': "［",       // U+FF3B: no [text](url) links or ![alt](src) images
	']': "］",       // U+FF3D
	'<': "‹",       // U+2039: no <url|text> links, <!here>, <@U123>, <#C123>, HTML tags
	'>': "›",       // U+203A: no quotes
	'&': "＆",       // U+FF06: no HTML entities
	'*': "∗",       // U+2217: no bold
	'_': "ˍ",       // U+02CD: no italics
	'~': "∼",       // U+223C: no strikethrough
	'`': "ˋ",       // U+02CB: no code spans or blocks
	'@': "@\u200b", // a zero-width space after @: no @channel, @here, @everyone, @user
}

// chatText sanitizes s, truncates it to limit runes and neutralises its chat markup. The zero-width
// spaces chatMarkup adds after @ are not counted in limit, so a cut cannot separate them.
func chatText(s string, limit int) string {
	return chatMarkup(truncate(sanitize(s), limit, runeWidth, ellipsis))
}

// chatMarkup replaces the characters of chatLookalikes, and a # that starts the text (a
// heading) with ＃ (U+FF03). The text stays readable; only its markup is gone.
func chatMarkup(s string) string {
	var b strings.Builder
	b.Grow(len(s) + len(s)/4)
	for i, r := range s {
		switch {
		case r == '#' && i == 0:
			b.WriteString("＃")
		case chatLookalikes[r] != "":
			b.WriteString(chatLookalikes[r])
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// chatEmoji is the emoji that starts a chat title, by severity.
var chatEmoji = map[finding.Severity]string{
	finding.Critical:      ":rotating_light:",
	finding.High:          ":red_circle:",
	finding.Medium:        ":warning:",
	finding.Low:           ":large_blue_circle:",
	finding.Informational: ":information_source:",
}

// ChatMessage is an Amazon Q Developer in chat applications custom notification.
type ChatMessage struct {
	Version  string       `json:"version"`
	Source   string       `json:"source"`
	ID       string       `json:"id,omitempty"`
	Content  ChatContent  `json:"content"`
	Metadata ChatMetadata `json:"metadata"`
}

// ChatContent is the content of a custom notification.
type ChatContent struct {
	TextType    string   `json:"textType"`
	Title       string   `json:"title"`
	Description string   `json:"description"`
	NextSteps   []string `json:"nextSteps,omitempty"`
	Keywords    []string `json:"keywords,omitempty"`
}

// ChatMetadata is the metadata of a custom notification.
type ChatMetadata struct {
	ThreadID          string            `json:"threadId"`
	Summary           string            `json:"summary"`
	EventType         string            `json:"eventType"`
	RelatedResources  []string          `json:"relatedResources,omitempty"`
	AdditionalContext map[string]string `json:"additionalContext,omitempty"`
}

// ChatNotification builds the custom notification of a finding. Every text taken from the
// finding is escaped for chat markdown (see chatEscape): the finding's title, description and
// remediation embed event text, and the renderer cannot tell the parts apart.
func ChatNotification(f finding.Finding) ChatMessage {
	if f.Status == finding.StatusResolved {
		return resolvedChat(f)
	}
	sev := f.Severity.String()
	emoji := chatEmoji[f.Severity]
	if emoji == "" {
		emoji = ":grey_question:"
	}
	title := f.Title
	if f.Canary {
		title = "[canary] " + title
	}
	rule := chatText(f.Rule, chatMaxContext)
	msg := ChatMessage{
		Version: "1.0",
		Source:  "custom",
		ID:      safeID(f.ID, chatMaxContext),
		Content: ChatContent{
			TextType:    "client-markdown",
			Title:       emoji + " " + chatText(sev+" "+title, chatMaxTitle),
			Description: chatDescription(f),
			NextSteps:   chatSteps(f.Remediation),
			Keywords:    chatKeywords(f),
		},
		Metadata: ChatMetadata{
			ThreadID:          chatThreadID(f),
			Summary:           chatText(sev+" "+f.Rule+" in "+accountLabel(f), chatMaxContext),
			EventType:         rule,
			RelatedResources:  chatResources(f),
			AdditionalContext: chatContext(f),
		},
	}
	return msg
}

// Chat renders the custom notification of a finding as the JSON to publish to the SNS topic
// that Amazon Q Developer in chat applications reads.
func Chat(f finding.Finding) ([]byte, error) {
	b, err := json.Marshal(ChatNotification(f))
	if err != nil {
		return nil, fmt.Errorf("encode chat notification for finding %s: %w", safeID(f.ID, 80), err)
	}
	return b, nil
}

// accountLabel is "<id> (<name>)", or the id alone, or "unknown account".
func accountLabel(f finding.Finding) string {
	id, name := sanitize(f.AccountID), sanitize(f.AccountName)
	switch {
	case id != "" && name != "":
		return id + " (" + name + ")"
	case id != "":
		return id
	case name != "":
		return name
	}
	return "unknown account"
}

// chatDescription is the finding's description followed by one line per detail.
func chatDescription(f finding.Finding) string {
	var lines []string
	detail := func(label, value string) {
		if v := chatText(value, chatMaxDetail); v != "" {
			lines = append(lines, label+": "+v)
		}
	}
	ownership, role := nonEmpty(f.Ownership, finding.Unknown), nonEmpty(f.AccountRole, finding.Unknown)
	detail("Account", accountLabel(f)+", "+ownership+" "+role+" account")
	event := nonEmpty(sanitize(f.EventName), "event")
	if t := sanitize(f.EventTime); t != "" {
		event += " at " + t
	}
	if r := sanitize(f.Region); r != "" {
		event += " in " + r
	}
	detail("Event", event)
	actor := sanitize(f.Actor)
	if ip := sanitize(f.SourceIP); ip != "" {
		actor = strings.TrimSpace(actor + " from " + ip)
	}
	detail("Actor", actor)
	detail("New calls", strings.Join(f.NewCalls, ", "))
	detail("Calls", strings.Join(f.Calls, ", "))
	detail("Exception", f.Exception)
	detail("Finding", strings.TrimSpace(f.ID+" (event "+f.EventID+")"))
	body := chatText(f.Description, chatMaxDescription)
	if body == "" {
		return strings.Join(lines, "\n")
	}
	return body + "\n\n" + strings.Join(lines, "\n")
}

// chatSteps is the remediation as the one next step.
func chatSteps(remediation string) []string {
	if s := chatText(remediation, chatMaxStep); s != "" {
		return []string{s}
	}
	return nil
}

// chatKeywords are the rule, the severity, the account id and the ownership.
func chatKeywords(f finding.Finding) []string {
	var out []string
	for _, k := range []string{f.Rule, f.Severity.String(), f.AccountID, f.Ownership} {
		if k = chatText(k, 64); k != "" {
			out = append(out, k)
		}
	}
	return out
}

// chatThreadID groups the notifications of one rule on one account into one thread.
func chatThreadID(f finding.Finding) string {
	return safeID(strings.ToLower("rootguard-"+f.Rule+"-"+nonEmpty(f.AccountID, finding.Unknown)), chatMaxThreadID)
}

// chatResources are the affected account and the finding's resources.
func chatResources(f finding.Finding) []string {
	var out []string
	if isAccountID(f.AccountID) {
		out = append(out, "AWS::::Account:"+f.AccountID)
	}
	for _, r := range f.Resources {
		if len(out) == chatMaxResources {
			break
		}
		if r = chatText(r, chatMaxContext); r != "" {
			out = append(out, r)
		}
	}
	return out
}

// chatContext is the finding's identifying fields, escaped; empty values left out.
func chatContext(f finding.Finding) map[string]string {
	out := map[string]string{}
	for k, v := range map[string]string{
		"findingId": f.ID, "rule": f.Rule, "severity": f.Severity.String(),
		"accountId": f.AccountID, "accountName": f.AccountName, "ownership": f.Ownership,
		"accountRole": f.AccountRole, "eventId": f.EventID, "eventName": f.EventName,
		"eventTime": f.EventTime, "region": f.Region, "actor": f.Actor, "sourceIp": f.SourceIP,
	} {
		if v = chatText(v, chatMaxContext); v != "" {
			out[k] = v
		}
	}
	return out
}

// safeID keeps the characters [A-Za-z0-9.-] of s (others become -) and truncates it to limit bytes.
func safeID(s string, limit int) string {
	s = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
			return r
		}
		return '-'
	}, s)
	if len(s) > limit {
		s = s[:limit]
	}
	return s
}
