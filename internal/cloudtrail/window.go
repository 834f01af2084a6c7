package cloudtrail

import "io"

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
