package render

import (
	"strings"
	"time"

	"github.com/rootguard/rootguard/internal/finding"
)

// resolvedLine is the one sentence a resolution tells people: which finding, restored when and by
// what. Event text in it is escaped by each format's caller.
func resolvedLine(f finding.Finding) string {
	by := f.ResolvedBy
	if by == finding.ResolvedByAudit {
		by = "the audit"
	} else if by != "" {
		by = "event " + by
	} else {
		by = "an unknown event"
	}
	return "Resolved: the protection is restored (" + by + ", " + nonEmpty(f.ResolvedAt, "time unknown") + "). " + f.Title + "."
}

// resolvedEmailBody is the short email of a resolution.
func resolvedEmailBody(f finding.Finding) string {
	var b strings.Builder
	one := func(s string) string { return truncate(sanitize(s), emailMaxDetail, runeWidth, ellipsis) }
	for _, l := range wrap(one(resolvedLine(f)), emailWidth) {
		b.WriteString(l + "\n")
	}
	b.WriteString("\nRule:       " + one(f.Rule) + " (" + f.Severity.String() + " when raised)\n")
	b.WriteString("Account:    " + one(accountLabel(f)) + "\n")
	b.WriteString("Finding id: " + nonEmpty(one(f.ID), "-") + "\n")
	b.WriteString("Raised by:  " + nonEmpty(one(f.EventID), "-") + "\n")
	b.WriteString("\n-- \nSent by rootguard.\n")
	return b.String()
}

// resolvedChat is the short chat notification of a resolution, in the finding's thread.
func resolvedChat(f finding.Finding) ChatMessage {
	return ChatMessage{
		Version: "1.0",
		Source:  "custom",
		ID:      safeID(f.ID+"-resolved", chatMaxContext),
		Content: ChatContent{
			TextType:    "client-markdown",
			Title:       ":white_check_mark: " + chatText("RESOLVED "+f.Rule+" in "+accountLabel(f), chatMaxTitle),
			Description: chatText(resolvedLine(f), chatMaxContext),
		},
		Metadata: ChatMetadata{
			ThreadID:  chatThreadID(f),
			Summary:   chatText("RESOLVED "+f.Rule+" in "+accountLabel(f), chatMaxContext),
			EventType: chatText(f.Rule, chatMaxContext),
			AdditionalContext: map[string]string{
				"findingId": safeID(f.ID, chatMaxContext), "severity": f.Severity.String(), "status": finding.StatusResolved,
				"resolvedAt": chatText(f.ResolvedAt, chatMaxContext), "resolvedBy": chatText(f.ResolvedBy, chatMaxContext),
			},
		},
	}
}

// resolveASFF turns a finding's ASFF into its resolution: the same id, RecordState ARCHIVED (the
// provider's field; Workflow.Status belongs to the customer) and UpdatedAt the time of the
// restoration, which is later than the finding's, so Security Hub takes the update. When the
// restoration time is not later (clock skew), UpdatedAt is a millisecond after CreatedAt.
func resolveASFF(out *ASFFFinding, f finding.Finding, ctx ASFFContext) {
	out.RecordState = "ARCHIVED"
	created, _ := time.Parse(time.RFC3339Nano, out.CreatedAt)
	updated, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(f.ResolvedAt))
	if err != nil {
		updated = ctx.Now
	}
	if !updated.After(created) {
		updated = created.Add(time.Millisecond)
	}
	out.UpdatedAt = updated.UTC().Format(time.RFC3339Nano)
	out.Description = nonEmpty(asffText(resolvedLine(f), asffMaxDescription), out.Description)
}
