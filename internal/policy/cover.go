package policy

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// ---- coverage: does one statement set cover another ----

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
