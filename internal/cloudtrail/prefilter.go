package cloudtrail

import (
	"bytes"
	"encoding/binary"
	"math"
	"slices"
	"strings"

	"github.com/rootguard/rootguard/internal/route"
)

// Prefilter is the replay's word set: the strings a record must hold, whole, to match one of a
// set of routing patterns, so that only those records are decoded. It is built once from the
// patterns (NewPrefilter) and never lists an event by hand: a rule whose events are routed is
// never dropped by it.
//
// A pattern matches only a record whose fields equal one of the pattern's values, so one field
// per pattern is enough: its values are the pattern's words. The field chosen is the most
// selective one a record's own strings show: userIdentity.type, requestParameters.name, the
// event names, the event source, the event name prefixes (when the pattern has no whole names),
// and last the EventBridge source (as the event source it stands for, and itself for an
// envelope). A pattern with none of these matches any record, and then every record may matter.
type Prefilter struct {
	all            bool       // a pattern matches any record
	byLen          [][]string // words by length
	prefixes       []string   // event name prefixes
	prefixKeys     []uint32   // the first four bytes of each prefix (none is shorter)
	minLen, maxLen int        // the lengths a string must have to match a word or prefix
	minPrefix      int        // the shortest prefix (math.MaxInt: none)
	// wordBits and prefixBits are one-hash Bloom filters of the words (by length and first four
	// bytes) and of the prefixes (by first four bytes): most strings are turned away by one bit.
	wordBits   [16]uint64
	prefixBits [4]uint64
	escapes    string   // the short escapes (the letter after a backslash) that spell a byte of a word
	quoted     [][]byte // the words, in quotes, and the prefixes after a quote
}

// NewPrefilter returns the prefilter of the patterns.
func NewPrefilter(patterns []route.Pattern) *Prefilter {
	p := &Prefilter{minLen: math.MaxInt, minPrefix: math.MaxInt}
	var words []string
	for _, pat := range patterns {
		w, prefixes := patternWords(pat)
		if len(w) == 0 && len(prefixes) == 0 || slices.Contains(w, "") || slices.Contains(prefixes, "") {
			return &Prefilter{all: true} // the pattern can match a record without a word
		}
		words = append(words, w...)
		p.prefixes = append(p.prefixes, prefixes...)
	}
	slices.Sort(words)
	words = slices.Compact(words)
	slices.Sort(p.prefixes)
	p.prefixes = slices.Compact(p.prefixes)
	for _, w := range slices.Concat(words, p.prefixes) {
		p.minLen, p.maxLen = min(p.minLen, len(w)), max(p.maxLen, len(w))
		for i := range len(w) {
			if e := shortEscape(w[i]); e != 0 && strings.IndexByte(p.escapes, e) < 0 {
				p.escapes += string(e)
			}
		}
	}
	for _, w := range words {
		if len(w) < 4 {
			return &Prefilter{all: true} // too short to be worth a check of its own
		}
		h := wordHash([]byte(w))
		p.wordBits[h>>6] |= 1 << (h & 63)
		if len(p.byLen) <= len(w) {
			p.byLen = slices.Grow(p.byLen, len(w)+1-len(p.byLen))[:len(w)+1]
		}
		p.byLen[len(w)] = append(p.byLen[len(w)], w)
		p.quoted = append(p.quoted, []byte(`"`+w+`"`))
	}
	for _, pre := range p.prefixes {
		if len(pre) < 4 {
			return &Prefilter{all: true} // too short to be worth a check of its own
		}
		p.quoted = append(p.quoted, []byte(`"`+pre))
		p.prefixKeys = append(p.prefixKeys, binary.LittleEndian.Uint32([]byte(pre)))
		h := prefixHash([]byte(pre))
		p.prefixBits[h>>6] |= 1 << (h & 63)
		p.minPrefix = min(p.minPrefix, len(pre))
	}
	if len(p.prefixes) > 0 {
		p.maxLen = math.MaxInt // a longer string may start with a prefix
	}
	return p
}

// shortEscape returns the letter of the two-byte JSON escape that spells c, or 0.
func shortEscape(c byte) byte {
	switch c {
	case '"', '\\', '/':
		return c
	case '\b':
		return 'b'
	case '\f':
		return 'f'
	case '\n':
		return 'n'
	case '\r':
		return 'r'
	case '\t':
		return 't'
	}
	return 0
}

// patternWords returns the words of one pattern: the values of its most selective field that a
// record shows as a whole string, or else its event name prefixes.
func patternWords(p route.Pattern) (words, prefixes []string) {
	switch {
	case len(p.UserIdentityTypes) > 0:
		return p.UserIdentityTypes, nil
	case len(p.RequestNames) > 0:
		return p.RequestNames, nil
	case len(p.EventNames) > 0 && len(p.EventNamePrefixes) == 0:
		return p.EventNames, nil
	case len(p.EventSources) > 0:
		return p.EventSources, nil
	case len(p.EventNamePrefixes) > 0 && len(p.EventNames) == 0:
		return nil, p.EventNamePrefixes
	case len(p.Sources) > 0 && len(p.SourcePrefixes) == 0:
		for _, src := range p.Sources {
			words = append(words, src) // an EventBridge envelope's source
			if svc, ok := strings.CutPrefix(src, AWSSourcePrefix); ok {
				words = append(words, svc+".amazonaws.com") // the event source AWS writes under it
			}
		}
		return words, nil
	}
	return nil, nil
}

// wordHash and prefixHash index the Bloom filters (ten and eight bits); len(b) >= 4.
func wordHash(b []byte) uint32 {
	return (binary.LittleEndian.Uint32(b) + uint32(len(b))) * 0x9E3779B1 >> 22
}

func prefixHash(b []byte) uint32 { return binary.LittleEndian.Uint32(b) * 0x9E3779B1 >> 24 }

// maybe is the Bloom filters' answer for a string's raw content of at least four bytes: false
// when it is certainly neither a word nor prefixed by one. The Stream calls it on every string
// whose length is within minLen..maxLen (it is small enough to be inlined), then word.
func (p *Prefilter) maybe(b []byte) bool {
	h := wordHash(b)
	if p.wordBits[h>>6]&(1<<(h&63)) != 0 {
		return true
	}
	h = prefixHash(b)
	return len(b) >= p.minPrefix && p.prefixBits[h>>6]&(1<<(h&63)) != 0
}

// word reports whether a string's raw content is one of the words or starts with one of the
// prefixes.
func (p *Prefilter) word(b []byte) bool {
	if len(b) < len(p.byLen) {
		for _, w := range p.byLen[len(b)] {
			if w[0] == b[0] && string(b) == w {
				return true
			}
		}
	}
	if len(p.prefixes) == 0 || len(b) < 4 {
		return false
	}
	key := binary.LittleEndian.Uint32(b)
	for i, k := range p.prefixKeys {
		if pre := p.prefixes[i]; k == key && len(b) >= len(pre) && string(b[:len(pre)]) == pre {
			return true
		}
	}
	return false
}

// MayMatter is a fast byte check that a raw record (one JSON value) could match one of the
// prefilter's patterns, so that the full Decode runs only on candidates: it reports true for
// every record that contains one of the words in quotes, a quote and one of the prefixes, or an
// escape that could spell a byte of a word (any \u escape; \/ when a word holds a slash, ...).
// It may say true for records that match no pattern; it never says false for one that does. A
// nil Prefilter keeps every record.
func (p *Prefilter) MayMatter(raw []byte) bool {
	if p == nil || p.all || bytes.Contains(raw, []byte(`\u`)) {
		return true
	}
	for i := range len(p.escapes) {
		if bytes.Contains(raw, []byte{'\\', p.escapes[i]}) {
			return true
		}
	}
	return slices.ContainsFunc(p.quoted, func(w []byte) bool { return bytes.Contains(raw, w) })
}

// CheckShape is the cheap check run on records that MayMatter drops, which are never decoded:
// given a valid JSON value (as Stream returns), it reports ErrNotEvent unless the value is an
// object with "eventName" and "eventSource" members holding non-empty strings (in the record or
// in an EventBridge envelope's detail).
//
// It looks at bytes only, so a wrong-typed field (userIdentity a string, say) is detected only
// in records that can matter, which Decode checks fully. When the byte check fails, CheckShape
// decodes the value to give Decode's exact answer and reason (keys spelled in another case,
// which encoding/json accepts, pass that way).
func CheckShape(raw []byte) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '{' &&
		hasStringMember(raw, []byte(`"eventName"`)) && hasStringMember(raw, []byte(`"eventSource"`)) {
		return nil
	}
	_, err := Decode(raw)
	return err
}

// hasStringMember reports whether valid JSON raw has a member key (given with its quotes)
// whose value is a non-empty string. It may be fooled by a key that ends with an escaped quote
// followed by the name; that only lets a malformed record that cannot matter pass unreported.
func hasStringMember(raw, key []byte) bool {
	for i := 0; ; {
		j := bytes.Index(raw[i:], key)
		if j < 0 {
			return false
		}
		k := skipSpace(raw, i+j+len(key))
		i = k
		if k >= len(raw) || raw[k] != ':' {
			continue // a string value, not a key
		}
		k = skipSpace(raw, k+1)
		if k+1 < len(raw) && raw[k] == '"' && raw[k+1] != '"' {
			return true
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}
