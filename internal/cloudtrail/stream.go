package cloudtrail

import (
	"bytes"
	"fmt"
	"io"
)

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

	mayMatter bool // a string equal to one of the prefilter's words, or an escape that could spell one
	named     bool // "eventName" and "eventSource" members with non-empty string values
}

// MayMatter reports what the Stream's Prefilter.MayMatter(r.Bytes) is meant to, more precisely
// and at no cost: the Stream saw, while scanning, a JSON string (key or value) equal to one of
// the prefilter's words, or an escape that could spell one. It is true for every record when
// the Stream has no prefilter (SetPrefilter).
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
	named      byte // keyName|keySource seen with non-empty string values
	pendingKey byte // the key whose value comes next, when it is one of those
	minRead    int  // least free space for one read (streamMinRead; tests use less)
	// The prefilter (nil: every record may matter) and what the scan loop reads of it.
	pf               *Prefilter
	keepAll          bool   // every record may matter
	escapes          string // Prefilter.escapes
	minWord, maxWord int    // the lengths a string must have to be compared with the words
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
	pf := s.pf
	if len(s.buf) > 4*streamBufSize {
		s.buf = make([]byte, streamBufSize) // let a window grown for a huge record go
	}
	*s = Stream{r: r, buf: s.buf, stack: s.stack[:0], minRead: s.minRead, line: 1, recStart: -1, keyStart: -1, resume: -1}
	s.SetPrefilter(pf)
}

// SetPrefilter makes the Stream note, for RawRecord.MayMatter, the records that hold one of
// pf's words. With nil (a new Stream's), every record may matter.
func (s *Stream) SetPrefilter(pf *Prefilter) {
	s.pf = pf
	s.keepAll = pf == nil || pf.all
	s.escapes, s.minWord, s.maxWord = "", 1, 0 // compare no string
	if !s.keepAll {
		s.escapes, s.minWord, s.maxWord = pf.escapes, pf.minLen, pf.maxLen
	}
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
	s.mayMatter, s.named, s.pendingKey = s.keepAll, 0, 0
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
	s.mayMatter, s.named, s.pendingKey = s.keepAll, 0, 0
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
