package policy

import (
	"math/bits"
	"sort"
)

// Wildcard patterns, as IAM uses them in Action, Resource and the Like / Arn condition
// operators: '*' matches any run of characters, '?' exactly one. In ARN mode (ArnLike,
// ArnEquals) neither crosses the ':' between ARN components.

type tokKind uint8

const (
	tLit  tokKind = iota // one given character
	tOne                 // '?'
	tMany                // '*'
)

type tok struct {
	kind  tokKind
	colon bool // a wildcard that may match ':'
	r     rune
}

type pattern []tok

// compile reads s as a pattern. With wild false every character is literal (StringEquals).
func compile(s string, wild, arn bool) pattern {
	p := make(pattern, 0, len(s))
	for _, r := range s {
		switch {
		case wild && r == '*':
			if n := len(p); n > 0 && p[n-1].kind == tMany {
				continue
			}
			p = append(p, tok{kind: tMany, colon: !arn})
		case wild && r == '?':
			p = append(p, tok{kind: tOne, colon: !arn})
		default:
			p = append(p, tok{kind: tLit, r: r})
		}
	}
	return p
}

// literal reports whether p has no wildcard.
func (p pattern) literal() bool {
	for _, t := range p {
		if t.kind != tLit {
			return false
		}
	}
	return true
}

// matchesAll reports whether p matches every string ("*").
func (p pattern) matchesAll() bool {
	return len(p) > 0 && p[0].kind == tMany && p[0].colon && len(p) == 1
}

// maxCells bounds one pattern-against-pattern table; beyond it, inclusion falls back to
// equality and intersection to "may intersect" (both the cautious answer).
const maxCells = 1 << 22

// budget bounds the work of one operation (RootAimedDenies, DeniesRoot, Compare), so that a
// hostile 64 KiB document cannot make it run for long. Realistic SCPs use a tiny fraction of
// it; once it is spent, every answer is the cautious one and the caller says so.
type budget struct{ left int }

// Work allowances, in steps of the pattern algorithms (roughly nanoseconds each).
const (
	detectWork  = 1 << 24
	compareWork = 1 << 25
)

func newBudget(n int) *budget { return &budget{left: n} }

// spend takes n units and reports whether the budget still holds.
func (b *budget) spend(n int) bool {
	b.left -= n
	return b.left >= 0
}

func (b *budget) spent() bool { return b.left < 0 }

// includes reports whether every string q matches is also matched by p. It treats q's
// wildcards symbolically, so it can answer false for exotic pairs where inclusion holds (e.g.
// p = "*?", q = "?*"); false is the cautious answer everywhere it is used.
func includes(b *budget, p, q pattern) bool {
	if !b.spend(1) {
		return false
	}
	if p.matchesAll() {
		return true
	}
	// A literal at either end of p must be met by the same literal in q.
	for len(p) > 0 && p[0].kind == tLit {
		if len(q) == 0 || q[0] != p[0] {
			return false
		}
		p, q = p[1:], q[1:]
	}
	for len(p) > 0 && p[len(p)-1].kind == tLit {
		if len(q) == 0 || q[len(q)-1] != p[len(p)-1] {
			return false
		}
		p, q = p[:len(p)-1], q[:len(q)-1]
	}
	if len(p) == 0 {
		return len(q) == 0
	}
	if cells := (len(p) + 1) * (len(q) + 1); cells > maxCells || !b.spend(cells) {
		return equalPatterns(p, q)
	}
	// f[i][j]: p[i:] covers q[j:]. Computed from the ends, two rows at a time.
	n := len(q)
	rows := make([]bool, 2*(n+1))
	next, cur := rows[:n+1], rows[n+1:] // rows i+1 and i
	next[n] = true                      // i == len(p): covers only the empty rest
	for i := len(p) - 1; i >= 0; i-- {
		pt := p[i]
		for j := n; j >= 0; j-- {
			var v bool
			if pt.kind == tMany {
				v = next[j] // '*' matches nothing
				if !v && j < n && manyAbsorbs(pt, q[j]) {
					v = cur[j+1]
				}
			} else if j < n {
				qt := q[j]
				switch pt.kind {
				case tOne:
					v = qt.kind != tMany && (pt.colon || (qt.kind == tLit && qt.r != ':') || (qt.kind == tOne && !qt.colon)) && next[j+1]
				case tLit:
					v = qt.kind == tLit && qt.r == pt.r && next[j+1]
				}
			}
			cur[j] = v
		}
		next, cur = cur, next
	}
	return next[0]
}

// manyAbsorbs reports whether the '*' token p can stand for whatever q stands for.
func manyAbsorbs(p, q tok) bool {
	if p.colon {
		return true
	}
	if q.kind == tLit {
		return q.r != ':'
	}
	return !q.colon
}

func equalPatterns(p, q pattern) bool {
	if len(p) != len(q) {
		return false
	}
	for i := range p {
		if p[i] != q[i] {
			return false
		}
	}
	return true
}

// intersects reports whether some string matches both p and q.
func intersects(b *budget, p, q pattern) bool {
	if cells := (len(p) + 1) * (len(q) + 1); cells > maxCells || !b.spend(cells) {
		return true
	}
	// Reachability over (i, j) positions of the product automaton.
	w := len(q) + 1
	seen := make([]bool, (len(p)+1)*w)
	stack := []int{0}
	seen[0] = true
	push := func(i, j int) {
		if k := i*w + j; !seen[k] {
			seen[k] = true
			stack = append(stack, k)
		}
	}
	for len(stack) > 0 {
		k := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		i, j := k/w, k%w
		if i == len(p) && j == len(q) {
			return true
		}
		if i < len(p) && p[i].kind == tMany {
			push(i+1, j)
		}
		if j < len(q) && q[j].kind == tMany {
			push(i, j+1)
		}
		if i < len(p) && j < len(q) && sharedChar(p[i], q[j]) {
			ni, nj := i+1, j+1
			if p[i].kind == tMany {
				ni = i
			}
			if q[j].kind == tMany {
				nj = j
			}
			if ni != i || nj != j {
				push(ni, nj)
			}
		}
	}
	return false
}

// sharedChar reports whether one character can be matched by both tokens.
func sharedChar(a, b tok) bool {
	switch {
	case a.kind == tLit && b.kind == tLit:
		return a.r == b.r
	case a.kind == tLit:
		return b.colon || a.r != ':'
	case b.kind == tLit:
		return a.colon || b.r != ':'
	}
	return true // two wildcards share any non-colon character
}

// ---- running patterns over one string, as NFAs (for the root ARN searches) ----

type bitset []uint64

func newBitset(n int) bitset    { return make(bitset, (n+64)/64) }
func (s bitset) set(i int)      { s[i/64] |= 1 << (uint(i) % 64) }
func (s bitset) has(i int) bool { return s[i/64]&(1<<(uint(i)%64)) != 0 }
func (s bitset) clear()         { clear(s) }

// matcher runs one pattern over a string one character at a time.
type matcher struct {
	p    pattern
	fold bool // ASCII case-insensitive literals (StringEqualsIgnoreCase)
}

func (m *matcher) closure(s bitset) {
	for i, t := range m.p {
		if t.kind == tMany && s.has(i) {
			s.set(i + 1)
		}
	}
}

func (m *matcher) start() bitset {
	s := newBitset(len(m.p) + 1)
	s.set(0)
	m.closure(s)
	return s
}

func (m *matcher) step(s, out bitset, c rune) {
	out.clear()
	if m.fold {
		c = lowerASCII(c)
	}
	for w, word := range s {
		for word != 0 {
			i := w*64 + bits.TrailingZeros64(word)
			word &= word - 1
			if i >= len(m.p) {
				continue
			}
			t := m.p[i]
			switch t.kind {
			case tMany:
				if t.colon || c != ':' {
					out.set(i)
				}
			case tOne:
				if t.colon || c != ':' {
					out.set(i + 1)
				}
			case tLit:
				r := t.r
				if m.fold {
					r = lowerASCII(r)
				}
				if r == c {
					out.set(i + 1)
				}
			}
		}
	}
	m.closure(out)
}

func (m *matcher) accepts(s bitset) bool { return s.has(len(m.p)) }

func (m *matcher) match(b *budget, str string) bool {
	if !b.spend(len(str) * (len(m.p) + 1)) {
		return false
	}
	s, t := m.start(), newBitset(len(m.p)+1)
	for _, c := range str {
		m.step(s, t, c)
		s, t = t, s
	}
	return m.accepts(s)
}

func lowerASCII(r rune) rune {
	if r >= 'A' && r <= 'Z' {
		return r + 'a' - 'A'
	}
	return r
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
