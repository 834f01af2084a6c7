// Package eventpattern evaluates EventBridge event patterns against events, for the subset of the
// pattern language rootguard's rules use: exact values (strings, numbers, booleans, null),
// "prefix", "anything-but" (values or a prefix), "exists", "numeric" and "$or". Any other
// operator is an error, so a test never passes because an operator was silently ignored.
//
// Semantics follow the EventBridge user guide: every field of the pattern must match; a pattern
// leaf is a list of alternatives; when the event's value is a list, the field matches when any
// element matches; a missing field matches only {"exists": false}; "anything-but" and "numeric"
// match only a present value.
package eventpattern

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrUnsupported is returned for pattern syntax outside the supported subset.
var ErrUnsupported = errors.New("unsupported event pattern syntax")

// Parse decodes a pattern and checks that it uses only the supported subset.
func Parse(data []byte) (map[string]any, error) {
	var p map[string]any
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("decode event pattern: %w", err)
	}
	if err := Validate(p); err != nil {
		return nil, err
	}
	return p, nil
}

// Validate checks that a decoded pattern uses only the supported subset.
func Validate(pattern map[string]any) error {
	if len(pattern) == 0 {
		return fmt.Errorf("%w: an empty pattern", ErrUnsupported)
	}
	return validateObject("", pattern)
}

func validateObject(path string, p map[string]any) error {
	for k, v := range p {
		at := join(path, k)
		if k == "$or" {
			alts, ok := v.([]any)
			if !ok || len(alts) < 2 {
				return fmt.Errorf("%w: %s must be a list of at least two patterns", ErrUnsupported, at)
			}
			for i, a := range alts {
				m, ok := a.(map[string]any)
				if !ok || len(m) == 0 {
					return fmt.Errorf("%w: %s[%d] must be a non-empty object", ErrUnsupported, at, i)
				}
				if err := validateObject(path, m); err != nil {
					return err
				}
			}
			continue
		}
		switch t := v.(type) {
		case map[string]any:
			if err := validateObject(at, t); err != nil {
				return err
			}
		case []any:
			if len(t) == 0 {
				return fmt.Errorf("%w: %s is an empty list (it would match nothing)", ErrUnsupported, at)
			}
			for _, alt := range t {
				if err := validateLeaf(at, alt); err != nil {
					return err
				}
			}
		default:
			return fmt.Errorf("%w: %s must be a list of values or an object, got %T", ErrUnsupported, at, v)
		}
	}
	return nil
}

func validateLeaf(at string, alt any) error {
	op, ok := alt.(map[string]any)
	if !ok {
		switch alt.(type) {
		case string, float64, bool, nil:
			return nil
		}
		return fmt.Errorf("%w: %s: value %v of type %T", ErrUnsupported, at, alt, alt)
	}
	if len(op) != 1 {
		return fmt.Errorf("%w: %s: an operator object must have exactly one key", ErrUnsupported, at)
	}
	for name, arg := range op {
		switch name {
		case "prefix":
			if _, ok := arg.(string); !ok {
				return fmt.Errorf("%w: %s: prefix takes a string", ErrUnsupported, at)
			}
		case "exists":
			if _, ok := arg.(bool); !ok {
				return fmt.Errorf("%w: %s: exists takes true or false", ErrUnsupported, at)
			}
		case "anything-but":
			switch a := arg.(type) {
			case string, float64, bool:
			case []any:
				for _, v := range a {
					switch v.(type) {
					case string, float64:
					default:
						return fmt.Errorf("%w: %s: anything-but list of %T", ErrUnsupported, at, v)
					}
				}
			case map[string]any:
				s, ok := a["prefix"].(string)
				if len(a) != 1 || !ok || s == "" {
					return fmt.Errorf("%w: %s: anything-but object must be {\"prefix\": \"...\"}", ErrUnsupported, at)
				}
			default:
				return fmt.Errorf("%w: %s: anything-but of %T", ErrUnsupported, at, arg)
			}
		case "numeric":
			if _, err := numericRanges(arg); err != nil {
				return fmt.Errorf("%w: %s: %v", ErrUnsupported, at, err)
			}
		default:
			return fmt.Errorf("%w: %s: operator %q", ErrUnsupported, at, name)
		}
	}
	return nil
}

// Match reports whether the event (a decoded JSON object) matches the pattern. The pattern must
// have passed Validate.
func Match(pattern, event map[string]any) bool {
	return matchObject(pattern, event)
}

func matchObject(p, e map[string]any) bool {
	for k, v := range p {
		if k == "$or" {
			if !slices.ContainsFunc(v.([]any), func(alt any) bool { return matchObject(alt.(map[string]any), e) }) {
				return false
			}
			continue
		}
		ev, present := e[k]
		switch t := v.(type) {
		case map[string]any:
			if list, ok := ev.([]any); ok {
				// An array of objects: some element must match the nested pattern (stricter than
				// EventBridge's flattening, which may combine fields of different elements).
				if !slices.ContainsFunc(list, func(e any) bool {
					m, ok := e.(map[string]any)
					return ok && matchObject(t, m)
				}) {
					return false
				}
				continue
			}
			sub, ok := ev.(map[string]any)
			if !ok {
				// A nested pattern needs an object; only {"exists": false} leaves below it could
				// match an absent object, and EventBridge applies exists to leaves only.
				if !present && allExistsFalse(t) {
					continue
				}
				return false
			}
			if !matchObject(t, sub) {
				return false
			}
		case []any:
			if !matchLeaf(t, ev, present) {
				return false
			}
		}
	}
	return true
}

// allExistsFalse reports whether every leaf under a nested pattern is {"exists": false}.
func allExistsFalse(p map[string]any) bool {
	for k, v := range p {
		if k == "$or" {
			return false
		}
		switch t := v.(type) {
		case map[string]any:
			if !allExistsFalse(t) {
				return false
			}
		case []any:
			if len(t) != 1 {
				return false
			}
			op, ok := t[0].(map[string]any)
			if !ok || op["exists"] != false {
				return false
			}
		}
	}
	return true
}

// matchLeaf matches a list of alternatives against the event's value at that field.
func matchLeaf(alts []any, ev any, present bool) bool {
	if _, isObject := ev.(map[string]any); isObject {
		// Patterns never match an object value with a leaf, except "exists" which EventBridge
		// applies to leaves only: an object is not a leaf.
		return slices.ContainsFunc(alts, func(a any) bool {
			op, ok := a.(map[string]any)
			return ok && op["exists"] == false
		})
	}
	values := []any{ev}
	if list, ok := ev.([]any); ok {
		values = list
	}
	for _, alt := range alts {
		if op, ok := alt.(map[string]any); ok {
			if matchOperator(op, values, present) {
				return true
			}
			continue
		}
		if present && slices.ContainsFunc(values, func(v any) bool { return equal(alt, v) }) {
			return true
		}
	}
	return false
}

func matchOperator(op map[string]any, values []any, present bool) bool {
	if exists, ok := op["exists"]; ok {
		return exists == (present && len(values) > 0)
	}
	if !present {
		return false
	}
	for name, arg := range op {
		switch name {
		case "prefix":
			return slices.ContainsFunc(values, func(v any) bool {
				s, ok := v.(string)
				return ok && strings.HasPrefix(s, arg.(string))
			})
		case "anything-but":
			return slices.ContainsFunc(values, func(v any) bool { return !anythingButExcludes(arg, v) })
		case "numeric":
			ranges, _ := numericRanges(arg)
			return slices.ContainsFunc(values, func(v any) bool {
				n, ok := v.(float64)
				return ok && ranges(n)
			})
		}
	}
	return false
}

// anythingButExcludes reports whether v is one of the values anything-but excludes.
func anythingButExcludes(arg, v any) bool {
	switch a := arg.(type) {
	case []any:
		return slices.ContainsFunc(a, func(x any) bool { return equal(x, v) })
	case map[string]any:
		s, ok := v.(string)
		return ok && strings.HasPrefix(s, a["prefix"].(string))
	default:
		return equal(a, v)
	}
}

// equal compares a pattern value with an event value: same JSON type and value.
func equal(p, v any) bool {
	switch pt := p.(type) {
	case nil:
		return v == nil
	case string:
		s, ok := v.(string)
		return ok && s == pt
	case float64:
		n, ok := v.(float64)
		return ok && n == pt
	case bool:
		b, ok := v.(bool)
		return ok && b == pt
	}
	return false
}

// numericRanges compiles ["op", n, "op", n] (one or two comparisons) into a predicate.
func numericRanges(arg any) (func(float64) bool, error) {
	list, ok := arg.([]any)
	if !ok || (len(list) != 2 && len(list) != 4) {
		return nil, errors.New("numeric takes [op, number] or [op, number, op, number]")
	}
	var tests []func(float64) bool
	for i := 0; i < len(list); i += 2 {
		op, ok1 := list[i].(string)
		n, ok2 := list[i+1].(float64)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("numeric comparison %v %v", list[i], list[i+1])
		}
		var t func(float64) bool
		switch op {
		case "=":
			t = func(x float64) bool { return x == n }
		case "<":
			t = func(x float64) bool { return x < n }
		case "<=":
			t = func(x float64) bool { return x <= n }
		case ">":
			t = func(x float64) bool { return x > n }
		case ">=":
			t = func(x float64) bool { return x >= n }
		default:
			return nil, fmt.Errorf("numeric operator %q", op)
		}
		tests = append(tests, t)
	}
	return func(x float64) bool {
		for _, t := range tests {
			if !t(x) {
				return false
			}
		}
		return true
	}, nil
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
