// Package policy reads service control policy (SCP) and IAM policy documents and answers the
// questions rule SCP-MODIFIED asks of them: which Deny statements are aimed at the root user
// (RootAimedDenies, DeniesRoot), and whether a new version of a protection SCP weakens, only
// tightens or otherwise changes the old one (Compare). It is pure: no I/O, no logging, no clock.
package policy

import (
	"bytes"
	"encoding/json"
	"errors"
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
