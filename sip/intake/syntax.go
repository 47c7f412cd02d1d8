package intake

import (
	"strconv"
	"strings"
)

// RFC 3261 §25.1: token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" /
// "+" / "`" / "'" / "~").
func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-.!%*_+`'~", c) >= 0
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// isScheme: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
func isScheme(s string) bool {
	if s == "" || !isAlpha(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isAlpha(c) && !('0' <= c && c <= '9') && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

// isHostPort: hostport = host [ ":" port ] (RFC 3261 §25.1).
func isHostPort(s string) bool {
	host, port := s, ""
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return false
		}
		host, port = s[1:end], s[end+1:]
		if host == "" || strings.Trim(host, "0123456789abcdefABCDEF:.") != "" {
			return false
		}
		if port != "" {
			if port[0] != ':' {
				return false
			}
			port = port[1:]
		}
	} else {
		if c := strings.LastIndexByte(s, ':'); c >= 0 {
			host, port = s[:c], s[c+1:]
			if port == "" {
				return false
			}
		}
		if host == "" {
			return false
		}
		for i := 0; i < len(host); i++ {
			c := host[i]
			if !isAlpha(c) && !('0' <= c && c <= '9') && c != '-' && c != '.' {
				return false
			}
		}
	}
	if port != "" {
		if !isDigits(port) || len(port) > 5 {
			return false
		}
		if n, _ := strconv.Atoi(port); n > 65535 {
			return false
		}
	}
	return true
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' }

func skipSpace(s string, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}

// quotedEnd returns the index just past the quoted-string starting at s[i]
// ('"'), or -1 when it is not terminated (RFC 3261 §25.1 quoted-pair).
func quotedEnd(s string, i int) int {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// splitList splits a header value on the commas that separate its values,
// ignoring those inside quoted strings and angle brackets.
func splitList(v string) ([]string, *Error) {
	var out []string
	depth, last := 0, 0
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '"':
			end := quotedEnd(v, i)
			if end < 0 {
				return nil, reject(400, "Unterminated Quoted String", ErrAddress)
			}
			i = end - 1
		case '<':
			depth++
		case '>':
			if depth > 0 {
				depth--
			}
		case ',':
			if depth == 0 {
				out = append(out, strings.TrimSpace(v[last:i]))
				last = i + 1
			}
		}
	}
	if depth != 0 {
		return nil, reject(400, "Unbalanced Angle Brackets", ErrAddress)
	}
	return append(out, strings.TrimSpace(v[last:])), nil
}

// checkParams reads *( SEMI generic-param ) from s (RFC 3261 §25.1); bad
// names the field in the reason phrase.
func checkParams(s, bad string, sentinel error) *Error {
	i := 0
	for {
		i = skipSpace(s, i)
		if i == len(s) {
			return nil
		}
		if s[i] != ';' {
			return reject(400, "Malformed "+bad, sentinel)
		}
		i = skipSpace(s, i+1)
		n := i
		for i < len(s) && isTokenChar(s[i]) {
			i++
		}
		if i == n {
			return reject(400, "Malformed "+bad+" Parameter", sentinel)
		}
		i = skipSpace(s, i)
		if i < len(s) && s[i] == '=' {
			i = skipSpace(s, i+1)
			if i < len(s) && s[i] == '"' {
				end := quotedEnd(s, i)
				if end < 0 {
					return reject(400, "Unterminated Quoted String", sentinel)
				}
				i = end
				continue
			}
			v := i
			for i < len(s) && (isTokenChar(s[i]) || s[i] == ':' || s[i] == '[' || s[i] == ']') {
				i++
			}
			if i == v {
				return reject(400, "Malformed "+bad+" Parameter", sentinel)
			}
		}
	}
}

// checkVia reads one via-parm (RFC 3261 §20.42, §25.1). usable says whether
// its sent-protocol and sent-by were read, which is all a stateless response
// needs.
func checkVia(v string) (usable bool, e *Error) {
	bad := func() *Error { return reject(400, "Malformed Via", ErrVia) }
	i := 0
	var parts [3]string
	for k := 0; k < 3; k++ {
		if k > 0 {
			i = skipSpace(v, i)
			if i >= len(v) || v[i] != '/' {
				return false, bad()
			}
			i = skipSpace(v, i+1)
		}
		n := i
		for i < len(v) && isTokenChar(v[i]) {
			i++
		}
		if i == n {
			return false, bad()
		}
		parts[k] = v[n:i]
	}
	if i >= len(v) || !isSpace(v[i]) {
		return false, bad()
	}
	// Another protocol or version still names where to answer (a 505,
	// RFC 4475 §3.1.2.16); it is an error all the same.
	if !strings.EqualFold(parts[0], "SIP") || parts[1] != "2.0" {
		e = bad()
	}
	i = skipSpace(v, i)
	n := i
	for i < len(v) && !isSpace(v[i]) && v[i] != ';' {
		i++
	}
	sentBy := v[n:i]
	// LWS is allowed around the colon of sent-by; rejoin "host : port".
	if j := skipSpace(v, i); j < len(v) && v[j] == ':' {
		k := skipSpace(v, j+1)
		p := k
		for k < len(v) && '0' <= v[k] && v[k] <= '9' {
			k++
		}
		sentBy += ":" + v[p:k]
		i = k
	}
	if !isHostPort(sentBy) {
		return false, bad()
	}
	if e != nil {
		return true, e
	}
	return true, checkParams(v[i:], "Via", ErrVia)
}

// viaHasParam reports whether via-parm v has a parameter called name.
func viaHasParam(v, name string) bool {
	parts := strings.Split(v, ";")
	for _, p := range parts[1:] {
		k, _, _ := strings.Cut(p, "=")
		if strings.EqualFold(strings.TrimSpace(k), name) {
			return true
		}
	}
	return false
}

// viaEnd finds, in the raw bytes of the first Via field, the end of its
// first via-parm: the first comma outside quotes, or the end of the field,
// less trailing whitespace and folding.
func viaEnd(raw []byte, start, end int) int {
	if start < 0 || end > len(raw) || start > end {
		return -1
	}
	stop := end
	for i := start; i < end; i++ {
		if raw[i] == '"' {
			for i++; i < end && raw[i] != '"'; i++ {
				if raw[i] == '\\' {
					i++
				}
			}
			continue
		}
		if raw[i] == ',' {
			stop = i
			break
		}
	}
	for stop > start && (raw[stop-1] == ' ' || raw[stop-1] == '\t' || raw[stop-1] == '\r' || raw[stop-1] == '\n') {
		stop--
	}
	return stop
}

// checkURI accepts any absoluteURI-shaped string without whitespace or
// control characters (RFC 3261 §25.1; unknown schemes are legal in headers,
// RFC 4475 §3.2.4).
func checkURI(u string) bool {
	colon := strings.IndexByte(u, ':')
	if colon <= 0 || !isScheme(u[:colon]) || colon == len(u)-1 {
		return false
	}
	for i := 0; i < len(u); i++ {
		if u[i] <= ' ' || u[i] == 0x7f {
			return false
		}
	}
	return true
}

// checkNameAddr reads ( name-addr / addr-spec ) *( SEMI generic-param ), the
// shape of From, To and each Contact value (RFC 3261 §20.10, §20.20, §20.39).
func checkNameAddr(s, name string) *Error {
	bad := func(what string) *Error { return reject(400, what+" In "+name, ErrAddress) }
	s = strings.TrimSpace(s)
	if s == "" {
		return bad("Empty Address")
	}
	rest := s
	if s[0] == '"' {
		end := quotedEnd(s, 0)
		if end < 0 {
			return bad("Unterminated Quoted String")
		}
		rest = strings.TrimLeft(s[end:], " \t")
		if !strings.HasPrefix(rest, "<") {
			return bad("Malformed Address")
		}
	} else if lt := strings.IndexByte(s, '<'); lt >= 0 && !strings.ContainsAny(s[:lt], ";") {
		// display-name = *(token LWS); RFC 4475 §3.1.1.6 accepts a token
		// directly before "<".
		for _, w := range strings.Fields(s[:lt]) {
			if !isToken(w) {
				return bad("Malformed Display Name")
			}
		}
		rest = s[lt:]
	}
	var params string
	if strings.HasPrefix(rest, "<") {
		gt := strings.IndexByte(rest, '>')
		if gt < 0 {
			return bad("Unbalanced Angle Brackets")
		}
		if !checkURI(rest[1:gt]) {
			return bad("Malformed URI")
		}
		params = rest[gt+1:]
	} else {
		// addr-spec: a URI with a comma, question mark or semicolon must be
		// in name-addr form (RFC 3261 §20.10).
		uri := rest
		if semi := strings.IndexByte(rest, ';'); semi >= 0 {
			uri, params = rest[:semi], rest[semi:]
		}
		uri = strings.TrimRight(uri, " \t")
		if strings.ContainsAny(uri, "?,") || !checkURI(uri) {
			return bad("Malformed URI")
		}
	}
	return checkParams(params, name, ErrAddress)
}

// checkAddress checks a From or To value: exactly one address.
func checkAddress(v, name string) *Error {
	items, err := splitList(v)
	if err != nil {
		err.Reason += " In " + name
		return err
	}
	if len(items) != 1 {
		return reject(400, "Multiple "+name+" Values", ErrDuplicateHeader)
	}
	return checkNameAddr(items[0], name)
}

// checkContact checks every value of a Contact field ("*" included).
func checkContact(v string) *Error {
	if strings.TrimSpace(v) == "*" {
		return nil
	}
	items, err := splitList(v)
	if err != nil {
		err.Reason += " In Contact"
		return err
	}
	for _, it := range items {
		if e := checkNameAddr(it, "Contact"); e != nil {
			return e
		}
	}
	return nil
}

// hasTag reports whether a From or To value carries a tag parameter.
func hasTag(v string) bool {
	if gt := strings.LastIndexByte(v, '>'); gt >= 0 {
		v = v[gt+1:]
	} else if semi := strings.IndexByte(v, ';'); semi >= 0 {
		v = v[semi:]
	} else {
		return false
	}
	for _, p := range strings.Split(v, ";") {
		k, _, _ := strings.Cut(p, "=")
		if strings.EqualFold(strings.TrimSpace(k), "tag") {
			return true
		}
	}
	return false
}

// isCallID: callid = word [ "@" word ] (RFC 3261 §25.1).
func isCallID(v string) bool {
	w1, w2, two := strings.Cut(v, "@")
	return isWord(w1) && (!two || isWord(w2))
}

func isWord(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isTokenChar(c) && strings.IndexByte("()<>:\\\"/[]?{}", c) < 0 {
			return false
		}
	}
	return true
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
