package cloudtrail

import (
	"encoding/binary"
	"math/bits"
	"strings"
)

// plain marks the bytes that may appear unescaped inside a JSON string.
var plain = func() (t [256]bool) {
	for i := 0x20; i < 256; i++ {
		t[i] = i != '"' && i != '\\'
	}
	return t
}()

// Word-at-a-time constants for scanString.
const (
	ones       = 0x0101010101010101
	highBits   = 0x8080808080808080
	quotes     = '"' * ones
	backslashs = '\\' * ones
	spaces     = ' ' * ones
)

// scanString reads a string; buf[pos] is its opening quote. It returns the length of its raw
// content and notes, for MayMatter, a string that is one of the prefilter's words.
func (s *Stream) scanString() (int, error) {
	start := s.Offset() + 1
	s.pos++
	for {
		// The run of plain bytes, eight at a time: a byte is flagged when it is a quote, a
		// backslash or below 0x20 (the usual "has a zero byte" trick; its false positives only
		// ever follow a true one, so the lowest flag is exact). TestStringRun drives it.
		b := s.buf[s.pos:s.end]
		i := 0
		for ; i+8 <= len(b); i += 8 {
			w := binary.LittleEndian.Uint64(b[i:])
			q, bs := w^quotes, w^backslashs
			if m := (((q - ones) &^ q) | ((bs - ones) &^ bs) | ((w - spaces) &^ w)) & highBits; m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				goto stop
			}
		}
		for i < len(b) && plain[b[i]] {
			i++
		}
	stop:
		s.pos += i
		if i == len(b) {
			if !s.fill() {
				return 0, s.eofError()
			}
			continue
		}
		switch c := b[i]; c {
		case '"':
			n := int(s.Offset() - start)
			if n >= s.minWord && n <= s.maxWord && !s.mayMatter {
				if s.pos-n < 0 {
					s.mayMatter = true // no longer in the window (a record too large to keep)
				} else if b := s.buf[s.pos-n : s.pos]; s.pf.maybe(b) {
					s.mayMatter = s.pf.word(b)
				}
			}
			s.pos++
			return n, nil
		case '\\':
			if err := s.scanEscape(); err != nil {
				return 0, err
			}
		default:
			return 0, s.syntaxError(c, "in string literal")
		}
	}
}

// scanEscape reads an escape sequence inside a string; buf[pos] is its backslash.
func (s *Stream) scanEscape() error {
	s.pos++
	c, ok := s.peek()
	if !ok {
		return s.eofError()
	}
	switch c {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		s.pos++
		if s.escapes != "" && strings.IndexByte(s.escapes, c) >= 0 {
			s.mayMatter = true // it could spell a byte of a word
		}
		return nil
	case 'u':
		s.pos++
		s.mayMatter = true // an escape could spell any word
		for range 4 {
			h, ok := s.peek()
			if !ok {
				return s.eofError()
			}
			if !isHex(h) {
				return s.syntaxError(h, "in \\u hexadecimal character escape")
			}
			s.pos++
		}
		return nil
	}
	return s.syntaxError(c, "in string escape code")
}
