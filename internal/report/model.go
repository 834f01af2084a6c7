package report

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rootguard/rootguard/internal/finding"
	"github.com/rootguard/rootguard/internal/org"
	"github.com/rootguard/rootguard/internal/policy"
	"github.com/rootguard/rootguard/internal/render"
	"github.com/rootguard/rootguard/internal/rule"
)

// Text limits, in runes, for event-derived text in the page (the email's limits).
const (
	maxText   = 4000
	maxDetail = 1000
)

// clean neutralises event-derived text as every rootguard format does (render.Plain); the
// template then escapes it for HTML.
func clean(s string) string { return render.Plain(s, maxDetail) }

func cleanLong(s string) string { return render.Plain(s, maxText) }

// page is what the template renders; every string in it is already neutralised.
type page struct {
	Title       string
	Generated   string
	OrgID       string
	Sources     string
	Totals      []sevCount
	Total       int
	Accounts    accountTotals
	Policy      []string
	Tree        *node
	Outside     []*accountView
	Days        []day
	Findings    []findingView
	Rules       []string
	AccountOpts []option
	Exceptions  []exceptionView
	Tagged      []taggedException
	Trusted     []string
}

type sevCount struct {
	Sev   string // label
	Class string // css class
	Count int
}

type accountTotals struct {
	All, Stax, Customer, Unknown, Protected, Unprotected, Management int
}

type option struct{ Value, Label string }

// node is a root or an OU of the organization tree.
type node struct {
	ID       string
	Name     string
	Kind     string // "root" or "ou"
	Policies []string
	Children []*node
	Accounts []*accountView
}

type accountView struct {
	ID, Name, Email  string
	Ownership, Role  string
	Protection       string // one line: which root-guarding protection applies, or why none
	ProtectionState  string // "applies", "none", "not-applicable", "unknown"
	ProtectionLabel  string
	Credentials      string
	CredentialsState string // "ok", "bad", "unknown"
	Worst            string // severity label, "" when none
	WorstClass       string
	WorstTitle       string
	Open             int
}

type day struct {
	Date     string
	Counts   []sevCount
	Total    int
	Bars     []bar
	Sessions []session
}

type bar struct {
	Class string
	X, W  int
}

type session struct {
	Rule, Account, Time, Clock, Sev, Class string
	Calls                                  []string
}

type findingView struct {
	N                        int
	ID, Rule, Sev, SevClass  string
	SevRank                  int
	AccountID, AccountName   string
	Ownership, Role          string
	Time, ShortTime, Day     string
	Title, Description       string
	Remediation              string
	Event, Region, Actor, IP string
	Calls, Resources         string
	Exception                string
}

type exceptionView struct {
	Exception, Rule, Sev, Account, Time, Title, Kind string
}

type taggedException struct {
	Scope, Reference, Expires, Status, Covered string
}

func sevClass(s finding.Severity) string { return "sev-" + strings.ToLower(s.String()) }

// build derives the page from the input.
func build(in Input) (*page, error) {
	cfg := in.Config
	p := &page{
		Title:     "rootguard posture report",
		Generated: in.Generated.UTC().Format("2006-01-02 15:04 UTC"),
		Sources:   clean(in.Sources),
		Total:     len(in.Findings),
		Trusted:   cleanAll(cfg.TrustedPrincipals),
		Policy: []string{
			"Stax-owned management accounts: Stax manages root MFA; a root sign-in without MFA or MFA removed is CRITICAL.",
			"Stax-owned member accounts keep no root credentials: any root sign-in, password or key there is out of policy.",
			"Customer-owned accounts: root MFA is the customer's job; rootguard still alerts and says the customer must act.",
			"The root-guarding protection SCP (" + clean(strings.Join(cfg.ProtectionSCPNames, ", ")) + ") must apply to every member account; changes to it are CRITICAL.",
		},
	}
	facts := in.Facts
	if facts == nil {
		facts = org.Empty{}
	}
	o, err := facts.Organization()
	if err != nil && !errors.Is(err, org.ErrNotFound) {
		return nil, fmt.Errorf("report: read the organization: %w", err)
	}
	p.OrgID = clean(o.ID)

	worst := map[string]finding.Finding{}
	open := map[string]int{}
	for _, f := range in.Findings {
		if f.Status == finding.StatusResolved {
			continue // restored: neither open nor the account's worst
		}
		open[f.AccountID]++
		if w, ok := worst[f.AccountID]; !ok || f.Severity > w.Severity {
			worst[f.AccountID] = f
		}
	}

	// Severity totals, highest first.
	counts := map[finding.Severity]int{}
	for _, f := range in.Findings {
		counts[f.Severity]++
	}
	for i := len(finding.Severities) - 1; i >= 0; i-- {
		s := finding.Severities[i]
		p.Totals = append(p.Totals, sevCount{Sev: s.String(), Class: sevClass(s), Count: counts[s]})
	}

	// The tree.
	accounts, err := facts.Accounts()
	if err != nil {
		return nil, fmt.Errorf("report: list the accounts: %w", err)
	}
	if in.OUs == nil {
		// Live facts list the OUs themselves (awsorg); without them OUs are shown by id.
		if l, ok := facts.(interface{ OUs() ([]org.OU, error) }); ok {
			if ous, err := l.OUs(); err == nil {
				in.OUs = ous
			}
		}
	}
	ouNames := map[string]string{}
	for _, ou := range in.OUs {
		ouNames[ou.ID] = ou.Name
	}
	root := &node{ID: clean(o.RootID), Name: "Root", Kind: "root"}
	root.Policies = policyNames(facts, &cfg, o.RootID)
	nodes := map[string]*node{o.RootID: root}
	var ensure func(id string) *node
	ensure = func(id string) *node {
		if n, ok := nodes[id]; ok {
			return n
		}
		n := &node{ID: clean(id), Name: clean(cmp.Or(ouNames[id], id)), Kind: "ou", Policies: policyNames(facts, &cfg, id)}
		nodes[id] = n
		parent := root
		if chain, err := facts.Parents(id); err == nil && len(chain) > 0 && chain[0] != o.RootID {
			parent = ensure(chain[0])
		}
		parent.Children = append(parent.Children, n)
		return n
	}
	for _, ou := range in.OUs {
		ensure(ou.ID)
	}
	known := map[string]bool{}
	for _, a := range accounts {
		known[a.ID] = true
		v := accountOf(facts, &cfg, o, a, worst[a.ID], open[a.ID])
		p.Accounts.All++
		switch v.Ownership {
		case finding.StaxOwned:
			p.Accounts.Stax++
		case finding.CustomerOwned:
			p.Accounts.Customer++
		default:
			p.Accounts.Unknown++
		}
		switch v.ProtectionState {
		case "applies":
			p.Accounts.Protected++
		case "not-applicable":
			p.Accounts.Management++
		default:
			p.Accounts.Unprotected++
		}
		parent := root
		if a.ParentID != "" && a.ParentID != o.RootID {
			parent = ensure(a.ParentID)
		}
		parent.Accounts = append(parent.Accounts, v)
	}
	sortTree(root)
	p.Tree = root

	// Accounts seen only in findings.
	var outside []string
	for id := range worst {
		if !known[id] && id != "" {
			outside = append(outside, id)
		}
	}
	slices.Sort(outside)
	for _, id := range outside {
		f := worst[id]
		p.Outside = append(p.Outside, &accountView{
			ID: clean(id), Name: clean(f.AccountName), Ownership: finding.Unknown, Role: finding.Unknown,
			Protection: "not in the organization facts: rules fail closed", ProtectionState: "unknown", ProtectionLabel: "unknown",
			Credentials: "unknown", CredentialsState: "unknown",
			Worst: f.Severity.String(), WorstClass: sevClass(f.Severity), WorstTitle: clean(f.Title), Open: open[id],
		})
	}

	p.Findings, p.Rules, p.AccountOpts = findingsOf(in.Findings)
	p.Days = timeline(in.Findings)
	p.Exceptions = exceptionsOf(in.Findings)
	p.Tagged = taggedOf(facts, o, accounts, in.OUs, in.Findings, in.Generated)
	return p, nil
}

func cleanAll(vs []string) []string {
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		out = append(out, clean(v))
	}
	return out
}

// policyNames lists the SCPs attached directly to a target, protection ones marked.
func policyNames(facts org.Facts, cfg *rule.Config, target string) []string {
	if target == "" {
		return nil
	}
	ids, err := facts.PoliciesFor(target)
	if err != nil {
		return nil
	}
	var out []string
	for _, id := range ids {
		pol, err := facts.Policy(id)
		if err != nil || (pol.Type != "" && pol.Type != org.PolicyTypeSCP) || !cfg.IsProtectionName(pol.Name) {
			continue
		}
		label := clean(pol.Name)
		if rootGuarding(pol) {
			label += " (root-guarding)"
		} else {
			label += " (does not restrict root)"
		}
		out = append(out, label)
	}
	return out
}

// rootGuarding: the policy's content has a root-aimed Deny (internal/policy). Content that cannot
// be read or parsed is not root-guarding (fail closed).
func rootGuarding(p org.Policy) bool {
	if p.Content == nil {
		return false
	}
	d, err := policy.Parse(*p.Content)
	return err == nil && d.DeniesRoot()
}

// accountOf describes one account of the facts.
func accountOf(facts org.Facts, cfg *rule.Config, o org.Organization, a org.Account, worst finding.Finding, open int) *accountView {
	v := &accountView{
		ID: clean(a.ID), Name: clean(a.Name), Email: clean(a.EmailAddress()),
		Ownership: cfg.Ownership(a.EmailAddress()), Role: finding.Member, Open: open,
	}
	if a.ID == o.ManagementAccountID {
		v.Role = finding.Management
	}
	if worst.Rule != "" {
		v.Worst, v.WorstClass, v.WorstTitle = worst.Severity.String(), sevClass(worst.Severity), clean(worst.Title)
	}
	v.ProtectionState, v.ProtectionLabel, v.Protection = protectionOf(facts, cfg, o, a)
	v.CredentialsState, v.Credentials = credentialsOf(facts, a, v.Ownership, v.Role)
	return v
}

// protectionOf: which root-guarding protection SCP applies to the account (judged by content),
// walking the account, the OUs above it and the root.
func protectionOf(facts org.Facts, cfg *rule.Config, o org.Organization, a org.Account) (state, label, text string) {
	if a.ID == o.ManagementAccountID {
		return "not-applicable", "n/a", "SCPs never apply to the management account"
	}
	if o.SCPEnabled == nil {
		return "unknown", "unknown", "whether SCPs are enabled at the root is unknown"
	}
	if !*o.SCPEnabled {
		return "none", "none", "the SCP policy type is disabled at the root: no SCP applies"
	}
	chain := []string{a.ID}
	up, err := facts.Parents(a.ID)
	if err != nil {
		return "unknown", "unknown", "the account's parents could not be read"
	}
	chain = append(chain, up...)
	if o.RootID != "" && !slices.Contains(chain, o.RootID) {
		chain = append(chain, o.RootID)
	}
	var guarding, decoys []string
	for _, target := range chain {
		ids, err := facts.PoliciesFor(target)
		if err != nil {
			return "unknown", "unknown", "the SCPs attached to " + clean(target) + " could not be read"
		}
		for _, id := range ids {
			pol, err := facts.Policy(id)
			if err != nil || (pol.Type != "" && pol.Type != org.PolicyTypeSCP) || !cfg.IsProtectionName(pol.Name) {
				continue
			}
			where := clean(pol.Name) + " at " + clean(target)
			if rootGuarding(pol) {
				guarding = append(guarding, where)
			} else {
				decoys = append(decoys, where)
			}
		}
	}
	if len(guarding) > 0 {
		return "applies", "applies", strings.Join(guarding, "; ")
	}
	if len(decoys) > 0 {
		return "none", "none", "only protection-named SCPs that do not restrict root: " + strings.Join(decoys, "; ")
	}
	return "none", "none", "no protection SCP is attached to the account, an OU above it, or the root"
}

// credentialsOf describes the root credential state and whether it is in policy.
func credentialsOf(facts org.Facts, a org.Account, ownership, role string) (state, text string) {
	rc, err := facts.RootCredentials(a.ID)
	if err != nil || rc == nil {
		return "unknown", "unknown (could not be read)"
	}
	flag := func(b *bool) string {
		switch {
		case b == nil:
			return "unknown"
		case *b:
			return "yes"
		}
		return "no"
	}
	text = "MFA " + flag(rc.MFAEnabled) + ", password " + flag(rc.PasswordPresent) +
		", access keys " + flag(rc.AccessKeysPresent) + ", certificates " + flag(rc.SigningCertificatesPresent)
	on := func(b *bool) bool { return b != nil && *b }
	unknown := rc.MFAEnabled == nil || rc.PasswordPresent == nil || rc.AccessKeysPresent == nil || rc.SigningCertificatesPresent == nil
	bad := on(rc.AccessKeysPresent)
	switch {
	case ownership == finding.StaxOwned && role == finding.Management:
		bad = bad || !on(rc.MFAEnabled)
	case ownership == finding.StaxOwned:
		bad = bad || on(rc.PasswordPresent) || on(rc.SigningCertificatesPresent)
	default:
		bad = bad || on(rc.PasswordPresent) && !on(rc.MFAEnabled)
	}
	switch {
	case bad:
		return "bad", text
	case unknown:
		return "unknown", text
	}
	return "ok", text
}

func sortTree(n *node) {
	slices.SortFunc(n.Children, func(a, b *node) int { return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID)) })
	slices.SortFunc(n.Accounts, func(a, b *accountView) int { return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID)) })
	for _, c := range n.Children {
		sortTree(c)
	}
}

// findingsOf: the table rows (highest severity first, then time), the rule and account choices.
func findingsOf(fs []finding.Finding) ([]findingView, []string, []option) {
	sorted := slices.Clone(fs)
	slices.SortStableFunc(sorted, func(a, b finding.Finding) int {
		return cmp.Or(cmp.Compare(b.Severity, a.Severity), cmp.Compare(a.EventTime, b.EventTime), cmp.Compare(a.ID, b.ID))
	})
	var rows []findingView
	rules := map[string]bool{}
	accounts := map[string]string{}
	for i, f := range sorted {
		v := findingView{
			N: i, ID: clean(f.ID), Rule: clean(f.Rule), Sev: f.Severity.String(), SevClass: sevClass(f.Severity), SevRank: int(f.Severity),
			AccountID: clean(f.AccountID), AccountName: clean(f.AccountName),
			Ownership: clean(cmp.Or(f.Ownership, finding.Unknown)), Role: clean(cmp.Or(f.AccountRole, finding.Unknown)),
			Time: clean(f.EventTime), ShortTime: shortTime(f.EventTime),
			Title: clean(resolvedTitle(f)), Description: cleanLong(f.Description), Remediation: cleanLong(f.Remediation),
			Event: clean(f.EventName), Region: clean(f.Region), Actor: clean(f.Actor), IP: clean(f.SourceIP),
			Calls: clean(strings.Join(f.Calls, ", ")), Resources: clean(strings.Join(f.Resources, ", ")),
			Exception: clean(f.Exception),
		}
		rows = append(rows, v)
		rules[v.Rule] = true
		if _, ok := accounts[v.AccountID]; !ok || accounts[v.AccountID] == "" {
			accounts[v.AccountID] = v.AccountName
		}
	}
	ruleList := make([]string, 0, len(rules))
	for r := range rules {
		ruleList = append(ruleList, r)
	}
	slices.Sort(ruleList)
	var opts []option
	for id, name := range accounts {
		label := id
		if name != "" {
			label = name + " (" + id + ")"
		}
		opts = append(opts, option{Value: id, Label: label})
	}
	slices.SortFunc(opts, func(a, b option) int { return cmp.Compare(a.Label, b.Label) })
	return rows, ruleList, opts
}

// shortTime shows an RFC 3339 time as "2006-01-02 15:04:05" (UTC); other text as it is.
func shortTime(t string) string {
	if ts, err := time.Parse(time.RFC3339, t); err == nil {
		return ts.UTC().Format("2006-01-02 15:04:05")
	}
	return clean(t)
}

// clockOf shows the time of day of an RFC 3339 time (UTC).
func clockOf(t string) string {
	if ts, err := time.Parse(time.RFC3339, t); err == nil {
		return ts.UTC().Format("15:04:05")
	}
	return clean(t)
}

func dayOf(t string) string {
	if ts, err := time.Parse(time.RFC3339, t); err == nil {
		return ts.UTC().Format("2006-01-02")
	}
	return "unknown"
}

// resolvedTitle is a finding's title, marked when the protection it is about was restored.
func resolvedTitle(f finding.Finding) string {
	if f.Status != finding.StatusResolved {
		return f.Title
	}
	return "Resolved " + f.ResolvedAt + " (by " + f.ResolvedBy + "): " + f.Title
}
