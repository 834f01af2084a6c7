// Package policy reads service control policy (SCP) and IAM policy documents and answers the
// questions rule SCP-MODIFIED asks of them: which Deny statements are aimed at the root user
// (RootAimedDenies, DeniesRoot), and whether a new version of a protection SCP weakens, only
// tightens or otherwise changes the old one (Compare). It is pure: no I/O, no logging, no clock.
package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// MaxContentBytes is the largest document Parse accepts. An SCP has at most 5,120 characters;
// the margin leaves room for IAM policies and for whitespace; the work of RootAimedDenies and
// Compare is bounded separately.
const MaxContentBytes = 64 << 10

// maxDepth is the deepest JSON nesting Parse accepts. A policy needs 7 levels: document,
// Statement list, statement, Condition, operator, key, value list.
const maxDepth = 16

// ErrInvalid is matched (errors.Is) by every error Parse returns.
var ErrInvalid = errors.New("invalid policy document")

// ParseError says what is wrong with a policy document and where.
type ParseError struct {
	// Path locates the problem, e.g. "Statement[2].Action"; "" for the document as a whole.
	Path string
	// Msg says what is wrong.
	Msg string
}

// Error returns "Path: Msg".
func (e *ParseError) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return e.Path + ": " + e.Msg
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *ParseError) Is(target error) bool { return target == ErrInvalid }

// Effect is a statement's effect.
type Effect string

// The two effects.
const (
	Allow Effect = "Allow"
	Deny  Effect = "Deny"
)

// Document is a parsed policy document.
type Document struct {
	Version    string
	ID         string
	Statements []Statement
}

// Statement is one policy statement. Exactly one of Action and NotAction is non-nil, and
// exactly one of Resource and NotResource (an omitted Resource reads as ["*"]).
type Statement struct {
	// Index is the statement's position in the document, from 0.
	Index int
	Sid   string
	// Effect is Allow or Deny, whatever the case it was written in.
	Effect Effect
	// Principal and NotPrincipal map a principal type ("AWS", "Service", ...) to its values;
	// the bare string "*" reads as {"*": ["*"]}. Nil when absent (SCPs have neither).
	Principal    map[string][]string
	NotPrincipal map[string][]string
	Action       []string
	NotAction    []string
	Resource     []string
	NotResource  []string
	// Conditions are the Condition element's operator/key pairs in document order.
	Conditions []Condition
}

// Condition is one operator/key pair of a statement's Condition element. Boolean and number
// values are kept as their JSON text ("true", "5").
type Condition struct {
	Operator string
	Key      string
	Values   []string
}

// Parse reads a policy document. Element names, Effect values and condition operators are read
// case-insensitively; an element given twice (also in different case), an unknown element, a
// statement without Effect or without Action/NotAction, or one with both Action and NotAction
// (or Resource and NotResource) is an error naming the place.
func Parse(content string) (*Document, error) {
	if len(content) > MaxContentBytes {
		return nil, &ParseError{Msg: fmt.Sprintf("the document is %d bytes; the limit is %d (an SCP has at most 5,120 characters)", len(content), MaxContentBytes)}
	}
	if strings.TrimSpace(content) == "" {
		return nil, &ParseError{Msg: "the document is empty"}
	}
	if !json.Valid([]byte(content)) {
		var v any
		err := json.Unmarshal([]byte(content), &v)
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, &ParseError{Msg: fmt.Sprintf("invalid JSON at byte %d: %v", se.Offset, se)}
		}
		return nil, &ParseError{Msg: "invalid JSON"}
	}
	sc := scanner{s: content}
	root, err := sc.value(nil, 1)
	if err != nil {
		return nil, err
	}
	return buildDocument(root)
}

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

func describe(n node) string {
	switch n.kind {
	case kString:
		return "a string"
	case kNumber:
		return "a JSON number"
	case kBool:
		return "a JSON boolean"
	case kNull:
		return "null"
	case kArray:
		return "a list"
	default:
		return "a JSON object"
	}
}

// ---- from the tree to a Document ----

func buildDocument(root node) (*Document, error) {
	if root.kind != kObject {
		return nil, &ParseError{Msg: describe(root) + " where a policy document (a JSON object) belongs"}
	}
	doc := &Document{}
	var stmts *member
	for i := range root.obj {
		m := &root.obj[i]
		p := (*path)(nil).field(m.key)
		switch strings.ToLower(m.key) {
		case "version":
			if m.val.kind != kString {
				return nil, errAt(p, "%s where a string belongs", describe(m.val))
			}
			doc.Version = m.val.text
		case "id":
			if m.val.kind != kString {
				return nil, errAt(p, "%s where a string belongs", describe(m.val))
			}
			doc.ID = m.val.text
		case "statement":
			stmts = m
		default:
			return nil, &ParseError{Msg: fmt.Sprintf("unknown element %s in the document", strconv.Quote(m.key))}
		}
	}
	if stmts == nil {
		return nil, &ParseError{Msg: "the document has no Statement"}
	}
	p := (*path)(nil).field(stmts.key)
	switch stmts.val.kind {
	case kObject:
		s, err := buildStatement(stmts.val, p, 0)
		if err != nil {
			return nil, err
		}
		doc.Statements = []Statement{s}
	case kArray:
		doc.Statements = make([]Statement, 0, len(stmts.val.arr))
		for i, v := range stmts.val.arr {
			ep := p.elem(i)
			if v.kind != kObject {
				return nil, errAt(ep, "%s where a statement (a JSON object) belongs", describe(v))
			}
			s, err := buildStatement(v, ep, i)
			if err != nil {
				return nil, err
			}
			doc.Statements = append(doc.Statements, s)
		}
	default:
		return nil, errAt(p, "%s where a statement or a list of statements belongs", describe(stmts.val))
	}
	return doc, nil
}

func buildStatement(n node, p *path, index int) (Statement, error) {
	s := Statement{Index: index}
	var err error
	seen := map[string]bool{}
	for _, m := range n.obj {
		mp := p.field(m.key)
		name := strings.ToLower(m.key)
		seen[name] = true
		switch name {
		case "sid":
			if m.val.kind != kString {
				return s, errAt(mp, "%s where a string belongs", describe(m.val))
			}
			s.Sid = m.val.text
		case "effect":
			if m.val.kind != kString {
				return s, errAt(mp, "%s where \"Allow\" or \"Deny\" belongs", describe(m.val))
			}
			switch {
			case strings.EqualFold(m.val.text, string(Allow)):
				s.Effect = Allow
			case strings.EqualFold(m.val.text, string(Deny)):
				s.Effect = Deny
			default:
				return s, errAt(mp, "%s is neither \"Allow\" nor \"Deny\"", strconv.Quote(m.val.text))
			}
		case "action":
			s.Action, err = stringList(m.val, mp)
		case "notaction":
			s.NotAction, err = stringList(m.val, mp)
		case "resource":
			s.Resource, err = stringList(m.val, mp)
		case "notresource":
			s.NotResource, err = stringList(m.val, mp)
		case "principal":
			s.Principal, err = principal(m.val, mp)
		case "notprincipal":
			s.NotPrincipal, err = principal(m.val, mp)
		case "condition":
			s.Conditions, err = conditions(m.val, mp)
		default:
			return s, errAt(p, "unknown element %s", strconv.Quote(m.key))
		}
		if err != nil {
			return s, err
		}
	}
	switch {
	case !seen["effect"]:
		return s, errAt(p, "Effect is missing")
	case seen["action"] && seen["notaction"]:
		return s, errAt(p, "has both Action and NotAction")
	case !seen["action"] && !seen["notaction"]:
		return s, errAt(p, "has neither Action nor NotAction")
	case seen["resource"] && seen["notresource"]:
		return s, errAt(p, "has both Resource and NotResource")
	case seen["principal"] && seen["notprincipal"]:
		return s, errAt(p, "has both Principal and NotPrincipal")
	}
	if !seen["resource"] && !seen["notresource"] {
		s.Resource = []string{"*"}
	}
	return s, nil
}

// stringList reads a string or a list of strings. The result is never nil.
func stringList(n node, p *path) ([]string, error) {
	switch n.kind {
	case kString:
		return []string{n.text}, nil
	case kArray:
		out := make([]string, 0, len(n.arr))
		for i, v := range n.arr {
			if v.kind != kString {
				return nil, errAt(p.elem(i), "%s where a string belongs", describe(v))
			}
			out = append(out, v.text)
		}
		return out, nil
	}
	return nil, errAt(p, "%s where a string or list of strings belongs", describe(n))
}

func principal(n node, p *path) (map[string][]string, error) {
	if n.kind == kString {
		if n.text != "*" {
			return nil, errAt(p, "%s where \"*\" or an object of principal types belongs", strconv.Quote(n.text))
		}
		return map[string][]string{"*": {"*"}}, nil
	}
	if n.kind != kObject {
		return nil, errAt(p, "%s where \"*\" or an object of principal types belongs", describe(n))
	}
	out := make(map[string][]string, len(n.obj))
	for _, m := range n.obj {
		vs, err := stringList(m.val, p.field(m.key))
		if err != nil {
			return nil, err
		}
		out[m.key] = vs
	}
	return out, nil
}

func conditions(n node, p *path) ([]Condition, error) {
	if n.kind != kObject {
		return nil, errAt(p, "%s where an object of condition operators belongs", describe(n))
	}
	var out []Condition
	for _, op := range n.obj {
		opp := p.field(op.key)
		if op.val.kind != kObject {
			return nil, errAt(opp, "%s where an object of condition keys belongs", describe(op.val))
		}
		for _, k := range op.val.obj {
			kp := opp.field(k.key)
			c := Condition{Operator: op.key, Key: k.key}
			switch k.val.kind {
			case kString, kBool, kNumber:
				c.Values = []string{k.val.text}
			case kArray:
				c.Values = make([]string, 0, len(k.val.arr))
				for i, v := range k.val.arr {
					switch v.kind {
					case kString, kBool, kNumber:
						c.Values = append(c.Values, v.text)
					default:
						return nil, errAt(kp.elem(i), "%s where a string, a boolean or a number belongs", describe(v))
					}
				}
			default:
				return nil, errAt(kp, "%s where a string, a list of strings, a boolean or a number belongs", describe(k.val))
			}
			out = append(out, c)
		}
	}
	return out, nil
}

// ---- back to JSON ----

// MarshalJSON writes the document as policy JSON: lists everywhere, Condition grouped by
// operator in document order, an omitted Resource written as "*". Parse of the result gives an
// equivalent document.
func (d Document) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	if d.Version != "" {
		b.WriteString(`"Version":`)
		writeString(&b, d.Version)
		b.WriteByte(',')
	}
	if d.ID != "" {
		b.WriteString(`"Id":`)
		writeString(&b, d.ID)
		b.WriteByte(',')
	}
	b.WriteString(`"Statement":[`)
	for i := range d.Statements {
		if i > 0 {
			b.WriteByte(',')
		}
		d.Statements[i].writeJSON(&b)
	}
	b.WriteString("]}")
	return b.Bytes(), nil
}

func (s *Statement) writeJSON(b *bytes.Buffer) {
	b.WriteByte('{')
	if s.Sid != "" {
		b.WriteString(`"Sid":`)
		writeString(b, s.Sid)
		b.WriteByte(',')
	}
	b.WriteString(`"Effect":`)
	writeString(b, string(s.Effect))
	writePrincipal(b, "Principal", s.Principal)
	writePrincipal(b, "NotPrincipal", s.NotPrincipal)
	if s.NotAction != nil {
		writeList(b, "NotAction", s.NotAction)
	} else {
		writeList(b, "Action", s.Action)
	}
	if s.NotResource != nil {
		writeList(b, "NotResource", s.NotResource)
	} else if s.Resource != nil {
		writeList(b, "Resource", s.Resource)
	}
	if len(s.Conditions) > 0 {
		b.WriteString(`,"Condition":{`)
		done := make([]bool, len(s.Conditions))
		for i, c := range s.Conditions {
			if done[i] {
				continue
			}
			if i > 0 {
				b.WriteByte(',')
			}
			writeString(b, c.Operator)
			b.WriteString(":{")
			for j := i; j < len(s.Conditions); j++ {
				if done[j] || s.Conditions[j].Operator != c.Operator {
					continue
				}
				if j > i {
					b.WriteByte(',')
				}
				done[j] = true
				writeString(b, s.Conditions[j].Key)
				b.WriteByte(':')
				writeArray(b, s.Conditions[j].Values)
			}
			b.WriteByte('}')
		}
		b.WriteByte('}')
	}
	b.WriteByte('}')
}

func writePrincipal(b *bytes.Buffer, name string, p map[string][]string) {
	if p == nil {
		return
	}
	b.WriteString(`,"` + name + `":`)
	if vs, ok := p["*"]; ok && len(p) == 1 && len(vs) == 1 && vs[0] == "*" {
		b.WriteString(`"*"`)
		return
	}
	b.WriteByte('{')
	for i, k := range sortedKeys(p) {
		if i > 0 {
			b.WriteByte(',')
		}
		writeString(b, k)
		b.WriteByte(':')
		writeArray(b, p[k])
	}
	b.WriteByte('}')
}

func writeList(b *bytes.Buffer, name string, vs []string) {
	b.WriteString(`,"` + name + `":`)
	writeArray(b, vs)
}

func writeArray(b *bytes.Buffer, vs []string) {
	b.WriteByte('[')
	for i, v := range vs {
		if i > 0 {
			b.WriteByte(',')
		}
		writeString(b, v)
	}
	b.WriteByte(']')
}

func writeString(b *bytes.Buffer, s string) {
	out, _ := json.Marshal(s) // a string always marshals
	b.Write(out)
}
