package policy

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// ---- a small JSON tree that keeps object member order and detects duplicate names ----

type nodeKind uint8

const (
	kString nodeKind = iota + 1
	kNumber
	kBool
	kNull
	kArray
	kObject
)

type node struct {
	kind nodeKind
	text string // string value, number text, "true"/"false"
	arr  []node
	obj  []member
}

type member struct {
	key string
	val node
}

// path is a lazily formatted location such as Statement[2].Condition.StringLike.
type path struct {
	parent *path
	key    string
	index  int // used when key == ""
}

func (p *path) field(k string) *path { return &path{parent: p, key: k} }
func (p *path) elem(i int) *path     { return &path{parent: p, index: i} }

func (p *path) String() string {
	if p == nil {
		return ""
	}
	var parts []*path
	for q := p; q != nil; q = q.parent {
		parts = append(parts, q)
	}
	var b strings.Builder
	for i := len(parts) - 1; i >= 0; i-- {
		q := parts[i]
		if q.key == "" {
			fmt.Fprintf(&b, "[%d]", q.index)
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(show(q.key))
	}
	return b.String()
}

func errAt(p *path, format string, args ...any) error {
	return &ParseError{Path: p.String(), Msg: fmt.Sprintf(format, args...)}
}

// scanner reads a document json.Valid has accepted, keeping object members in order.
type scanner struct {
	s string
	i int
}

func (sc *scanner) ws() {
	for sc.i < len(sc.s) {
		switch sc.s[sc.i] {
		case ' ', '\t', '\n', '\r':
			sc.i++
		default:
			return
		}
	}
}

func (sc *scanner) value(p *path, depth int) (node, error) {
	sc.ws()
	switch c := sc.s[sc.i]; c {
	case '{', '[':
		if depth > maxDepth {
			return node{}, errAt(p, "nested deeper than %d levels", maxDepth)
		}
		sc.i++
		sc.ws()
		if c == '[' {
			n := node{kind: kArray}
			if sc.s[sc.i] == ']' {
				sc.i++
				return n, nil
			}
			for {
				v, err := sc.value(p.elem(len(n.arr)), depth+1)
				if err != nil {
					return node{}, err
				}
				n.arr = append(n.arr, v)
				sc.ws()
				sc.i++ // ',' or ']'
				if sc.s[sc.i-1] == ']' {
					return n, nil
				}
			}
		}
		n := node{kind: kObject}
		if sc.s[sc.i] == '}' {
			sc.i++
			return n, nil
		}
		for {
			sc.ws()
			key := sc.str()
			for _, m := range n.obj {
				if strings.EqualFold(m.key, key) {
					if m.key == key {
						return node{}, errAt(p, "%s appears twice", strconv.Quote(key))
					}
					return node{}, errAt(p, "%s and %s both appear (names are case-insensitive)", strconv.Quote(m.key), strconv.Quote(key))
				}
			}
			sc.ws()
			sc.i++ // ':'
			v, err := sc.value(p.field(key), depth+1)
			if err != nil {
				return node{}, err
			}
			n.obj = append(n.obj, member{key: key, val: v})
			sc.ws()
			sc.i++ // ',' or '}'
			if sc.s[sc.i-1] == '}' {
				return n, nil
			}
		}
	case '"':
		return node{kind: kString, text: sc.str()}, nil
	case 't':
		sc.i += len("true")
		return node{kind: kBool, text: "true"}, nil
	case 'f':
		sc.i += len("false")
		return node{kind: kBool, text: "false"}, nil
	case 'n':
		sc.i += len("null")
		return node{kind: kNull}, nil
	}
	start := sc.i
	for sc.i < len(sc.s) && strings.IndexByte("+-0123456789.eE", sc.s[sc.i]) >= 0 {
		sc.i++
	}
	return node{kind: kNumber, text: sc.s[start:sc.i]}, nil
}

// str reads a string token. Escapes and non-ASCII text go through encoding/json, which
// replaces invalid UTF-8 with U+FFFD.
func (sc *scanner) str() string {
	start := sc.i + 1
	j, plain := start, true
	for sc.s[j] != '"' {
		switch c := sc.s[j]; {
		case c == '\\':
			plain = false
			j += 2
		case c >= 0x80:
			plain = false
			j++
		default:
			j++
		}
	}
	raw := sc.s[sc.i : j+1]
	sc.i = j + 1
	if plain {
		return raw[1 : len(raw)-1]
	}
	var out string
	_ = json.Unmarshal([]byte(raw), &out) // a token json.Valid accepted always decodes
	return out
}
