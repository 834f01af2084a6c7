package cloudtrail

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// ErrTooLarge: a record is larger than MaxEventBytes. The Stream skips it without buffering it.
var ErrTooLarge = errors.New("record too large")

// RecordError is a problem with one record of a stream: its JSON text is not valid, it is too
// large, or the input could not be read. Unless Fatal is set the Stream carries on with the next
// record.
type RecordError struct {
	// Index is the 1-based index the record has, or would have had, in the input.
	Index int
	// Line is the 1-based line where the record starts.
	Line int
	// Offset is the byte offset where the record starts.
	Offset int64
	// Err says what is wrong (it wraps ErrNotJSON, ErrTooLarge or the reader's error).
	Err error
	// Fatal: the rest of the input is not read (an error inside an array, a read error, or too
	// many bad records in a row).
	Fatal bool
}

// Error returns "record N: reason".
func (e *RecordError) Error() string { return fmt.Sprintf("record %d: %v", e.Index, e.Err) }

// Unwrap returns the reason.
func (e *RecordError) Unwrap() error { return e.Err }

// fatal reports an error that ends the input.
func (s *Stream) fatal(err error, index, line int, off int64) error {
	s.state, s.recStart, s.keyStart = stDone, -1, -1
	return &RecordError{Index: index, Line: line, Offset: off, Fatal: true,
		Err: fmt.Errorf("%w; stopped reading the input after %d records", err, index-1)}
}

// recover reports a failed top-level value and moves to where the next one may start: the first
// line inside the failed value that starts with '{' or '[' in its first column, else the next
// line that starts with something other than whitespace or a closing bracket.
func (s *Stream) recover(err error, index, line int, off int64) error {
	s.bad++
	if s.rerr != nil && s.rerr != io.EOF {
		return s.fatal(err, index, line, off)
	}
	if s.bad >= maxBadInARow {
		s.state = stDone
		return &RecordError{Index: index, Line: line, Offset: off, Fatal: true,
			Err: fmt.Errorf("%w; stopped reading the input after %d bad records in a row", err, s.bad)}
	}
	if s.resume >= s.base && s.resume <= s.base+int64(s.end) && s.resume > off {
		s.pos = int(s.resume - s.base)
		s.line, s.lineAt = s.resumeLine, s.resume
	} else {
		s.skipLines()
	}
	return &RecordError{Index: index, Line: line, Offset: off, Err: err}
}

// skipLines moves past the current line and any following line that starts with whitespace or
// a closing bracket, comma or colon.
func (s *Stream) skipLines() {
	for {
		i := bytes.IndexByte(s.buf[s.pos:s.end], '\n')
		if i < 0 {
			s.pos = s.end
			if !s.fill() {
				return
			}
			continue
		}
		s.pos += i + 1
		s.line++
		s.lineAt = s.Offset()
		c, ok := s.peek()
		if !ok {
			return
		}
		switch c {
		case ' ', '\t', '\r', '\n', '}', ']', ',', ':':
			continue
		}
		return
	}
}

// eofError is the error for an input that ends (or cannot be read) inside a value.
func (s *Stream) eofError() error {
	if s.rerr != nil && s.rerr != io.EOF {
		return fmt.Errorf("read input at byte %d: %w", s.Offset(), s.rerr)
	}
	return fmt.Errorf("%w: unexpected end of input at byte %d (line %d)", ErrNotJSON, s.Offset(), s.line)
}

func (s *Stream) syntaxError(c byte, context string) error {
	return s.syntaxErrorf("invalid character %s %s", quoteChar(c), context)
}

func (s *Stream) syntaxErrorf(format string, args ...any) error {
	return fmt.Errorf("%w: %s at byte %d (line %d)", ErrNotJSON, fmt.Sprintf(format, args...), s.Offset(), s.line)
}

// quoteChar formats a byte as encoding/json does in its syntax errors.
func quoteChar(c byte) string {
	switch c {
	case '\'':
		return `'\''`
	case '"':
		return `'"'`
	}
	q := strconv.Quote(string(rune(c)))
	return "'" + q[1:len(q)-1] + "'"
}
