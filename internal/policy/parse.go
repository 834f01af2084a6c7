package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

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
