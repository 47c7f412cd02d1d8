package intake

import "strings"

// paramHeaders are the fields whose parameters sipgo's parser reads; LWS
// around their ";" and "=" (legal, RFC 3261 §25.1 SEMI and EQUAL) ends up
// inside sipgo's parameter names ("tag " instead of "tag").
var paramHeaders = map[string]bool{
	"via": true, "from": true, "to": true, "contact": true, "route": true,
	"record-route": true,
}

// spacedParams reports whether v has LWS next to a ";" or "=" (or, in a Via,
// a "/") outside quoted strings.
func spacedParams(v string, via bool) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '"' {
			end := quotedEnd(v, i)
			if end < 0 {
				return false
			}
			i = end - 1
			continue
		}
		if c == ';' || c == '=' || (via && c == '/') {
			if i > 0 && isSpace(v[i-1]) || i+1 < len(v) && isSpace(v[i+1]) {
				return true
			}
		}
	}
	return false
}

// squeeze removes LWS next to ";", "=" (and "/" in a Via) outside quoted
// strings; the values mean the same (RFC 3261 §25.1: SEMI, EQUAL, SLASH).
func squeeze(v string, via bool) string {
	var b strings.Builder
	b.Grow(len(v))
	sep := func(c byte) bool { return c == ';' || c == '=' || (via && c == '/') }
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '"' {
			end := quotedEnd(v, i)
			if end < 0 {
				end = len(v)
			}
			b.WriteString(v[i:end])
			i = end - 1
			continue
		}
		if isSpace(c) {
			j := skipSpace(v, i)
			if j < len(v) && sep(v[j]) {
				i = j - 1
				continue
			}
			if s := b.String(); len(s) > 0 && sep(s[len(s)-1]) {
				i = j - 1
				continue
			}
			b.WriteByte(' ')
			i = j - 1
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// canonicalized returns m, or, when m has folded lines or spaced parameters
// that sipgo's lenient parser would misread, the same message rewritten
// with one line per field and those spaces removed. The meaning is unchanged
// (RFC 3261 §7.3.1: folding is equivalent to a single SP); the body is kept
// as it is.
func (m *Message) canonicalized(fields []field, bodyStart int, o Options) *Message {
	if !m.dirty || o.canonical {
		return m
	}
	var b strings.Builder
	b.Grow(len(m.Raw))
	lineEnd := strings.IndexByte(string(m.Raw[:min(len(m.Raw), 8192)]), '\n')
	if lineEnd < 0 {
		return m
	}
	b.WriteString(strings.TrimSuffix(string(m.Raw[:lineEnd]), "\r"))
	b.WriteString("\r\n")
	for _, f := range fields {
		v := f.value
		if paramHeaders[f.key] {
			v = squeeze(v, f.key == "via")
		}
		b.WriteString(f.name)
		b.WriteString(": ")
		b.WriteString(v)
		b.WriteString("\r\n")
	}
	b.WriteString("\r\n")
	if bodyStart < len(m.Raw) {
		b.Write(m.Raw[bodyStart:])
	}
	o.canonical = true
	m2, err := Validate([]byte(b.String()), o)
	if err != nil {
		return m // cannot happen for a message that passed; keep the original
	}
	return m2
}
