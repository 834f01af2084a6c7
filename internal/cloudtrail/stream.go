package cloudtrail

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"strconv"
)

// ErrTooLarge: a record is larger than MaxEventBytes. The Stream skips it without buffering it.
var ErrTooLarge = errors.New("record too large")

const (
	// streamBufSize is the initial read window; it grows only to hold a record that does not fit.
	streamBufSize = 256 << 10
	// streamMinRead is the least free space the window keeps for one read.
	streamMinRead = 64 << 10
	// maxNesting is encoding/json's nesting limit, so that both accept the same inputs.
	maxNesting = 10000
	// maxKeyBytes is the longest raw key that can still spell "Records" (every letter escaped).
	maxKeyBytes = 64
	// maxBadInARow stops a file (a binary file, say) after that many failed records in a row.
	maxBadInARow = 10
	// maxEmptyReads is how many (0, nil) reads in a row count as a broken reader.
	maxEmptyReads = 100
)

// RawRecord is one record read by a Stream.
type RawRecord struct {
	// Bytes is the record's JSON text, without surrounding whitespace. It is valid until the next
	// call to Next.
	Bytes []byte
	// Index is the record's 1-based position in the input (failed records count too).
	Index int
	// Line is the 1-based line where the record starts.
	Line int
	// Offset is the byte offset of the record's first byte in the (decompressed) input.
	Offset int64

	mayMatter bool // a string equal to a word MayMatter looks for, or a \u escape
	named     bool // "eventName" and "eventSource" members with non-empty string values
}

// MayMatter reports what MayMatter(r.Bytes) is meant to, more precisely and at no cost: the
// Stream saw, while scanning, a JSON string (key or value) equal to "Root", "AssumeRoot",
// "rootguardCanary", "organizations.amazonaws.com", "controltower.amazonaws.com" or
// "signin.amazonaws.com", or a \u escape. The rules compare those values whole, so this is
// a superset of the records that can raise a finding.
func (r RawRecord) MayMatter() bool { return r.mayMatter }

// CheckShape is CheckShape(r.Bytes) using what the Stream saw while scanning: nil when the
// record is an object with "eventName" and "eventSource" members holding non-empty strings;
// otherwise Decode's answer.
func (r RawRecord) CheckShape() error {
	if r.named && len(r.Bytes) > 0 && r.Bytes[0] == '{' {
		return nil
	}
	return CheckShape(r.Bytes)
}

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

// Stream states.
const (
	stTop        = iota // between top-level values
	stArrayStart        // just after the '[' of a streamed array
	stArrayNext         // after an element of a streamed array
	stObjRest           // in a {"Records": [...]} object after its array
	stDone              // nothing more to read
)

// Stream splits one input into records without reading it whole. The input is recognised by
// content: a CloudTrail log file (an object with a "Records" array member, wherever it is among
// the keys: its elements are streamed), a JSON array (each element), or one or more top-level
// values separated by whitespace (one EventBridge event, JSON Lines, concatenated pretty-printed
// objects: each value). It does not gunzip: wrap a gzip reader around compressed input.
//
// The scanner validates JSON syntax as encoding/json does, so that every record it returns is
// one valid JSON value; the content is not decoded (see Decode), but what the prefilter needs is
// noted on the way (RawRecord.MayMatter and RawRecord.CheckShape). Memory is flat:
// a record is kept only while it is read, and one larger than MaxEventBytes is skipped and
// reported without being buffered.
//
// Errors: a syntax error in a top-level value is reported and reading goes on at the next line
// that starts a value (JSON Lines); an error inside an array or a Records object, or a read
// error, is reported as Fatal and ends the input.
type Stream struct {
	r          io.Reader
	buf        []byte
	pos, end   int
	base       int64 // input offset of buf[0]
	rerr       error // the reader's first error (io.EOF at the end)
	line       int   // line of buf[pos]; only newlines between tokens are counted
	lineAt     int64 // input offset where the current line starts
	started    bool
	state      int
	inRecords  bool // the streamed array is a "Records" member: after it the object goes on
	arrayDepth int  // nesting depth of the streamed array's elements
	index      int
	recStart   int // buffer position of the record being read; -1 when not kept
	keyStart   int // buffer position of the key being read; -1 when not kept
	tooLarge   bool
	stack      []byte
	track      bool  // remember where the next top-level value might start
	recOff     int64 // input offset of the record being read
	resume     int64 // input offset of the first line-start '{' or '[' inside it; -1 none
	resumeLine int
	bad        int // failed records in a row
	mayMatter  bool
	inKey      bool // scanning an object key
	// resourceValue: the value that comes next is one of the request parameters that name a
	// resource (resourceKey), where FORWARDER-TAMPERED looks for rootguard's names.
	resourceValue bool
	named         byte // keyName|keySource seen with non-empty string values
	pendingKey    byte // the key whose value comes next, when it is one of those
	minRead       int  // least free space for one read (streamMinRead; tests use less)
}

// NewStream returns a Stream reading r.
func NewStream(r io.Reader) *Stream {
	return newStreamSize(r, streamBufSize, streamMinRead)
}

// newStreamSize returns a Stream with a given initial window and least read (tests use tiny ones).
func newStreamSize(r io.Reader, size, minRead int) *Stream {
	s := &Stream{buf: make([]byte, size), minRead: minRead}
	s.Reset(r)
	return s
}

// Reset makes the Stream read r from its start, keeping its buffers.
func (s *Stream) Reset(r io.Reader) {
	if len(s.buf) > 4*streamBufSize {
		s.buf = make([]byte, streamBufSize) // let a window grown for a huge record go
	}
	*s = Stream{r: r, buf: s.buf, stack: s.stack[:0], minRead: s.minRead, line: 1, recStart: -1, keyStart: -1, resume: -1}
}

// Offset returns how many bytes of the input have been consumed.
func (s *Stream) Offset() int64 { return s.base + int64(s.pos) }

// Next returns the next record. At the end of the input it returns io.EOF. A problem with a
// record is returned as a *RecordError; call Next again to go on (after a Fatal one, Next
// returns io.EOF).
func (s *Stream) Next() (RawRecord, error) {
	if !s.started {
		s.started = true
		if s.ensure(3) && bytes.HasPrefix(s.buf[s.pos:s.end], []byte("\xEF\xBB\xBF")) {
			s.pos += 3 // a UTF-8 byte order mark, as some Windows tools write
		}
	}
	for {
		switch s.state {
		case stDone:
			return RawRecord{}, io.EOF
		case stTop:
			c, ok := s.skipWS()
			if !ok {
				s.state = stDone
				if s.rerr != io.EOF {
					return RawRecord{}, s.fatal(s.eofError(), s.index+1, s.line, s.Offset())
				}
				return RawRecord{}, io.EOF
			}
			if c == '[' {
				s.pos++
				s.inRecords = false
				s.arrayDepth = 1
				s.state = stArrayStart
				continue
			}
			rec, err, streaming := s.topValue(c)
			if streaming {
				continue
			}
			return rec, err
		case stArrayStart, stArrayNext:
			c, ok := s.skipWS()
			if !ok {
				return RawRecord{}, s.fatal(s.eofError(), s.index+1, s.line, s.Offset())
			}
			if c == ']' {
				s.pos++
				s.state = stTop
				if s.inRecords {
					s.state = stObjRest
				}
				continue
			}
			if s.state == stArrayNext {
				if c != ',' {
					return RawRecord{}, s.fatal(s.syntaxError(c, "after array element"), s.index+1, s.line, s.Offset())
				}
				s.pos++
				if c, ok = s.skipWS(); !ok {
					return RawRecord{}, s.fatal(s.eofError(), s.index+1, s.line, s.Offset())
				}
			}
			return s.element()
		case stObjRest:
			if err := s.objectRest(); err != nil {
				return RawRecord{}, s.fatal(err, s.index+1, s.line, s.Offset())
			}
		}
	}
}

// topValue reads a top-level value starting with c. It reports streaming when the value is an
// object with a "Records" array, whose elements Next then streams.
func (s *Stream) topValue(c byte) (rec RawRecord, err error, streaming bool) {
	s.index++
	index, line, off := s.index, s.line, s.Offset()
	s.recStart, s.tooLarge = s.pos, false
	s.mayMatter, s.named, s.pendingKey = false, 0, 0
	s.track, s.recOff, s.resume = true, off, -1
	if c == '{' {
		streaming, err = s.topObject()
	} else {
		err = s.scanValue(0)
	}
	s.track = false
	if streaming {
		s.index--
		return RawRecord{}, nil, true
	}
	if err != nil {
		s.recStart = -1
		return RawRecord{}, s.recover(err, index, line, off), false
	}
	rec, err = s.emit(index, line, off)
	return rec, err, false
}

// topObject reads a top-level object. When it meets a "Records" member whose value is an
// array, it stops before the first element and reports streaming.
func (s *Stream) topObject() (streaming bool, err error) {
	s.pos++ // '{'
	c, ok := s.next()
	if !ok {
		return false, s.eofError()
	}
	if c == '}' {
		s.pos++
		return false, nil
	}
	for {
		isRecords, err := s.scanKey(c, true)
		if err != nil {
			return false, err
		}
		if c, ok = s.next(); !ok {
			return false, s.eofError()
		}
		if isRecords && c == '[' {
			s.pos++
			s.recStart, s.tooLarge = -1, false
			s.inRecords, s.arrayDepth, s.state = true, 2, stArrayStart
			return true, nil
		}
		if err := s.scanValue(1); err != nil {
			return false, err
		}
		if c, ok = s.next(); !ok {
			return false, s.eofError()
		}
		switch c {
		case ',':
			s.pos++
			if c, ok = s.next(); !ok {
				return false, s.eofError()
			}
		case '}':
			s.pos++
			return false, nil
		default:
			return false, s.syntaxError(c, "after object key:value pair")
		}
	}
}

// objectRest reads the members of a Records object after its array, up to the next "Records"
// array or the closing brace.
func (s *Stream) objectRest() error {
	c, ok := s.next()
	if !ok {
		return s.eofError()
	}
	if c == '}' {
		s.pos++
		s.state = stTop
		return nil
	}
	if c != ',' {
		return s.syntaxError(c, "after object key:value pair")
	}
	s.pos++
	if c, ok = s.next(); !ok {
		return s.eofError()
	}
	isRecords, err := s.scanKey(c, true)
	if err != nil {
		return err
	}
	if c, ok = s.next(); !ok {
		return s.eofError()
	}
	if isRecords && c == '[' {
		s.pos++
		s.state = stArrayStart
		return nil
	}
	return s.scanValue(1)
}

// element reads one element of a streamed array; the next byte is not whitespace.
func (s *Stream) element() (RawRecord, error) {
	s.index++
	index, line, off := s.index, s.line, s.Offset()
	s.recStart, s.tooLarge = s.pos, false
	s.mayMatter, s.named, s.pendingKey = false, 0, 0
	s.state = stArrayNext
	if err := s.scanValue(s.arrayDepth); err != nil {
		s.recStart = -1
		return RawRecord{}, s.fatal(err, index, line, off)
	}
	return s.emit(index, line, off)
}

// emit returns the record just read, or ErrTooLarge.
func (s *Stream) emit(index, line int, off int64) (RawRecord, error) {
	start := s.recStart
	s.recStart = -1
	s.bad = 0
	if size := s.Offset() - off; s.tooLarge || start < 0 || size > MaxEventBytes {
		s.tooLarge = false
		return RawRecord{}, &RecordError{Index: index, Line: line, Offset: off,
			Err: fmt.Errorf("%w: %d bytes, more than the %d accepted; skipped", ErrTooLarge, size, MaxEventBytes)}
	}
	return RawRecord{Bytes: s.buf[start:s.pos], Index: index, Line: line, Offset: off,
		mayMatter: s.mayMatter, named: s.named == keyName|keySource}, nil
}

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
	s.inKey = true
	n, err := s.scanString()
	s.inKey = false
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
	// FORWARDER-TAMPERED reads rootguard's resource names in these request parameters only.
	s.resourceValue = n >= 3 && n <= len("subscriptionArn") && (s.pos-1-n < 0 || resourceKey(s.buf[s.pos-1-n:s.pos-1]))
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

// plain marks the bytes that may appear unescaped inside a JSON string.
var plain = func() (t [256]bool) {
	for i := 0x20; i < 256; i++ {
		t[i] = i != '"' && i != '\\'
	}
	return t
}()

// Word-at-a-time constants for plainRun.
const (
	ones       = 0x0101010101010101
	highBits   = 0x8080808080808080
	quotes     = '"' * ones
	backslashs = '\\' * ones
	spaces     = ' ' * ones
)

// plainRun returns the length of the run of plain string bytes at the start of b, eight bytes
// at a time: a byte is flagged when it is a quote, a backslash or below 0x20 (the usual "has a
// zero byte" trick; its false positives only ever follow a true one, so the lowest flag is exact).
func plainRun(b []byte) int {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		q, bs := w^quotes, w^backslashs
		if m := ((q - ones) &^ q) | ((bs - ones) &^ bs) | ((w - spaces) &^ w); m&highBits != 0 {
			return i + bits.TrailingZeros64(m&highBits)>>3
		}
	}
	for i < len(b) && plain[b[i]] {
		i++
	}
	return i
}

// matchWord reports whether a string's raw content is one of the values the rules compare
// whole: a root identity, AssumeRoot, the canary key, or an event source rules read.
func matchWord(b []byte) bool {
	if trustWord(b) { // TRUSTED-PRINCIPAL-CHANGED (prefilter.go)
		return true
	}
	if guardWord(b) {
		return true
	}
	switch len(b) {
	case 4:
		return string(b) == "Root"
	case 10:
		return string(b) == "AssumeRoot"
	case 15:
		return string(b) == "rootguardCanary"
	case 20:
		return string(b) == SourceSignIn
	case 21:
		return string(b) == SourceAccount
	case 26:
		return string(b) == SourceControlTower
	case 27:
		return string(b) == SourceOrganizations
	}
	return false
}

// scanString reads a string; buf[pos] is its opening quote. It returns the length of its raw
// content and notes, for MayMatter, a string that is one of the words the rules compare.
func (s *Stream) scanString() (int, error) {
	start := s.Offset() + 1
	s.pos++
	for {
		b := s.buf[s.pos:s.end]
		i := 0
		for ; i+8 <= len(b); i += 8 { // plainRun, inlined: most strings are short
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
			if n >= 4 && n <= maxWordLen {
				if s.pos-n < 0 {
					s.mayMatter = true // no longer in the window: assume it matters
				} else if matchWord(s.buf[s.pos-n : s.pos]) {
					s.mayMatter = true
				}
			}
			if !s.mayMatter && !s.inKey && s.resourceValue && n >= len(patRootguard) {
				s.mayMatter = s.pos-n < 0 || namesRootguard(s.buf[s.pos-n:s.pos])
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

// next is skipWS with the common case inlined: the next byte is not whitespace.
func (s *Stream) next() (byte, bool) {
	if s.pos < s.end {
		if c := s.buf[s.pos]; c > ' ' {
			return c, true
		}
	}
	return s.skipWS()
}

// skipWS skips whitespace and returns the next byte without consuming it; false at the end of
// the input.
func (s *Stream) skipWS() (byte, bool) {
	for {
		for s.pos < s.end {
			c := s.buf[s.pos]
			switch c {
			case ' ', '\t', '\r':
				s.pos++
				continue
			case '\n':
				s.pos++
				s.line++
				s.lineAt = s.base + int64(s.pos)
				continue
			}
			if s.track && (c == '{' || c == '[') && s.resume < 0 {
				if off := s.base + int64(s.pos); off == s.lineAt && off > s.recOff {
					s.resume, s.resumeLine = off, s.line
				}
			}
			return c, true
		}
		if !s.fill() {
			return 0, false
		}
	}
}

// peek returns the next byte without consuming it; false at the end of the input.
func (s *Stream) peek() (byte, bool) {
	if s.pos < s.end || s.fill() {
		return s.buf[s.pos], true
	}
	return 0, false
}

// ensure reads until n bytes are buffered after pos; false when the input ends first.
func (s *Stream) ensure(n int) bool {
	for s.end-s.pos < n {
		if !s.fill() {
			return false
		}
	}
	return true
}

// fill reads more input into the window, moving or growing it as needed. It returns false when
// nothing more can be read (s.rerr says why).
func (s *Stream) fill() bool {
	for empty := 0; ; {
		if s.rerr != nil {
			return false
		}
		if len(s.buf)-s.end < s.minRead {
			s.makeRoom()
		}
		n, err := s.r.Read(s.buf[s.end:])
		s.end += n
		if err != nil {
			s.rerr = err
		}
		if n > 0 {
			return true
		}
		if err == nil {
			if empty++; empty >= maxEmptyReads {
				s.rerr = io.ErrNoProgress
			}
		}
	}
}

// makeRoom drops what is no longer needed from the window, or grows it while it holds a record
// no larger than MaxEventBytes; a larger record stops being kept (and is reported as too large).
func (s *Stream) makeRoom() {
	for {
		if s.keyStart >= 0 && s.pos-s.keyStart > maxKeyBytes {
			s.keyStart = -1 // too long to be "Records"
		}
		if s.recStart >= 0 && s.pos-s.recStart > MaxEventBytes {
			s.recStart, s.tooLarge = -1, true
		}
		keep := s.pos
		if s.recStart >= 0 && s.recStart < keep {
			keep = s.recStart
		}
		if s.keyStart >= 0 && s.keyStart < keep {
			keep = s.keyStart
		}
		if keep > 0 {
			copy(s.buf, s.buf[keep:s.end])
			s.pos -= keep
			s.end -= keep
			s.base += int64(keep)
			if s.recStart >= 0 {
				s.recStart -= keep
			}
			if s.keyStart >= 0 {
				s.keyStart -= keep
			}
		}
		if len(s.buf)-s.end >= s.minRead {
			return
		}
		if keep == 0 && s.end < MaxEventBytes+2*s.minRead {
			grown := make([]byte, 2*len(s.buf))
			copy(grown, s.buf[:s.end])
			s.buf = grown
			return
		}
		if keep == 0 && (s.recStart >= 0 || s.keyStart >= 0) {
			// Cannot happen: a kept record is at most MaxEventBytes and a key maxKeyBytes.
			s.recStart, s.keyStart, s.tooLarge = -1, -1, true
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

// resourceKey reports whether an object key is a request parameter that names the resource a
// FORWARDER-TAMPERED call changes (rule.tamperParams: the rule reads no other).
func resourceKey(k []byte) bool {
	switch string(k) {
	case "name", "rule", "stackName", "stackSetName", "functionName", "topicArn", "subscriptionArn",
		"tableName", "resourceArn", "keyId", "aliasName":
		return true
	}
	return false
}
