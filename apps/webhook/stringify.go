package webhook

import (
	"bytes"
	"errors"
	"math"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// errNotJSON is returned by jsCanonical for input that is not one JSON value.
var errNotJSON = errors.New("webhook: not a JSON value")

// jsCanonical rewrites the JSON value in in as JavaScript's
// JSON.stringify(JSON.parse(in)) would write it. jambonz's SDKs verify
// Jambonz-Signature over JSON.stringify of the parsed body (an Express app's
// req.body), so a body that does not survive that round trip unchanged
// fails verification. encoding/json differs from JSON.stringify where:
//   - it escapes U+2028 and U+2029 (JSON.stringify writes them as they are);
//   - it writes invalid UTF-8 (a Latin-1 display name in a SIP header) as
//     the escape \ufffd (JSON.stringify writes the character itself);
//   - it copies json.RawMessage (customerData, env_vars as the tenant wrote
//     them) with their escapes ("Jos\u00e9", "a\/b"), their numbers (1.50,
//     1E-7, integers beyond 2^53), their duplicate keys and their key order,
//     where JavaScript objects put integer-like keys first, in numeric order.
//
// The result is compact and valid UTF-8; strings escape only '"', '\\' and
// control characters, with \b \f \n \r \t and lowercase \u00xx as JavaScript
// does; a lone surrogate escape stays an escape.
func jsCanonical(in []byte) ([]byte, error) {
	n := jsNorm{in: in, out: make([]byte, 0, len(in))}
	if err := n.value(); err != nil {
		return nil, err
	}
	n.skipSpace()
	if n.i != len(in) {
		return nil, errNotJSON
	}
	return n.out, nil
}

type jsNorm struct {
	in  []byte
	i   int
	out []byte
	// members is a stack of the members of the objects being written
	// (offsets into out, relative to the object's opening brace).
	members []jsMember
}

type jsMember struct{ key, keyEnd, val, end int }

func (n *jsNorm) skipSpace() {
	for n.i < len(n.in) {
		switch n.in[n.i] {
		case ' ', '\t', '\n', '\r':
			n.i++
		default:
			return
		}
	}
}

func (n *jsNorm) value() error {
	n.skipSpace()
	if n.i >= len(n.in) {
		return errNotJSON
	}
	switch c := n.in[n.i]; {
	case c == '{':
		return n.object()
	case c == '[':
		return n.array()
	case c == '"':
		return n.str()
	case c == 't':
		return n.literal("true")
	case c == 'f':
		return n.literal("false")
	case c == 'n':
		return n.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return n.number()
	}
	return errNotJSON
}

func (n *jsNorm) literal(s string) error {
	if !bytes.HasPrefix(n.in[n.i:], []byte(s)) {
		return errNotJSON
	}
	n.i += len(s)
	n.out = append(n.out, s...)
	return nil
}

func (n *jsNorm) array() error {
	n.i++ // [
	n.out = append(n.out, '[')
	n.skipSpace()
	if n.i < len(n.in) && n.in[n.i] == ']' {
		n.i++
		n.out = append(n.out, ']')
		return nil
	}
	for {
		if err := n.value(); err != nil {
			return err
		}
		n.skipSpace()
		if n.i >= len(n.in) {
			return errNotJSON
		}
		switch n.in[n.i] {
		case ',':
			n.i++
			n.out = append(n.out, ',')
		case ']':
			n.i++
			n.out = append(n.out, ']')
			return nil
		default:
			return errNotJSON
		}
	}
}

func (n *jsNorm) object() error {
	n.i++ // {
	start := len(n.out)
	n.out = append(n.out, '{')
	base := len(n.members)
	defer func() { n.members = n.members[:base] }()
	n.skipSpace()
	if n.i < len(n.in) && n.in[n.i] == '}' {
		n.i++
		n.out = append(n.out, '}')
		return nil
	}
	for {
		n.skipSpace()
		if n.i >= len(n.in) || n.in[n.i] != '"' {
			return errNotJSON
		}
		m := jsMember{key: len(n.out) - start}
		if err := n.str(); err != nil {
			return err
		}
		m.keyEnd = len(n.out) - start
		n.skipSpace()
		if n.i >= len(n.in) || n.in[n.i] != ':' {
			return errNotJSON
		}
		n.i++
		n.out = append(n.out, ':')
		m.val = len(n.out) - start
		if err := n.value(); err != nil {
			return err
		}
		m.end = len(n.out) - start
		n.members = append(n.members, m)
		n.skipSpace()
		if n.i >= len(n.in) {
			return errNotJSON
		}
		switch n.in[n.i] {
		case ',':
			n.i++
			n.out = append(n.out, ',')
		case '}':
			n.i++
			n.out = append(n.out, '}')
			n.reorder(start, n.members[base:])
			return nil
		default:
			return errNotJSON
		}
	}
}

// reorder rewrites the object written at out[start:] in the order of a
// JavaScript object's keys when that differs from the order written:
// integer-like keys first in ascending numeric order, then the others in
// the order they first appeared; a repeated key keeps its first place and
// its last value.
func (n *jsNorm) reorder(start int, ms []jsMember) {
	obj := n.out[start:]
	key := func(m jsMember) []byte { return obj[m.key:m.keyEnd] }
	if !needsReorder(obj, ms) {
		return // the common case: nothing to change, nothing allocated
	}
	// find is the place in order of a key already seen, or -1.
	var seen map[string]int
	if len(ms) > 16 {
		seen = make(map[string]int, len(ms))
	}
	type entry struct {
		m     jsMember
		index uint32
		isIdx bool
	}
	order := make([]entry, 0, len(ms))
	find := func(k []byte) int {
		if seen != nil {
			if i, ok := seen[string(k)]; ok {
				return i
			}
			return -1
		}
		return slices.IndexFunc(order, func(e entry) bool { return bytes.Equal(key(e.m), k) })
	}
	dup, indexed := false, false
	for _, m := range ms {
		k := key(m)
		if i := find(k); i >= 0 {
			order[i].m.val, order[i].m.end = m.val, m.end // last value, first place
			dup = true
			continue
		}
		if seen != nil {
			seen[string(k)] = len(order)
		}
		idx, ok := arrayIndex(k)
		indexed = indexed || ok
		order = append(order, entry{m: m, index: idx, isIdx: ok})
	}
	if !dup && !indexed {
		return
	}
	slices.SortStableFunc(order, func(a, b entry) int {
		switch {
		case a.isIdx && b.isIdx:
			return int(int64(a.index) - int64(b.index))
		case a.isIdx:
			return -1
		case b.isIdx:
			return 1
		}
		return 0
	})
	if !dup && slices.EqualFunc(order, ms, func(e entry, m jsMember) bool { return e.m.key == m.key }) {
		return // already in JavaScript's order
	}
	old := slices.Clone(obj)
	n.out = append(n.out[:start], '{')
	for i, e := range order {
		if i > 0 {
			n.out = append(n.out, ',')
		}
		n.out = append(n.out, old[e.m.key:e.m.keyEnd]...)
		n.out = append(n.out, ':')
		n.out = append(n.out, old[e.m.val:e.m.end]...)
	}
	n.out = append(n.out, '}')
}

// needsReorder reports whether an object has an integer-like key or a
// repeated key. Small objects are checked without allocating.
func needsReorder(obj []byte, ms []jsMember) bool {
	key := func(m jsMember) []byte { return obj[m.key:m.keyEnd] }
	for _, m := range ms {
		if _, ok := arrayIndex(key(m)); ok {
			return true
		}
	}
	if len(ms) <= 16 {
		for i, m := range ms {
			for _, p := range ms[:i] {
				if bytes.Equal(key(p), key(m)) {
					return true
				}
			}
		}
		return false
	}
	seen := make(map[string]struct{}, len(ms))
	for _, m := range ms {
		if _, ok := seen[string(key(m))]; ok {
			return true
		}
		seen[string(key(m))] = struct{}{}
	}
	return false
}

// arrayIndex reports whether a written key ("..." with its quotes) is an
// array index to JavaScript: the canonical decimal form of 0 to 2^32-2.
func arrayIndex(k []byte) (uint32, bool) {
	if len(k) < 3 || k[0] != '"' || k[len(k)-1] != '"' {
		return 0, false
	}
	d := k[1 : len(k)-1]
	if len(d) > 10 || (len(d) > 1 && d[0] == '0') {
		return 0, false
	}
	var v uint64
	for _, c := range d {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	if v > math.MaxUint32-1 {
		return 0, false
	}
	return uint32(v), true
}

func (n *jsNorm) number() error {
	s := n.i
	for n.i < len(n.in) {
		c := n.in[n.i]
		if (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
			n.i++
			continue
		}
		break
	}
	lit := n.in[s:n.i]
	if plainInteger(lit) {
		n.out = append(n.out, lit...)
		return nil
	}
	f, err := strconv.ParseFloat(string(lit), 64)
	var ne *strconv.NumError
	if err != nil && !(errors.As(err, &ne) && ne.Err == strconv.ErrRange) {
		return errNotJSON
	}
	n.out = appendJSNumber(n.out, f)
	return nil
}

// plainInteger reports whether lit is an integer that JavaScript prints as
// it is written: at most 15 digits, no leading zero, not -0.
func plainInteger(lit []byte) bool {
	d := lit
	if len(d) > 0 && d[0] == '-' {
		d = d[1:]
	}
	if len(d) == 0 || len(d) > 15 || (d[0] == '0' && (len(d) > 1 || len(lit) > 1)) {
		return false
	}
	for _, c := range d {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// appendJSNumber writes f as JavaScript's Number.prototype.toString does
// (ECMA-262 §6.1.6.1.20), which JSON.stringify uses: the shortest digits
// that round-trip, exponent form below 1e-6 and from 1e21, -0 as 0, and
// the infinities (a literal beyond float64's range) as null.
func appendJSNumber(b []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 0) || math.IsNaN(f):
		return append(b, "null"...)
	case f == 0:
		return append(b, '0')
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs < 1e-6 || abs >= 1e21 {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// 1e-07 → 1e-7, as JavaScript writes the exponent.
		if k := len(b); k >= 4 && b[k-4] == 'e' && b[k-3] == '-' && b[k-2] == '0' {
			b[k-2] = b[k-1]
			b = b[:k-1]
		}
	}
	return b
}

const hexDigits = "0123456789abcdef"

func (n *jsNorm) str() error {
	n.i++ // "
	n.out = append(n.out, '"')
	for n.i < len(n.in) {
		c := n.in[n.i]
		switch {
		case c == '"':
			n.i++
			n.out = append(n.out, '"')
			return nil
		case c == '\\':
			if err := n.escape(); err != nil {
				return err
			}
		case c < utf8.RuneSelf:
			n.i++
			n.appendRune(rune(c))
		default:
			r, size := utf8.DecodeRune(n.in[n.i:])
			n.i += size
			n.appendRune(r) // invalid bytes become U+FFFD, as a decoder reads them
		}
	}
	return errNotJSON
}

func (n *jsNorm) escape() error {
	if n.i+1 >= len(n.in) {
		return errNotJSON
	}
	c := n.in[n.i+1]
	n.i += 2
	switch c {
	case '"', '\\', '/':
		n.appendRune(rune(c))
	case 'b':
		n.appendRune('\b')
	case 'f':
		n.appendRune('\f')
	case 'n':
		n.appendRune('\n')
	case 'r':
		n.appendRune('\r')
	case 't':
		n.appendRune('\t')
	case 'u':
		r, ok := n.hex4()
		if !ok {
			return errNotJSON
		}
		if utf16.IsSurrogate(r) {
			if r < 0xdc00 && bytes.HasPrefix(n.in[n.i:], []byte(`\u`)) {
				save := n.i
				n.i += 2
				if lo, ok := n.hex4(); ok && lo >= 0xdc00 && lo <= 0xdfff {
					n.appendRune(utf16.DecodeRune(r, lo))
					return nil
				}
				n.i = save
			}
			// A lone surrogate: JSON.stringify escapes it (well-formed JSON.stringify).
			n.out = append(n.out, '\\', 'u', hexDigits[r>>12], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
			return nil
		}
		n.appendRune(r)
	default:
		return errNotJSON
	}
	return nil
}

func (n *jsNorm) hex4() (rune, bool) {
	if n.i+4 > len(n.in) {
		return 0, false
	}
	var r rune
	for _, c := range n.in[n.i : n.i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	n.i += 4
	return r, true
}

// appendRune writes one character of a string as JSON.stringify does.
func (n *jsNorm) appendRune(r rune) {
	switch r {
	case '"':
		n.out = append(n.out, '\\', '"')
	case '\\':
		n.out = append(n.out, '\\', '\\')
	case '\b':
		n.out = append(n.out, '\\', 'b')
	case '\f':
		n.out = append(n.out, '\\', 'f')
	case '\n':
		n.out = append(n.out, '\\', 'n')
	case '\r':
		n.out = append(n.out, '\\', 'r')
	case '\t':
		n.out = append(n.out, '\\', 't')
	default:
		if r < 0x20 {
			n.out = append(n.out, '\\', 'u', '0', '0', hexDigits[r>>4], hexDigits[r&0xf])
			return
		}
		n.out = utf8.AppendRune(n.out, r)
	}
}
