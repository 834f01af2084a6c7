package report

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/render"
)

// Location says where a delivered report is.
type Location struct {
	// URI is the report's s3:// URI.
	URI string
	// Link is a pre-signed HTTPS GET link, "" when none was made; it works until LinkExpires.
	Link        string
	LinkExpires time.Time
	// LinkTemporary: the link was signed with temporary credentials of unknown expiry (a Lambda
	// role's session), and stops working when they expire, possibly before LinkExpires.
	LinkTemporary bool
}

// summaryMax is how many findings the summary lists.
const summaryMax = 10

// Summary returns the subject and plain-text body of the daily audit email: the totals, the
// accounts and their protection, the most severe findings, and where the full report is. The
// subject is printable ASCII and at most render.EmailSubjectMax characters; event text in the
// body is neutralised (render.Plain).
func Summary(in Input, loc Location) (subject, body string, err error) {
	p, err := build(in)
	if err != nil {
		return "", "", err
	}
	day := in.Generated.UTC().Format("2006-01-02")
	var parts []string
	for _, t := range p.Totals {
		if t.Count > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", t.Count, t.Sev))
		}
	}
	counts := "no findings"
	if len(parts) > 0 {
		counts = strings.Join(parts, ", ")
	}
	subject = fmt.Sprintf("[rootguard] daily audit %s: %d findings", day, p.Total)
	for _, t := range p.Totals {
		if t.Count > 0 {
			subject += fmt.Sprintf(", worst %s", t.Sev)
			break
		}
	}
	if len(subject) > render.EmailSubjectMax {
		subject = subject[:render.EmailSubjectMax]
	}

	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	org := p.OrgID
	if org == "" {
		org = "(unknown organization)"
	}
	line("rootguard daily audit of %s, %s", org, p.Generated)
	line("")
	line("Findings: %d (%s)", p.Total, counts)
	line("Accounts: %d (%d Stax-owned, %d customer-owned, %d unknown); root-guarding protection",
		p.Accounts.All, p.Accounts.Stax, p.Accounts.Customer, p.Accounts.Unknown)
	line("  applies to %d member account(s), not to %d.", p.Accounts.Protected, p.Accounts.Unprotected)
	line("")
	sorted := slices.Clone(in.Findings)
	slices.SortStableFunc(sorted, func(a, b finding.Finding) int { return int(b.Severity) - int(a.Severity) })
	shown := 0
	for _, f := range sorted {
		if f.Severity < finding.Medium || shown == summaryMax {
			break
		}
		if shown == 0 {
			line("Most severe:")
		}
		shown++
		line("  %-8s %s %s: %s", f.Severity, render.Plain(f.Rule, 40), render.Plain(f.AccountID, 20), render.Plain(f.Title, 160))
	}
	if shown > 0 {
		line("")
	}
	line("The full report (one HTML file; it opens offline, from disk):")
	if loc.URI != "" {
		line("  %s", loc.URI)
		line("  aws s3 cp %s rootguard-report.html", loc.URI)
	}
	if loc.Link != "" {
		line("  Pre-signed link, works until %s:", loc.LinkExpires.UTC().Format("2006-01-02 15:04 UTC"))
		line("  %s", loc.Link)
		if loc.LinkTemporary {
			line("  (signed with the audit function's temporary role credentials: AWS ends the link")
			line("  when they expire, which can be hours before the time above; use the s3:// URI then.)")
		}
	}
	line("")
	line("-- ")
	line("Sent by rootguard (daily audit).")
	return subject, b.String(), nil
}
