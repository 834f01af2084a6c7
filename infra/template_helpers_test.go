package infra

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
)

// resource is one CloudFormation resource of a synthesized template.
type resource struct {
	ID        string
	Type      string
	Props     map[string]any
	Condition string
}

// resourcesOf returns the template's resources of a type, by logical id order.
func resourcesOf(tpl map[string]any, typ string) []resource {
	res, _ := tpl["Resources"].(map[string]any)
	var out []resource
	for id, raw := range res {
		r, _ := raw.(map[string]any)
		if r["Type"] != typ {
			continue
		}
		props, _ := r["Properties"].(map[string]any)
		cond, _ := r["Condition"].(string)
		out = append(out, resource{ID: id, Type: typ, Props: props, Condition: cond})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// resourceByID returns one resource.
func resourceByID(t *testing.T, tpl map[string]any, id string) resource {
	t.Helper()
	res, _ := tpl["Resources"].(map[string]any)
	r, ok := res[id].(map[string]any)
	if !ok {
		t.Fatalf("no resource %s", id)
	}
	props, _ := r["Properties"].(map[string]any)
	typ, _ := r["Type"].(string)
	cond, _ := r["Condition"].(string)
	return resource{ID: id, Type: typ, Props: props, Condition: cond}
}

// one returns the only resource of a type matching a property value.
func one(t *testing.T, tpl map[string]any, typ, prop string, value any) resource {
	t.Helper()
	var found []resource
	for _, r := range resourcesOf(tpl, typ) {
		if render(r.Props[prop]) == render(value) {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d resources %s with %s = %v, want 1", len(found), typ, prop, value)
	}
	return found[0]
}

// ref returns the logical id a Ref or Fn::GetAtt points to ("" otherwise).
func ref(v any) string {
	m, ok := v.(map[string]any)
	if !ok {
		return ""
	}
	if r, ok := m["Ref"].(string); ok {
		return r
	}
	if ga, ok := m["Fn::GetAtt"].([]any); ok && len(ga) == 2 {
		s, _ := ga[0].(string)
		return s
	}
	return ""
}

// render turns a template value into a readable string: literals as they are, Ref as ${Id},
// Fn::GetAtt as ${Id.Attr}, Fn::Join concatenated, anything else as JSON.
func render(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case nil:
		return ""
	case map[string]any:
		if r, ok := t["Ref"].(string); ok {
			return "${" + r + "}"
		}
		if ga, ok := t["Fn::GetAtt"].([]any); ok && len(ga) == 2 {
			return fmt.Sprintf("${%v.%v}", ga[0], ga[1])
		}
		if j, ok := t["Fn::Join"].([]any); ok && len(j) == 2 {
			sep, _ := j[0].(string)
			parts, _ := j[1].([]any)
			var out []string
			for _, p := range parts {
				out = append(out, render(p))
			}
			return strings.Join(out, sep)
		}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// strs renders a string or a list of values as a list of strings.
func strs(v any) []string {
	switch t := v.(type) {
	case nil:
		return nil
	case []any:
		out := make([]string, len(t))
		for i, e := range t {
			out[i] = render(e)
		}
		return out
	case []string:
		return t
	default:
		return []string{render(v)}
	}
}

// get walks a path of keys (and list indexes as ints) through decoded JSON.
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

// sameSet reports whether two lists hold the same strings.
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

// statements returns the statements of a policy document.
func statements(doc any) []map[string]any {
	var out []map[string]any
	switch s := get(doc, "Statement").(type) {
	case []any:
		for _, e := range s {
			if m, ok := e.(map[string]any); ok {
				out = append(out, m)
			}
		}
	case map[string]any:
		out = append(out, s)
	}
	return out
}

// roleStatements returns every statement granted to a role: its inline policies and the
// AWS::IAM::Policy resources attached to it.
func roleStatements(tpl map[string]any, roleID string) []map[string]any {
	var out []map[string]any
	role := get(tpl, "Resources", roleID, "Properties")
	policies, _ := get(role, "Policies").([]any)
	for _, p := range policies {
		out = append(out, statements(get(p, "PolicyDocument"))...)
	}
	for _, p := range resourcesOf(tpl, "AWS::IAM::Policy") {
		roles, _ := p.Props["Roles"].([]any)
		for _, r := range roles {
			if ref(r) == roleID {
				out = append(out, statements(p.Props["PolicyDocument"])...)
			}
		}
	}
	return out
}

// grants maps each action granted to a role to the resources it is granted on.
func grants(tpl map[string]any, roleID string) map[string][]string {
	out := map[string][]string{}
	for _, s := range roleStatements(tpl, roleID) {
		if s["Effect"] != "Allow" {
			continue
		}
		for _, a := range strs(s["Action"]) {
			out[a] = append(out[a], strs(s["Resource"])...)
		}
	}
	return out
}
