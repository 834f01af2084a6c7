package rule

import (
	"slices"
	"strings"
	"time"

	"github.com/rootguard/rootguard/internal/finding"
)

// AuditOpenKey is the state table item (after OpenKeyPrefix) that keeps the audit's open
// findings.
const AuditOpenKey = "audit"

// maxAuditOpenPerCheck bounds the findings kept open for one check (one a day while it fails).
const maxAuditOpenPerCheck = 31

// auditKey names what an audit finding checks: its rule, account and resources.
func auditKey(f finding.Finding) string {
	return f.Rule + "|" + f.AccountID + "|" + strings.Join(f.Resources, ",")
}

// ResolveAudit compares the findings earlier audits left open with a new audit's findings.
// Each open finding whose check now passes (the new audit raised nothing with its rule, account
// and resources) is resolved by finding.ResolvedByAudit at the audit's time; the new findings
// join the ones still failing. Posture finding ids derive from the day, so a check that fails on
// several days has several open findings, all resolved when it passes. Canary findings are not
// kept. The kept findings are trimmed to what a resolution needs (no description, remediation or
// references), so the audit's open set stays small.
func ResolveAudit(open, current []finding.Finding, at time.Time) (resolved, stillOpen []finding.Finding) {
	failing := map[string]bool{}
	for _, f := range current {
		if !f.Canary {
			failing[auditKey(f)] = true
		}
	}
	stamp := at.UTC().Format(time.RFC3339)
	byKey := map[string][]finding.Finding{}
	var keys []string
	for _, f := range open {
		k := auditKey(f)
		if !failing[k] {
			resolved = append(resolved, Resolved(f, stamp, finding.ResolvedByAudit))
			continue
		}
		if _, ok := byKey[k]; !ok {
			keys = append(keys, k)
		}
		byKey[k] = append(byKey[k], f)
	}
	for _, f := range current {
		if f.Canary {
			continue
		}
		k := auditKey(f)
		if slices.ContainsFunc(byKey[k], func(o finding.Finding) bool { return o.ID == f.ID }) {
			continue
		}
		if _, ok := byKey[k]; !ok {
			keys = append(keys, k)
		}
		byKey[k] = append(byKey[k], trimForResolution(f))
	}
	for _, k := range keys {
		l := byKey[k]
		if len(l) > maxAuditOpenPerCheck {
			l = l[len(l)-maxAuditOpenPerCheck:]
		}
		stillOpen = append(stillOpen, l...)
	}
	return resolved, stillOpen
}

// trimForResolution keeps what a resolution's delivery needs.
func trimForResolution(f finding.Finding) finding.Finding {
	return finding.Finding{
		ID: f.ID, Rule: f.Rule, Severity: f.Severity, AccountID: f.AccountID, AccountName: f.AccountName,
		Ownership: f.Ownership, AccountRole: f.AccountRole, Title: f.Title, EventTime: f.EventTime,
		Region: f.Region, Actor: f.Actor, Resources: f.Resources, Exception: f.Exception,
	}
}
