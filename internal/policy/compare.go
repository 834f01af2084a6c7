package policy

import (
	"errors"
	"fmt"
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
