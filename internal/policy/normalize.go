package policy

import (
	"sort"
	"strings"
)

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
