package policy

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Kind classifies a change of policy content for rule SCP-MODIFIED. The zero Kind is none of
// the kinds, so a Change left empty by an error is never read as Unchanged.
type Kind int

// The kinds of change.
const (
	// Unchanged: the statements mean the same (Sid, order, case of names and whitespace
	// ignored), and the content still has a Deny aimed at root.
	Unchanged Kind = iota + 1
	// Tightened: not weakened, and the new content only adds: every old Deny is covered by
	// the new Denies and no new Allow grants more than the old Allows.
	Tightened
	// Weakened: some root-aimed Deny of the old content has no counterpart in the new content
	// that covers the same or more, or the new content has no root-aimed Deny at all.
	Weakened
	// Other: any other change (a Deny not aimed at root removed or narrowed, an Allow broadened).
	Other
)

var kindNames = [...]string{"", "unchanged", "tightened", "weakened", "other"}

// String returns "unchanged", "tightened", "weakened" or "other".
func (k Kind) String() string {
	if k < Unchanged || k > Other {
		return "Kind(" + strconv.Itoa(int(k)) + ")"
	}
	return kindNames[k]
}

// Change is the result of comparing two versions of a policy.
type Change struct {
	Kind Kind
	// Reasons explain the kind in sentences without a final period, e.g. `the Deny
	// "DenyRootUser" on * for arn:aws:iam::*:root has no counterpart in the new content`.
	// Text taken from the policies is quoted when it holds anything but printable ASCII.
	Reasons []string
}

// ErrOldContent and ErrNewContent tell which side Compare could not read; the error also
// matches ErrInvalid.
var (
	ErrOldContent = errors.New("old content")
	ErrNewContent = errors.New("new content")
)

// Compare parses both contents and compares them (see CompareDocuments).
func Compare(oldContent, newContent string) (Change, error) {
	od, err := Parse(oldContent)
	if err != nil {
		return Change{}, fmt.Errorf("%w: %w", ErrOldContent, err)
	}
	nd, err := Parse(newContent)
	if err != nil {
		return Change{}, fmt.Errorf("%w: %w", ErrNewContent, err)
	}
	return CompareDocuments(od, nd), nil
}

// CompareUnknownOld judges new content when the previous content is unknown: Weakened when it
// has no Deny aimed at root, Other (with the root-aimed Denies named) when it still has one.
func CompareUnknownOld(newContent string) (Change, error) {
	nd, err := Parse(newContent)
	if err != nil {
		return Change{}, fmt.Errorf("%w: %w", ErrNewContent, err)
	}
	n := normalizeDoc(nd)
	var names []string
	for _, s := range n.stmts {
		if s.rootAimed {
			names = append(names, s.describe(nil))
		}
	}
	if len(names) == 0 {
		if n.tooIntricate {
			return tooIntricate, nil
		}
		return Change{Kind: Weakened, Reasons: []string{"the previous content is unknown and " + noRootDeny}}, nil
	}
	return Change{Kind: Other, Reasons: []string{"the previous content is unknown; the new content still denies root through " + joinMax(names, 5)}}, nil
}

// tooIntricate is the answer when the work bound is reached (only hostile documents reach it).
var tooIntricate = Change{Kind: Weakened, Reasons: []string{"the content is too large or intricate to compare within rootguard's work limit, so the change is treated as weakening"}}

const noRootDeny = "the new content has no Deny aimed at root (a StringLike, StringEquals, ArnLike or ArnEquals condition on aws:PrincipalArn matching arn:aws:iam::*:root or an account's root)"

// CompareDocuments classifies the change from old to new (see Kind). A Deny of the old content
// is covered when the new content's Denies, taken action by action, deny at least as much: the
// actions a superset ('*' and wildcards such as iam:* or iam:Create* covering what they match,
// case-insensitively; a NotAction counts by what it exempts), the resources a superset
// (case-sensitively), no Principal added, and every condition of the new statement implied by
// one of the old (same key and operator, the values a superset; for aws:PrincipalArn, when
// judging root protection, every root the old statement selected is still selected).
//
// The work is bounded; a hostile document too intricate to compare within the bound gives
// Weakened with a reason saying so.
func CompareDocuments(old, new *Document) Change {
	o, n := normalizeDoc(old), normalizeDoc(new)
	if sameStatements(o, n) {
		switch {
		case n.deniesRoot:
			return Change{Kind: Unchanged}
		case n.tooIntricate:
			return tooIntricate
		}
		return Change{Kind: Weakened, Reasons: []string{"the content is unchanged, but " + noRootDeny}}
	}
	if o.tooIntricate || n.tooIntricate {
		return tooIntricate
	}
	b := newBudget(compareWork)
	ch := compareNormalized(b, o, n)
	if b.spent() {
		return tooIntricate
	}
	return ch
}

func compareNormalized(b *budget, o, n *ndoc) Change {
	equal := equivalent(b, o, n)
	if equal && n.deniesRoot {
		return Change{Kind: Unchanged}
	}

	var weak []string
	for _, os := range o.denies {
		if !os.rootAimed {
			continue
		}
		if g := coverage(b, os, n.denies, true); g != nil {
			weak = append(weak, os.describe(g)+" has no counterpart in the new content"+explain(b, os, g, n, true))
		}
	}
	if !n.deniesRoot {
		if equal {
			weak = append(weak, "the content is unchanged, but "+noRootDeny)
		} else {
			weak = append(weak, noRootDeny)
		}
	}
	if len(weak) > 0 {
		return Change{Kind: Weakened, Reasons: weak}
	}

	var other []string
	for _, os := range o.denies {
		if g := coverage(b, os, n.denies, false); g != nil {
			other = append(other, os.describe(g)+" is not covered by the new content's Denies"+explain(b, os, g, n, false))
		}
	}
	for _, ns := range n.allows {
		if g := coverage(b, ns, o.allows, false); g != nil {
			other = append(other, ns.describe(g)+" is new, or grants more than the old content's Allows")
		}
	}
	if len(other) > 0 {
		return Change{Kind: Other, Reasons: other}
	}

	var tight []string
	for _, ns := range n.stmts {
		if !o.canon[ns.canon] {
			tight = append(tight, "the new content adds "+ns.describe(nil))
		}
	}
	for _, os := range o.stmts {
		if !n.canon[os.canon] {
			if os.deny {
				tight = append(tight, "the new content replaces "+os.describe(nil)+" with broader Denies")
			} else {
				tight = append(tight, "the new content removes or narrows "+os.describe(nil))
			}
		}
	}
	return Change{Kind: Tightened, Reasons: tight}
}

// ---- normalized statements ----

type ndoc struct {
	stmts, denies, allows []*nstmt
	canon                 map[string]bool
	deniesRoot            bool // some statement is a root-aimed Deny
	tooIntricate          bool // root detection ran out of budget
}

type nstmt struct {
	s          *Statement
	deny       bool
	acts, res  patSet
	principal  string // canonical Principal / NotPrincipal, "" when absent
	blocks     []block
	pset       *principalSet
	paOpaque   bool
	rootAimed  bool
	rootValues []string
	canon      string
}

func normalizeDoc(d *Document) *ndoc {
	out := &ndoc{canon: map[string]bool{}}
	b := newBudget(detectWork) // spent as DeniesRoot spends it, statement by statement
	for i := range d.Statements {
		s := &d.Statements[i]
		ns := &nstmt{s: s, deny: s.Effect == Deny, blocks: blocksOf(s)}
		if s.NotAction != nil {
			ns.acts = newPatSet(s.NotAction, true, true)
		} else {
			ns.acts = newPatSet(s.Action, false, true)
		}
		if s.NotResource != nil {
			ns.res = newPatSet(s.NotResource, true, false)
		} else {
			ns.res = newPatSet(s.Resource, false, false)
		}
		ns.principal = canonPrincipal("P", s.Principal) + canonPrincipal("NP", s.NotPrincipal)
		ns.pset, ns.paOpaque = principalSetOf(ns.blocks)
		ns.rootValues, ns.rootAimed = rootAim(b, s, ns.blocks, "")
		out.deniesRoot = out.deniesRoot || ns.rootAimed
		ns.canon = ns.canonical()
		out.stmts = append(out.stmts, ns)
		if ns.deny {
			out.denies = append(out.denies, ns)
		} else {
			out.allows = append(out.allows, ns)
		}
		out.canon[ns.canon] = true
	}
	out.tooIntricate = b.spent()
	return out
}

func canonPrincipal(tag string, p map[string][]string) string {
	if p == nil {
		return ""
	}
	var b strings.Builder
	b.WriteString(tag + "{")
	norm := map[string][]string{}
	for k, vs := range p {
		norm[strings.ToLower(k)] = append(norm[strings.ToLower(k)], vs...)
	}
	for _, k := range sortedKeys(norm) {
		b.WriteString(k + "=" + strings.Join(sortedUnique(norm[k]), "\x01") + ";")
	}
	b.WriteString("}")
	return b.String()
}

func (ns *nstmt) canonical() string {
	var b strings.Builder
	b.WriteString(string(ns.s.Effect))
	b.WriteString("\x00" + ns.principal)
	for _, ps := range []*patSet{&ns.acts, &ns.res} {
		b.WriteByte(0)
		if ps.not {
			b.WriteByte('!')
		}
		b.WriteString(strings.Join(ps.items, "\x01"))
	}
	conds := make([]string, len(ns.blocks))
	for i, bl := range ns.blocks {
		conds[i] = strings.ToLower(bl.c.Operator) + "\x02" + bl.key + "\x02" + strings.Join(sortedUnique(bl.vals), "\x03")
	}
	sort.Strings(conds)
	b.WriteString("\x00" + strings.Join(conds, "\x01"))
	return b.String()
}

func sortedUnique(vs []string) []string {
	out := append([]string(nil), vs...)
	sort.Strings(out)
	j := 0
	for i, v := range out {
		if i == 0 || v != out[j-1] {
			out[j] = v
			j++
		}
	}
	return out[:j]
}

// patSet is an Action / NotAction or Resource / NotResource list.
type patSet struct {
	not   bool
	items []string // normalized (actions lower-cased), sorted, unique
	orig  []string // as first written, parallel to items
	pats  []pattern
	has   map[string]bool
	wild  []int // indices of items with wildcards
	all   bool  // some item is "*"
}

func newPatSet(list []string, not, fold bool) patSet {
	ps := patSet{not: not, has: make(map[string]bool, len(list))}
	type pair struct{ norm, orig string }
	var ps2 []pair
	for _, v := range list {
		n := v
		if fold {
			n = strings.ToLower(v)
		}
		if ps.has[n] {
			continue
		}
		ps.has[n] = true
		ps2 = append(ps2, pair{n, v})
	}
	sort.Slice(ps2, func(i, j int) bool { return ps2[i].norm < ps2[j].norm })
	for i, p := range ps2 {
		pat := compile(p.norm, true, false)
		ps.items = append(ps.items, p.norm)
		ps.orig = append(ps.orig, p.orig)
		ps.pats = append(ps.pats, pat)
		if !pat.literal() {
			ps.wild = append(ps.wild, i)
		}
		ps.all = ps.all || pat.matchesAll()
	}
	return ps
}

// coversItem reports whether the set's patterns match everything item (pattern p) matches.
func (ps *patSet) coversItem(b *budget, item string, p pattern) bool {
	if ps.all || ps.has[item] {
		return true
	}
	for _, i := range ps.wild {
		if includes(b, ps.pats[i], p) {
			return true
		}
	}
	return false
}

// setCovers reports whether n applies to everything o applies to (o restricted to its item
// only, when only >= 0), and if not, why.
func setCovers(b *budget, n, o *patSet, only int, what string) (bool, string) {
	idx := func(yield func(int) bool) {
		if only >= 0 {
			yield(only)
			return
		}
		for i := range o.items {
			if !yield(i) {
				return
			}
		}
	}
	switch {
	case !o.not && !n.not:
		for i := range idx {
			if !n.coversItem(b, o.items[i], o.pats[i]) {
				return false, fmt.Sprintf("its %s no longer covers %s", what, show(o.orig[i]))
			}
		}
	case o.not && !n.not:
		if !n.all {
			return false, fmt.Sprintf("it lists %s where the old statement covered every %s except %s", what, strings.ToLower(what), showList(o.orig))
		}
	case !o.not && n.not:
		for i := range idx {
			for j := range n.items {
				if intersects(b, o.pats[i], n.pats[j]) {
					return false, fmt.Sprintf("its Not%s %s exempts part of %s", what, show(n.orig[j]), show(o.orig[i]))
				}
			}
		}
	default:
		for j := range n.items {
			if !o.coversItem(b, n.items[j], n.pats[j]) {
				return false, fmt.Sprintf("its Not%s also exempts %s", what, show(n.orig[j]))
			}
		}
	}
	return true, ""
}

// covers reports whether n applies to every request o applies to (o restricted to one action
// when onlyAct >= 0), and if not, why. With rootOnly, only requests made by root users count.
func covers(b *budget, n, o *nstmt, onlyAct int, rootOnly bool) (bool, string) {
	if !b.spend(1 + len(n.blocks)) {
		return false, "the work limit is reached"
	}
	if n.deny != o.deny {
		return false, "its Effect is now " + string(n.s.Effect)
	}
	if n.principal != "" && n.principal != o.principal {
		return false, "its Principal differs"
	}
	if ok, why := setCovers(b, &n.acts, &o.acts, onlyAct, "Action"); !ok {
		return false, why
	}
	if ok, why := setCovers(b, &n.res, &o.res, -1, "Resource"); !ok {
		return false, why
	}
	byRoot := rootOnly && !n.paOpaque && !o.paOpaque
	for i := range n.blocks {
		nb := &n.blocks[i]
		if byRoot && nb.principalArn() {
			continue
		}
		implied := false
		for j := range o.blocks {
			if implies(b, &o.blocks[j], nb) {
				implied = true
				break
			}
		}
		if !implied {
			return false, fmt.Sprintf("it adds or narrows the condition %s %s %s", show(nb.c.Operator), show(nb.c.Key), showList(nb.c.Values))
		}
	}
	if byRoot && n.pset != nil {
		acct, found, complete := searchRoots(b, []*principalSet{o.pset, n.pset}, func(in []bool) bool { return in[0] && !in[1] })
		switch {
		case found:
			return false, "its aws:PrincipalArn condition no longer selects " + rootARN(acct)
		case !complete:
			return false, "its aws:PrincipalArn condition is too intricate to compare"
		}
	}
	return true, ""
}

// implies reports whether condition ob being true makes nb true.
func implies(b *budget, ob, nb *block) bool {
	if ob.key != nb.key || ob.op.qual != nb.op.qual || (ob.op.ifExists && !nb.op.ifExists) || ob.op.neg != nb.op.neg {
		return false
	}
	if ob.op.kind == kindOpaque || nb.op.kind == kindOpaque {
		if ob.op.base != nb.op.base {
			return false
		}
		o, n := sortedUnique(ob.vals), sortedUnique(nb.vals)
		switch {
		case !nb.op.dirKnown:
			return strings.Join(o, "\x00") == strings.Join(n, "\x00") && len(o) == len(n)
		case nb.op.neg:
			return subset(n, o)
		default:
			return subset(o, n)
		}
	}
	if nb.op.neg {
		// Fewer exemptions is broader: every value nb exempts must be exempted by ob.
		for j := range nb.vals {
			if !anyIncludes(b, ob, nb, j) {
				return false
			}
		}
		return true
	}
	for i := range ob.vals {
		if !anyIncludes(b, nb, ob, i) {
			return false
		}
	}
	return true
}

// anyIncludes reports whether some value of big matches everything value i of small matches.
func anyIncludes(b *budget, big, small *block, i int) bool {
	for j := range big.vals {
		if valueIncludes(b, big, j, small, i) {
			return true
		}
	}
	return false
}

func valueIncludes(b *budget, big *block, j int, small *block, i int) bool {
	bk, sk := big.op.kind, small.op.kind
	if bk == kindFold || sk == kindFold {
		if bk != kindFold || !small.pats[i].literal() {
			return false
		}
		return big.vals[j] == strings.ToLower(small.vals[i])
	}
	return includes(b, big.pats[j], small.pats[i])
}

func subset(a, b []string) bool {
	in := make(map[string]bool, len(b))
	for _, v := range b {
		in[v] = true
	}
	for _, v := range a {
		if !in[v] {
			return false
		}
	}
	return true
}

// gap is what of a statement the other content does not cover: everything, or some actions.
type gap struct {
	all     bool
	actions []int // indices into acts.items
}

// coverage returns nil when the statements of cover, taken together action by action, cover o.
func coverage(b *budget, o *nstmt, cover []*nstmt, rootOnly bool) *gap {
	for _, n := range cover {
		if ok, _ := covers(b, n, o, -1, rootOnly); ok {
			return nil
		}
	}
	if o.acts.not || len(o.acts.items) < 2 {
		return &gap{all: true}
	}
	g := &gap{}
	for i := range o.acts.items {
		found := false
		for _, n := range cover {
			if ok, _ := covers(b, n, o, i, rootOnly); ok {
				found = true
				break
			}
		}
		if !found {
			g.actions = append(g.actions, i)
		}
	}
	if len(g.actions) == 0 {
		return nil
	}
	return g
}

// explain names why the new statement with the same Sid, if any, does not cover o.
func explain(b *budget, o *nstmt, g *gap, n *ndoc, rootOnly bool) string {
	if o.s.Sid == "" {
		return ""
	}
	for _, c := range n.stmts {
		if !strings.EqualFold(c.s.Sid, o.s.Sid) {
			continue
		}
		only := -1
		if !g.all && len(g.actions) > 0 {
			only = g.actions[0]
		}
		if ok, why := covers(b, c, o, only, rootOnly); !ok {
			return " (" + strconv.Quote(c.s.Sid) + " there: " + why + ")"
		}
		return ""
	}
	return ""
}

// sameStatements reports whether the documents have the same canonical statements (Sid,
// order, duplicates, the case of names and whitespace ignored).
func sameStatements(o, n *ndoc) bool {
	if len(o.canon) != len(n.canon) {
		return false
	}
	for k := range o.canon {
		if !n.canon[k] {
			return false
		}
	}
	return true
}

// equivalent reports whether the documents' Denies and Allows cover each other.
func equivalent(b *budget, o, n *ndoc) bool {
	for _, pair := range [][2][]*nstmt{{o.denies, n.denies}, {n.denies, o.denies}, {o.allows, n.allows}, {n.allows, o.allows}} {
		for _, s := range pair[0] {
			if coverage(b, s, pair[1], false) != nil {
				return false
			}
		}
	}
	return true
}

// ---- describing statements ----

// describe names a statement with its scope: `the Deny "Sid" on iam:* in arn:... for
// arn:aws:iam::*:root`, restricted to the actions of g when g lists some.
func (ns *nstmt) describe(g *gap) string {
	var b strings.Builder
	b.WriteString("the " + string(ns.s.Effect) + " ")
	if ns.s.Sid != "" {
		b.WriteString(strconv.Quote(ns.s.Sid))
	} else {
		b.WriteString("Statement[" + strconv.Itoa(ns.s.Index) + "]")
	}
	switch {
	case ns.acts.not:
		b.WriteString(" on every action except " + showList(ns.acts.orig))
	case g != nil && !g.all && len(g.actions) > 0:
		names := make([]string, len(g.actions))
		for i, a := range g.actions {
			names[i] = ns.acts.orig[a]
		}
		b.WriteString(" on " + showList(names))
	default:
		b.WriteString(" on " + showList(ns.acts.orig))
	}
	switch {
	case ns.res.not:
		b.WriteString(" in every resource except " + showList(ns.res.orig))
	case !(len(ns.res.items) == 1 && ns.res.items[0] == "*"):
		b.WriteString(" in " + showList(ns.res.orig))
	}
	if ns.rootAimed {
		b.WriteString(" for " + showList(ns.rootValues))
	}
	return b.String()
}

// show returns s as is when it is plain printable ASCII, else Go-quoted, so that policy text
// cannot forge line breaks or control characters in a finding.
func show(s string) string {
	if s == "" {
		return `""`
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == '"' || c == '\\' {
			return strconv.Quote(s)
		}
	}
	return s
}

func showList(vs []string) string {
	if len(vs) == 0 {
		return "(nothing)"
	}
	shown := make([]string, len(vs))
	for i, v := range vs {
		shown[i] = show(v)
	}
	return joinMax(shown, 5)
}

func joinMax(vs []string, limit int) string {
	if len(vs) <= limit {
		return strings.Join(vs, ", ")
	}
	return strings.Join(vs[:limit], ", ") + fmt.Sprintf(" and %d more", len(vs)-limit)
}
