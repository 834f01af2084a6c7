package report

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/org"
	"github.com/rootguard/rootguard/internal/rule"
)

// timeline: findings per day and severity; root sessions (findings with calls) as one mark each.
func timeline(fs []finding.Finding) []day {
	byDay := map[string]*day{}
	counts := map[string]map[finding.Severity]int{}
	for _, f := range fs {
		d := dayOf(f.EventTime)
		if byDay[d] == nil {
			byDay[d] = &day{Date: d}
			counts[d] = map[finding.Severity]int{}
		}
		counts[d][f.Severity]++
		byDay[d].Total++
		if len(f.Calls) > 0 {
			byDay[d].Sessions = append(byDay[d].Sessions, session{
				Rule: clean(f.Rule), Account: clean(cmp.Or(f.AccountName, f.AccountID)), Time: clean(f.EventTime), Clock: clockOf(f.EventTime),
				Sev: f.Severity.String(), Class: sevClass(f.Severity), Calls: cleanAll(f.Calls),
			})
		}
	}
	var days []day
	maxDay := 0
	for _, d := range byDay {
		maxDay = max(maxDay, d.Total)
	}
	for date, d := range byDay {
		x := 0
		for i := len(finding.Severities) - 1; i >= 0; i-- {
			s := finding.Severities[i]
			n := counts[date][s]
			d.Counts = append(d.Counts, sevCount{Sev: s.String(), Class: sevClass(s), Count: n})
			if n > 0 {
				w := n * 300 / max(maxDay, 1)
				d.Bars = append(d.Bars, bar{Class: sevClass(s), X: x, W: max(w, 3)})
				x += max(w, 3)
			}
		}
		slices.SortFunc(d.Sessions, func(a, b session) int { return cmp.Compare(a.Time, b.Time) })
		days = append(days, *d)
	}
	slices.SortFunc(days, func(a, b day) int { return cmp.Compare(a.Date, b.Date) })
	return days
}

// exceptionsOf: the findings an exception or a trusted principal lowered.
func exceptionsOf(fs []finding.Finding) []exceptionView {
	var out []exceptionView
	for _, f := range fs {
		if f.Exception == "" {
			continue
		}
		kind := "exception"
		if strings.HasPrefix(f.Exception, "trusted principal ") {
			kind = "trusted principal"
		}
		out = append(out, exceptionView{
			Exception: clean(f.Exception), Rule: clean(f.Rule), Sev: f.Severity.String(),
			Account: clean(cmp.Or(f.AccountName, f.AccountID)), Time: shortTime(f.EventTime), Title: clean(f.Title), Kind: kind,
		})
	}
	slices.SortFunc(out, func(a, b exceptionView) int { return cmp.Compare(a.Time, b.Time) })
	return out
}

// taggedOf lists the exception tags found on the root, the OUs, the accounts and the policies,
// with the findings they lowered.
func taggedOf(facts org.Facts, o org.Organization, accounts []org.Account, ous []org.OU, fs []finding.Finding, now time.Time) []taggedException {
	type scope struct{ id, label string }
	var scopes []scope
	if o.RootID != "" {
		scopes = append(scopes, scope{o.RootID, "root " + o.RootID})
	}
	for _, ou := range ous {
		scopes = append(scopes, scope{ou.ID, "OU " + cmp.Or(ou.Name, ou.ID) + " (" + ou.ID + ")"})
	}
	for _, a := range accounts {
		scopes = append(scopes, scope{a.ID, "account " + cmp.Or(a.Name, a.ID) + " (" + a.ID + ")"})
	}
	if pols, err := facts.Policies(); err == nil {
		for _, pol := range pols {
			scopes = append(scopes, scope{pol.ID, "policy " + cmp.Or(pol.Name, pol.ID) + " (" + pol.ID + ")"})
		}
	}
	var out []taggedException
	for _, s := range scopes {
		tags, err := facts.Tags(s.id)
		if err != nil {
			continue
		}
		v, ok := tags[rule.ExceptionTag]
		if !ok {
			continue
		}
		t := taggedException{Scope: clean(s.label)}
		ex, err := rule.ParseException(v)
		if err != nil {
			t.Reference, t.Status = clean(v), "malformed: "+clean(err.Error())
		} else {
			t.Reference, t.Expires = clean(ex.Reference), ex.Expires.UTC().Format("2006-01-02 15:04:05")
			t.Status = "expired"
			if now.IsZero() || now.Before(ex.Expires) {
				t.Status = "active"
			}
			var covered []string
			for _, f := range fs {
				if f.Exception != "" && strings.Contains(f.Exception, ex.Reference) {
					covered = append(covered, f.Rule+" "+f.EventTime)
				}
			}
			t.Covered = clean(strings.Join(covered, "; "))
		}
		out = append(out, t)
	}
	return out
}
