package policy

import (
	"slices"
	"strings"
)

// principalArnKey is the condition key that names the calling principal, lower-cased.
const principalArnKey = "aws:principalarn"

// A root user's ARN is rootPrefix + 12-digit account + rootSuffix. Only the commercial
// partition counts: rootguard watches commercial AWS organizations, and a pattern for another
// partition does not protect them.
const (
	rootPrefix  = "arn:aws:iam::"
	rootSuffix  = ":root"
	accountLen  = 12
	maxSearches = 4096 // distinct automaton states per account digit before a search gives up
)

// matchKind is how a condition operator compares values.
type matchKind uint8

const (
	kindOpaque matchKind = iota // compared as text only (Numeric*, Date*, Bool, IpAddress, Null, ...)
	kindExact                   // StringEquals: case-sensitive equality
	kindFold                    // StringEqualsIgnoreCase
	kindGlob                    // StringLike: '*' and '?'
	kindArn                     // ArnLike, ArnEquals: '*' and '?' within each ARN component
)

// opInfo is a condition operator taken apart.
type opInfo struct {
	qual     string // "", "foranyvalue:" or "forallvalues:"
	base     string // lower-case, without qualifier and IfExists
	ifExists bool
	kind     matchKind
	neg      bool // a negated operator: its values exempt rather than select
	dirKnown bool // for opaque operators: whether more values means broader (or, negated, narrower)
}

func parseOp(op string) opInfo {
	l := strings.ToLower(op)
	var o opInfo
	for _, q := range []string{"foranyvalue:", "forallvalues:"} {
		if strings.HasPrefix(l, q) {
			o.qual, l = q, l[len(q):]
		}
	}
	if strings.HasSuffix(l, "ifexists") && len(l) > len("ifexists") {
		o.ifExists, l = true, strings.TrimSuffix(l, "ifexists")
	}
	o.base = l
	o.dirKnown = true
	switch l {
	case "stringequals":
		o.kind = kindExact
	case "stringnotequals":
		o.kind, o.neg = kindExact, true
	case "stringequalsignorecase":
		o.kind = kindFold
	case "stringnotequalsignorecase":
		o.kind, o.neg = kindFold, true
	case "stringlike":
		o.kind = kindGlob
	case "stringnotlike":
		o.kind, o.neg = kindGlob, true
	case "arnequals", "arnlike":
		o.kind = kindArn
	case "arnnotequals", "arnnotlike":
		o.kind, o.neg = kindArn, true
	case "numericequals", "numericlessthan", "numericlessthanequals", "numericgreaterthan",
		"numericgreaterthanequals", "dateequals", "datelessthan", "datelessthanequals",
		"dategreaterthan", "dategreaterthanequals", "bool", "binaryequals", "ipaddress", "null":
		o.kind = kindOpaque
	case "numericnotequals", "datenotequals", "notipaddress", "binarynotequals":
		o.kind, o.neg = kindOpaque, true
	default:
		o.kind, o.dirKnown = kindOpaque, false
	}
	return o
}

// targetsRoot reports whether the operator is one of those that aim a Deny at root
// (rules.md, "Root-aimed Deny"): StringLike, StringEquals, ArnLike or ArnEquals, optionally
// prefixed ForAnyValue:.
func (o opInfo) targetsRoot() bool {
	if o.ifExists || (o.qual != "" && o.qual != "foranyvalue:") {
		return false
	}
	switch o.base {
	case "stringlike", "stringequals", "arnlike", "arnequals":
		return true
	}
	return false
}

// block is one Condition with its operator taken apart and its values compiled.
type block struct {
	c    *Condition
	op   opInfo
	key  string   // lower-case
	vals []string // as compared: lower-cased for case-insensitive operators
	pats []pattern
}

func newBlock(c *Condition) block {
	b := block{c: c, op: parseOp(c.Operator), key: strings.ToLower(c.Key)}
	b.vals = make([]string, len(c.Values))
	b.pats = make([]pattern, len(c.Values))
	for i, v := range c.Values {
		if b.op.kind == kindFold {
			v = strings.ToLower(v)
		}
		b.vals[i] = v
		switch b.op.kind {
		case kindGlob:
			b.pats[i] = compile(v, true, false)
		case kindArn:
			b.pats[i] = compile(v, true, true)
		default:
			b.pats[i] = compile(v, false, false)
		}
	}
	return b
}

func (b *block) principalArn() bool { return b.key == principalArnKey }

func (b *block) matcher(i int) *matcher {
	return &matcher{p: b.pats[i], fold: b.op.kind == kindFold}
}

// principalSet is the set of root users a statement's aws:PrincipalArn conditions select: the
// conjunction of its blocks, each true when some value matches (false, for a negated operator).
// For this single-valued key, always present on a root request, ForAnyValue:, ForAllValues:
// and IfExists do not change the meaning.
type principalSet struct {
	ms     []*matcher
	blocks []pblock
}

type pblock struct {
	neg      bool
	from, to int // matcher indices
}

// principalSetOf collects the aws:PrincipalArn blocks. opaque is true when one of them uses an
// operator this package cannot evaluate; the set is nil when there is no such block (every
// root is selected).
func principalSetOf(blocks []block) (ps *principalSet, opaque bool) {
	for i := range blocks {
		b := &blocks[i]
		if !b.principalArn() {
			continue
		}
		if b.op.kind == kindOpaque {
			return nil, true
		}
		if ps == nil {
			ps = &principalSet{}
		}
		pb := pblock{neg: b.op.neg, from: len(ps.ms)}
		for j := range b.pats {
			ps.ms = append(ps.ms, b.matcher(j))
		}
		pb.to = len(ps.ms)
		ps.blocks = append(ps.blocks, pb)
	}
	return ps, false
}

// eval says whether the set holds the root whose matchers' results are acc.
func (ps *principalSet) eval(acc []bool) bool {
	if ps == nil {
		return true
	}
	for _, b := range ps.blocks {
		if slices.Contains(acc[b.from:b.to], true) == b.neg {
			return false
		}
	}
	return true
}

func (ps *principalSet) holds(b *budget, arn string) bool {
	if ps == nil {
		return true
	}
	acc := make([]bool, len(ps.ms))
	for i, m := range ps.ms {
		acc[i] = m.match(b, arn)
	}
	return ps.eval(acc)
}

func rootARN(account string) string { return rootPrefix + account + rootSuffix }

// searchRoots looks for a 12-digit account whose root ARN gives set memberships in (one per
// set, a nil set holding every root) for which want is true. It walks the account digits with
// all the sets' automata at once, merging equal states, so it is exact and fast; complete is
// false when the patterns are too many to follow or the budget runs out (then found is false).
func searchRoots(b *budget, sets []*principalSet, want func(in []bool) bool) (account string, found, complete bool) {
	var ms []*matcher
	cost := 1
	offs := make([]int, len(sets)+1)
	for i, s := range sets {
		offs[i] = len(ms)
		if s != nil {
			ms = append(ms, s.ms...)
			for _, m := range s.ms {
				cost += len(m.p) + 1
			}
		}
	}
	offs[len(sets)] = len(ms)

	type config struct {
		st   []bitset
		acct []byte
	}
	step := func(st []bitset, c rune) []bitset {
		b.spend(cost)
		out := make([]bitset, len(ms))
		for i, m := range ms {
			out[i] = newBitset(len(m.p) + 1)
			m.step(st[i], out[i], c)
		}
		return out
	}
	st := make([]bitset, len(ms))
	for i, m := range ms {
		st[i] = m.start()
	}
	for _, c := range rootPrefix {
		st = step(st, c)
	}
	layer := []config{{st: st}}
	var key []byte
	for range accountLen {
		seen := make(map[string]bool, len(layer))
		next := make([]config, 0, len(layer))
		for _, cf := range layer {
			for d := '0'; d <= '9'; d++ {
				ns := step(cf.st, d)
				key = key[:0]
				for _, s := range ns {
					for _, w := range s {
						key = append(key, byte(w), byte(w>>8), byte(w>>16), byte(w>>24),
							byte(w>>32), byte(w>>40), byte(w>>48), byte(w>>56))
					}
				}
				if seen[string(key)] {
					continue
				}
				seen[string(key)] = true
				next = append(next, config{st: ns, acct: append(slices.Clip(cf.acct), byte(d))})
				if len(next) > maxSearches || b.spent() {
					return "", false, false
				}
			}
		}
		layer = next
	}
	in := make([]bool, len(sets))
	acc := make([]bool, len(ms))
	for _, cf := range layer {
		if b.spent() {
			return "", false, false
		}
		st := cf.st
		for _, c := range rootSuffix {
			st = step(st, c)
		}
		for i, m := range ms {
			acc[i] = m.accepts(st[i])
		}
		for i, s := range sets {
			in[i] = s.eval(acc[offs[i]:offs[i+1]])
		}
		if want(in) {
			return string(cf.acct), true, true
		}
	}
	return "", false, true
}

// hitsRoot reports whether the matcher matches the root ARN of account, or of some account
// when account is "".
func hitsRoot(b *budget, m *matcher, account string) bool {
	if account != "" {
		return m.match(b, rootARN(account))
	}
	ps := &principalSet{ms: []*matcher{m}, blocks: []pblock{{from: 0, to: 1}}}
	_, found, _ := searchRoots(b, []*principalSet{ps}, func(in []bool) bool { return in[0] })
	return found
}

// rootAim says whether s is a Deny aimed at the root of account ("" for any account), and with
// which condition values. A Deny is aimed at root when a StringLike, StringEquals, ArnLike or
// ArnEquals condition (optionally ForAnyValue:) on aws:PrincipalArn has a value matching a
// root ARN under that operator, and its aws:PrincipalArn conditions taken together (negated
// operators exempt) still select that root.
// Once the budget is spent, no statement is aimed.
func rootAim(b *budget, s *Statement, blocks []block, account string) (values []string, aimed bool) {
	if s.Effect != Deny {
		return nil, false
	}
	ps, opaque := principalSetOf(blocks)
	if opaque || ps == nil {
		return nil, false
	}
	for i := range blocks {
		bl := &blocks[i]
		if !bl.principalArn() || !bl.op.targetsRoot() {
			continue
		}
		for j := range bl.pats {
			if hitsRoot(b, bl.matcher(j), account) {
				values = append(values, bl.c.Values[j])
			}
		}
	}
	if len(values) == 0 || b.spent() {
		return nil, false
	}
	if account != "" {
		return values, ps.holds(b, rootARN(account)) && !b.spent()
	}
	_, found, complete := searchRoots(b, []*principalSet{ps}, func(in []bool) bool { return in[0] })
	if b.spent() {
		return nil, false
	}
	// A set with too many patterns to search counts as aimed: a targeting value was found above.
	return values, found || !complete
}

func blocksOf(s *Statement) []block {
	out := make([]block, len(s.Conditions))
	for i := range s.Conditions {
		out[i] = newBlock(&s.Conditions[i])
	}
	return out
}

// RootAimedDenies returns the Deny statements aimed at the root user of account, a 12-digit
// account id, or of any account when account is "" (rules.md, "Root-aimed Deny"): a
// StringLike, StringEquals, ArnLike or ArnEquals condition, optionally prefixed ForAnyValue:
// (operator names and the key compared case-insensitively), on aws:PrincipalArn, with a
// value that matches arn:aws:iam::<account>:root under that operator. StringEquals needs the
// literal ARN; StringLike and the Arn operators take wildcards, so arn:aws:iam::*:* counts
// too. Negated operators (StringNotLike, ArnNotEquals, ...) never aim a statement at root,
// and they exempt: a statement whose conditions exempt every root they select is not aimed.
//
// The work is bounded: on a hostile document too intricate to finish, statements past the
// bound are not reported (and DeniesRoot may say false), the cautious answers for new content.
func (d *Document) RootAimedDenies(account string) []Statement {
	var out []Statement
	b := newBudget(detectWork)
	for i := range d.Statements {
		s := &d.Statements[i]
		if _, ok := rootAim(b, s, blocksOf(s), account); ok {
			out = append(out, *s)
		}
	}
	return out
}

// DeniesRoot reports whether the document has a Deny aimed at the root user of any account.
func (d *Document) DeniesRoot() bool {
	b := newBudget(detectWork)
	for i := range d.Statements {
		s := &d.Statements[i]
		if _, ok := rootAim(b, s, blocksOf(s), ""); ok {
			return true
		}
	}
	return false
}
