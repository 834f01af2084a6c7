// Package report renders rootguard's posture report: one self-contained HTML page built from the
// organization facts, the findings of a replay and an audit, and the configuration. The page makes
// no network request (no external font, image, style or script; a strict Content-Security-Policy
// allows only its own inline style sheet and its small inline script, by hash), so it opens from
// disk or as an email attachment. It shows the organization tree with each account's ownership,
// role, root-guarding protection, root credential state and worst open finding; a timeline by day
// and severity, with each root session as one mark with its calls; the findings table, sortable
// and filterable by severity, rule, account and ownership; the exception register and the trusted
// principals; and a header with the totals and the policy.
//
// Event text in findings and facts is data: it is neutralised exactly as for the other formats
// (render.Plain: control characters, escape sequences and bidirectional controls removed) and then
// escaped by html/template, so a hostile event renders inert.
package report

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"sync"
	"time"

	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/org"
	"github.com/rootguard/rootguard/internal/rule"
)

// Input is what a report is made of.
type Input struct {
	// Facts are the organization facts (org.Empty when none are known).
	Facts org.Facts
	// OUs name the organizational units (a snapshot's organizationalUnits); an OU not listed is
	// shown by its id.
	OUs []org.OU
	// Config is the rules' configuration (Stax domains, protection names, trusted principals), as
	// the engine normalised it (rule.Engine.Config).
	Config rule.Config
	// Findings are the findings to show: a replay's and an audit's.
	Findings []finding.Finding
	// Generated is the report's time; exception tags are judged active or expired at it.
	Generated time.Time
	// Sources says in one line what was evaluated (shown in the header).
	Sources string
}

//go:embed report.css
var css string

//go:embed report.js
var js string

//go:embed report.tmpl
var tmplText string

// tmpl is parsed on first use, not at start: the audit function's cold start does not pay for it.
var tmpl = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("report").Parse(tmplText))
})

// CSP is the page's Content-Security-Policy: nothing may load, the inline style sheet and script
// run only because their hashes are listed.
var CSP = "default-src 'none'; style-src " + hashSource(css) + "; script-src " + hashSource(js) +
	"; img-src 'none'; font-src 'none'; connect-src 'none'; base-uri 'none'; form-action 'none'"

func hashSource(s string) string {
	h := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(h[:]) + "'"
}

// view is the template's data: the page plus the inline code.
type view struct {
	*page
	CSP    string
	CSS    template.CSS
	Script template.JS
}

// Render writes the report as one HTML document.
func Render(w io.Writer, in Input) error {
	p, err := build(in)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := tmpl().Execute(&b, view{page: p, CSP: CSP, CSS: template.CSS(css), Script: template.JS(js)}); err != nil {
		return fmt.Errorf("report: render: %w", err)
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("report: write: %w", err)
	}
	return nil
}
