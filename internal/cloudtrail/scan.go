package cloudtrail

import (
	"bytes"
	"encoding/json"
)

// scanValue reads one JSON value, whose containers start at the given nesting depth.
func (s *Stream) scanValue(depth int) error {
	s.stack = s.stack[:0]
	limit := maxNesting - depth
	for {
		var c byte
		if s.pos < s.end && s.buf[s.pos] > ' ' { // s.next(), inlined by hand
			c = s.buf[s.pos]
		} else {
			var ok bool
			if c, ok = s.skipWS(); !ok {
				return s.eofError()
			}
		}
		pending := s.pendingKey
		s.pendingKey = 0
		switch c {
		case '{', '[':
			s.pos++
			closer := byte('}')
			if c == '[' {
				closer = ']'
			}
			if len(s.stack) >= limit {
				return s.syntaxErrorf("exceeded max depth")
			}
			c2, ok := s.next()
			if !ok {
				return s.eofError()
			}
			if c2 == closer {
				s.pos++
				break // an empty container: a complete value
			}
			s.stack = append(s.stack, c)
			if c == '{' {
				if _, err := s.scanKey(c2, false); err != nil {
					return err
				}
			}
			continue
		case '"':
			n, err := s.scanString()
			if err != nil {
				return err
			}
			if n > 0 {
				s.named |= pending
			}
		case 't':
			if err := s.scanLiteral("true"); err != nil {
				return err
			}
		case 'f':
			if err := s.scanLiteral("false"); err != nil {
				return err
			}
		case 'n':
			if err := s.scanLiteral("null"); err != nil {
				return err
			}
		default:
			if c == '-' || (c >= '0' && c <= '9') {
				if err := s.scanNumber(); err != nil {
					return err
				}
				break
			}
			return s.syntaxError(c, "looking for beginning of value")
		}
		// A value is complete: close containers until one expects another value.
		for {
			n := len(s.stack)
			if n == 0 {
				return nil
			}
			var c byte
			if s.pos < s.end && s.buf[s.pos] > ' ' { // s.next(), inlined by hand
				c = s.buf[s.pos]
			} else {
				var ok bool
				if c, ok = s.skipWS(); !ok {
					return s.eofError()
				}
			}
			top := s.stack[n-1]
			if c == ',' {
				s.pos++
				if top == '{' {
					c, ok := s.next()
					if !ok {
						return s.eofError()
					}
					if _, err := s.scanKey(c, false); err != nil {
						return err
					}
				}
				break
			}
			if (top == '{' && c == '}') || (top == '[' && c == ']') {
				s.pos++
				s.stack = s.stack[:n-1]
				continue
			}
			if top == '{' {
				return s.syntaxError(c, "after object key:value pair")
			}
			return s.syntaxError(c, "after array element")
		}
	}
}

// scanKey reads an object key (c is its first byte) and the colon after it. With wantRecords
// it reports whether the key is "Records".
func (s *Stream) scanKey(c byte, wantRecords bool) (isRecords bool, err error) {
	if c != '"' {
		return false, s.syntaxError(c, "looking for beginning of object key string")
	}
	if wantRecords {
		s.keyStart = s.pos
	}
	n, err := s.scanString()
	if err != nil {
		s.keyStart = -1
		return false, err
	}
	if wantRecords && s.keyStart >= 0 {
		isRecords = keyIsRecords(s.buf[s.keyStart:s.pos])
	}
	s.keyStart = -1
	if (n == len("eventName") || n == len("eventSource")) && s.pos-1-n >= 0 {
		switch string(s.buf[s.pos-1-n : s.pos-1]) {
		case "eventName":
			s.pendingKey = keyName
		case "eventSource":
			s.pendingKey = keySource
		}
	}
	if s.pos < s.end && s.buf[s.pos] == ':' { // the common case
		s.pos++
		return isRecords, nil
	}
	c, ok := s.skipWS()
	if !ok {
		return false, s.eofError()
	}
	if c != ':' {
		return false, s.syntaxError(c, "after object key")
	}
	s.pos++
	return isRecords, nil
}

// keyIsRecords reports whether a raw JSON string (with its quotes) is "Records".
func keyIsRecords(k []byte) bool {
	if string(k) == `"Records"` {
		return true
	}
	if len(k) > maxKeyBytes || bytes.IndexByte(k, '\\') < 0 {
		return false
	}
	var key string
	return json.Unmarshal(k, &key) == nil && key == "Records"
}

// The keys whose values CheckShape looks for.
const (
	keyName   = 1
	keySource = 2
)

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// scanNumber reads a number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *Stream) scanNumber() error {
	c, _ := s.peek()
	if c == '-' {
		s.pos++
		var ok bool
		if c, ok = s.peek(); !ok {
			return s.eofError()
		}
	}
	switch {
	case c == '0':
		s.pos++
	case c >= '1' && c <= '9':
		s.pos++
		s.digits()
	default:
		return s.syntaxError(c, "in numeric literal")
	}
	c, ok := s.peek()
	if !ok {
		return nil
	}
	if c == '.' {
		s.pos++
		if c, ok = s.peek(); !ok {
			return s.eofError()
		}
		if !isDigit(c) {
			return s.syntaxError(c, "after decimal point in numeric literal")
		}
		s.digits()
		if c, ok = s.peek(); !ok {
			return nil
		}
	}
	if c == 'e' || c == 'E' {
		s.pos++
		if c, ok = s.peek(); !ok {
			return s.eofError()
		}
		if c == '+' || c == '-' {
			s.pos++
			if c, ok = s.peek(); !ok {
				return s.eofError()
			}
		}
		if !isDigit(c) {
			return s.syntaxError(c, "in exponent of numeric literal")
		}
		s.digits()
	}
	return nil
}

func (s *Stream) digits() {
	for {
		c, ok := s.peek()
		if !ok || !isDigit(c) {
			return
		}
		s.pos++
	}
}

// scanLiteral reads true, false or null.
func (s *Stream) scanLiteral(lit string) error {
	for i := 0; i < len(lit); i++ {
		c, ok := s.peek()
		if !ok {
			return s.eofError()
		}
		if c != lit[i] {
			return s.syntaxErrorf("invalid character %s in literal %s (expecting %s)", quoteChar(c), lit, quoteChar(lit[i]))
		}
		s.pos++
	}
	return nil
}
