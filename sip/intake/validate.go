package intake

import (
	"bytes"
	"strconv"
	"strings"
)

// DefaultMaxSize is the largest message Validate accepts when Options.MaxSize
// is 0.
const DefaultMaxSize = 16384

// Options tune Validate.
type Options struct {
	// Stream is true for a message framed on a stream transport (TCP, TLS): it
	// must be exactly its header section plus Content-Length bytes of body.
	Stream bool
	// MaxSize is the largest message accepted, in bytes (0: DefaultMaxSize).
	MaxSize int
	// Supported lists the option tags this element supports; a request whose
	// Require names any other is answered 420 (RFC 3261 §8.2.2.3).
	Supported []string

	canonical bool // the message is already a canonical rewrite
}

// Message is what Validate keeps of a message: enough to pass it on and to
// answer it statelessly.
type Message struct {
	// Raw is the message to hand on: leading CRLFs removed and, on datagram
	// transports, any octets past the end of the body cut off (RFC 3261 §18.3).
	Raw []byte
	// Request is true for requests, false for responses.
	Request bool
	// Method is the request method (requests only).
	Method string
	// RequestURI is the Request-URI (requests only).
	RequestURI string
	// StatusCode is the response status (responses only).
	StatusCode int

	vias        []string // every Via field value, unfolded, in order
	topViaEnd   int      // offset in Raw just past the top via-parm; -1 if unknown
	topViaRport bool     // the top Via already carries rport
	from, to    string
	callID      string
	cseq        string
	cseqMethod  string
	cseqCount   int
	fromCount   int
	toCount     int
	callIDCount int
	maxFwd      int // -1 when absent
	maxFwdCount int
	clValue     int // -1 when absent
	clCount     int
	contentType string
	require     []string
	hasToTag    bool
	dirty       bool // Canonical form needed before sipgo parses it
}

// TopViaRport reports whether the top Via already has an rport parameter.
func (m *Message) TopViaRport() bool { return m.topViaRport }

// HasToTag reports whether the To header carries a tag (a request within a
// dialog).
func (m *Message) HasToTag() bool { return m.hasToTag }

// field is one header field, its value unfolded.
type field struct {
	name       string // as written
	key        string // canonical lower-case long name
	value      string // unfolded, trimmed
	dirty      bool   // folded, or spaced in a way sipgo's parser mishandles
	start, end int    // span of the raw value in the message
}

// fieldKey returns the canonical lower-case name of a field intake reads
// (compact forms of RFC 3261 §7.3.3 included), or "" for any other field.
// It does not allocate.
func fieldKey(name string) string {
	var candidates []string
	switch len(name) {
	case 1:
		switch name[0] | 0x20 {
		case 'v':
			return "via"
		case 'f':
			return "from"
		case 't':
			return "to"
		case 'i':
			return "call-id"
		case 'l':
			return "content-length"
		case 'c':
			return "content-type"
		case 'm':
			return "contact"
		}
		return ""
	case 2:
		candidates = []string{"to"}
	case 3:
		candidates = []string{"via"}
	case 4:
		candidates = []string{"from", "cseq"}
	case 5:
		candidates = []string{"route"}
	case 7:
		candidates = []string{"call-id", "contact", "require"}
	case 12:
		candidates = []string{"max-forwards", "content-type", "record-route"}
	case 14:
		candidates = []string{"content-length"}
	}
	for _, c := range candidates {
		if strings.EqualFold(name, c) {
			return c
		}
	}
	return ""
}

// Validate judges one message. raw is a whole datagram, or one message framed
// by a Framer on a stream transport. It returns the message when it may be
// passed on; otherwise the error is an *Error whose Status says whether to
// answer (and the returned *Message, non-nil then, builds that answer) or to
// drop silently (Status 0). Validate never panics and never keeps raw.
func Validate(raw []byte, o Options) (*Message, error) {
	max := o.MaxSize
	if max <= 0 {
		max = DefaultMaxSize
	}
	// RFC 3261 §7.5: CRLFs before the start-line are ignored; a datagram of
	// nothing else is a keep-alive (RFC 5626 §3.5.1).
	i := 0
	for i < len(raw) && (raw[i] == '\r' || raw[i] == '\n') {
		i++
	}
	raw = raw[i:]
	if len(raw) == 0 {
		if i > 0 {
			return nil, drop("", ErrKeepAlive)
		}
		return nil, drop("", ErrEmpty)
	}
	if bytes.Count(raw, []byte{0}) == len(raw) {
		return nil, drop("", ErrEmpty)
	}

	m := &Message{Raw: raw, topViaEnd: -1, maxFwd: -1, clValue: -1}
	lineEnd := bytes.IndexByte(raw, '\n')
	if lineEnd < 0 {
		return nil, drop("no line end", ErrStartLine)
	}
	start := string(bytes.TrimSuffix(raw[:lineEnd], []byte{'\r'}))
	startErr := m.parseStartLine(start)
	if startErr != nil && startErr.Status == 0 {
		return nil, startErr
	}

	fields, bodyStart, ferr := scanFields(raw, lineEnd+1)
	if derr := m.digest(fields); ferr == nil || (derr != nil && derr.Status == 0) {
		ferr = derr
	}
	// Whatever is wrong, a response needs a usable top Via; a message
	// without one is dropped (RFC 3261 §18.2.2 leaves nowhere to send to).
	if len(m.vias) == 0 || m.topViaEnd < 0 {
		if ferr != nil && ferr.Status == 0 {
			return nil, ferr
		}
		return nil, drop("no usable Via", ErrVia)
	}
	if !m.Request {
		// Responses are never answered: any fault drops them.
		if startErr != nil {
			return nil, drop(startErr.Reason, startErr.Err)
		}
		if ferr != nil {
			return nil, drop(ferr.Reason, ferr.Err)
		}
	}
	answerable := func(e *Error) (*Message, error) {
		// RFC 3261 §17.2.1: an ACK is never answered.
		if m.Method == "ACK" {
			return nil, drop(e.Reason, e.Err)
		}
		return m, e
	}
	// The order follows RFC 3261 §8.2 and §16.3: the version and the
	// Request-URI first, then the header fields.
	if startErr != nil {
		return answerable(startErr)
	}
	if ferr != nil {
		return answerable(ferr)
	}
	if len(raw) > max {
		return answerable(reject(513, "Message Too Large", ErrTooLarge))
	}
	if e := m.checkBody(raw, bodyStart, o.Stream); e != nil {
		if !m.Request {
			return nil, drop(e.Reason, e.Err)
		}
		return answerable(e)
	}
	if !m.Request {
		if e := m.checkResponseHeaders(); e != nil {
			return nil, drop(e.Reason, e.Err)
		}
		return m.canonicalized(fields, bodyStart, o), nil
	}
	if e := m.checkRequestHeaders(o.Supported); e != nil {
		return answerable(e)
	}
	return m.canonicalized(fields, bodyStart, o), nil
}

// parseStartLine reads the Request-Line or Status-Line (RFC 3261 §7.1, §7.2).
func (m *Message) parseStartLine(line string) *Error {
	if hasPrefixFold(line, "SIP/") {
		// Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
		m.Request = false
		sp := strings.IndexByte(line, ' ')
		if sp < 0 {
			return drop("no status code", ErrStatusCode)
		}
		if !strings.EqualFold(line[:sp], "SIP/2.0") {
			return drop("version "+line[:sp], ErrVersion)
		}
		rest := line[sp+1:]
		// Exactly three digits, then SP (the reason phrase may be empty,
		// RFC 4475 §3.1.1.13); RFC 3261 §21 defines 100 to 699.
		if len(rest) < 3 || !isDigits(rest[:3]) || (len(rest) > 3 && rest[3] != ' ') {
			return drop("status code", ErrStatusCode)
		}
		code, _ := strconv.Atoi(rest[:3])
		if code < 100 || code > 699 {
			return drop("status code out of range", ErrStatusCode)
		}
		m.StatusCode = code
		for _, c := range []byte(rest[3:]) {
			if c < 0x20 && c != '\t' || c == 0x7f {
				return drop("control character in reason phrase", ErrStatusCode)
			}
		}
		return nil
	}
	// Request-Line = Method SP Request-URI SP SIP-Version (single SPs).
	m.Request = true
	parts := strings.Split(line, " ")
	if len(parts) >= 1 && isToken(parts[0]) {
		m.Method = parts[0]
	}
	if len(parts) != 3 || m.Method == "" {
		if len(parts) > 3 && isToken(parts[0]) {
			return reject(400, "Malformed Request-Line", ErrStartLine)
		}
		if m.Method == "" {
			// Not even a method: this is not SIP we can answer.
			return drop("no method", ErrStartLine)
		}
		return reject(400, "Malformed Request-Line", ErrStartLine)
	}
	m.RequestURI = parts[1]
	version := parts[2]
	if !strings.HasPrefix(strings.ToUpper(version), "SIP/") {
		return reject(400, "Malformed Request-Line", ErrStartLine)
	}
	if !strings.EqualFold(version, "SIP/2.0") {
		// RFC 3261 §8.2.2 ... §21.5.7
		return reject(505, "Version Not Supported", ErrVersion)
	}
	return checkRequestURI(m.RequestURI)
}

// checkRequestURI accepts sip, sips and tel URIs (RFC 3261 §19.1, RFC 3966).
func checkRequestURI(uri string) *Error {
	colon := strings.IndexByte(uri, ':')
	if colon <= 0 || !isScheme(uri[:colon]) {
		return reject(400, "Malformed Request-URI", ErrRequestURI)
	}
	for i := 0; i < len(uri); i++ {
		if c := uri[i]; c <= ' ' || c >= 0x7f || c == '<' || c == '>' || c == '"' {
			return reject(400, "Malformed Request-URI", ErrRequestURI)
		}
	}
	scheme := strings.ToLower(uri[:colon])
	rest := uri[colon+1:]
	switch scheme {
	case "sip", "sips":
		// userinfo may hold "?", ";" and "," (user-unreserved); "@" ends
		// it and cannot appear in it unescaped.
		hostport := rest
		if at := strings.IndexByte(rest, '@'); at >= 0 {
			hostport = rest[at+1:]
		}
		// RFC 3261 §19.1.1, table 1: headers are not allowed in a
		// Request-URI (RFC 4475 §3.1.2.11).
		if strings.IndexByte(hostport, '?') >= 0 {
			return reject(400, "Headers Not Allowed In Request-URI", ErrRequestURI)
		}
		if semi := strings.IndexByte(hostport, ';'); semi >= 0 {
			hostport = hostport[:semi]
		}
		if !isHostPort(hostport) {
			return reject(400, "Malformed Request-URI", ErrRequestURI)
		}
	case "tel":
		if rest == "" {
			return reject(400, "Malformed Request-URI", ErrRequestURI)
		}
	default:
		// RFC 3261 §8.2.2.1
		return reject(416, "Unsupported URI Scheme", ErrURIScheme)
	}
	return nil
}

// scanFields splits the header section into unfolded fields (RFC 3261 §7.3.1).
// It returns where the body starts. On a datagram, the end of the data ends
// the header section too. A malformed line is skipped and reported, so that
// the fields after it (a Via, say) can still serve a response.
func scanFields(raw []byte, pos int) ([]field, int, *Error) {
	fields := make([]field, 0, 24)
	text := string(raw) // one copy; names and values are substrings of it
	var first *Error
	bad := func(reason string) {
		if first == nil {
			first = reject(400, reason, ErrHeaderLine)
		}
	}
	for pos < len(raw) {
		nl := bytes.IndexByte(raw[pos:], '\n')
		end := len(raw)
		next := len(raw)
		if nl >= 0 {
			end = pos + nl
			next = end + 1
		}
		lineEnd := end
		if lineEnd > pos && raw[lineEnd-1] == '\r' {
			lineEnd--
		}
		lineStart := pos
		line := raw[lineStart:lineEnd]
		pos = next
		if len(line) == 0 {
			return fields, next, first
		}
		if line[0] == ' ' || line[0] == '\t' {
			if len(fields) == 0 {
				bad("Malformed Header Line")
				continue
			}
			f := &fields[len(fields)-1]
			f.value = strings.TrimSpace(f.value + " " + strings.TrimSpace(text[lineStart:lineEnd]))
			f.end = lineEnd
			f.dirty = true
			continue
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			bad("Malformed Header Line")
			continue
		}
		name := strings.TrimRight(text[lineStart:lineStart+colon], " \t")
		if !isToken(name) {
			bad("Malformed Header Name")
			continue
		}
		fields = append(fields, field{
			name:  name,
			dirty: colon != len(name),
			key:   fieldKey(name),
			value: strings.TrimSpace(text[lineStart+colon+1 : lineEnd]),
			start: lineStart + colon + 1,
			end:   lineEnd,
		})
	}
	return fields, len(raw), first
}

// digest reads the fields intake cares about. The first fault found wins.
func (m *Message) digest(fields []field) *Error {
	var first *Error
	note := func(e *Error) {
		if first == nil && e != nil {
			first = e
		}
	}
	for _, f := range fields {
		if f.dirty || (paramHeaders[f.key] && spacedParams(f.value, f.key == "via")) {
			m.dirty = true
		}
		switch f.key {
		case "via":
			m.vias = append(m.vias, f.value)
			parms, err := splitList(f.value)
			if err != nil || len(parms) == 0 {
				note(reject(400, "Malformed Via", ErrVia))
				continue
			}
			for i, v := range parms {
				usable, e := checkVia(v)
				note(e)
				if len(m.vias) == 1 && i == 0 {
					if !usable {
						return drop("top Via unusable", ErrVia)
					}
					m.topViaEnd = viaEnd(m.Raw, f.start, f.end)
					m.topViaRport = viaHasParam(v, "rport")
				}
			}
		case "from":
			m.fromCount++
			if m.fromCount == 1 {
				m.from = f.value
			}
			note(checkAddress(f.value, "From"))
		case "to":
			m.toCount++
			note(checkAddress(f.value, "To"))
			if m.toCount == 1 {
				m.to = f.value
				m.hasToTag = hasTag(f.value)
			}
		case "call-id":
			m.callIDCount++
			if m.callIDCount == 1 {
				m.callID = f.value
			}
			if !isCallID(f.value) {
				note(reject(400, "Malformed Call-ID", ErrCallID))
			}
		case "cseq":
			m.cseqCount++
			if m.cseqCount == 1 {
				m.cseq = f.value
			}
			note(m.parseCSeq(f.value))
		case "max-forwards":
			m.maxFwdCount++
			if !isDigits(f.value) || len(f.value) > 10 {
				note(reject(400, "Malformed Max-Forwards", ErrMaxForwards))
				continue
			}
			n, _ := strconv.Atoi(f.value)
			if n > 255 { // RFC 3261 §20.22: 0 to 255
				note(reject(400, "Max-Forwards Out Of Range", ErrMaxForwards))
			}
			m.maxFwd = n
		case "content-length":
			m.clCount++
			// RFC 3261 §20.14: 1*DIGIT; a sign or anything else is a
			// framing error (RFC 4475 §3.1.2.3).
			if !isDigits(f.value) || len(f.value) > 9 {
				note(reject(400, "Malformed Content-Length", ErrContentLength))
				continue
			}
			m.clValue, _ = strconv.Atoi(f.value)
		case "content-type":
			m.contentType = f.value
		case "contact":
			note(checkContact(f.value))
		case "require":
			for _, t := range strings.Split(f.value, ",") {
				if t = strings.TrimSpace(t); t != "" {
					m.require = append(m.require, t)
				}
			}
		}
	}
	return first
}

// parseCSeq reads CSeq = 1*DIGIT LWS Method (RFC 3261 §20.16).
func (m *Message) parseCSeq(v string) *Error {
	num, method, ok := strings.Cut(v, " ")
	method = strings.TrimSpace(method)
	if !ok || !isDigits(num) || !isToken(method) {
		return reject(400, "Malformed CSeq", ErrCSeq)
	}
	// RFC 3261 §8.1.1.5: the sequence number is less than 2**31.
	if len(num) > 10 {
		return reject(400, "CSeq Out Of Range", ErrCSeq)
	}
	if n, err := strconv.ParseUint(num, 10, 64); err != nil || n >= 1<<31 {
		return reject(400, "CSeq Out Of Range", ErrCSeq)
	}
	m.cseqMethod = method
	return nil
}

// checkBody applies RFC 3261 §18.3 framing rules.
func (m *Message) checkBody(raw []byte, bodyStart int, stream bool) *Error {
	if m.clCount > 1 {
		return reject(400, "Multiple Content-Length", ErrDuplicateHeader)
	}
	body := len(raw) - bodyStart
	if m.clValue < 0 {
		if stream && body > 0 {
			return reject(400, "Missing Content-Length", ErrContentLength)
		}
		return nil
	}
	switch {
	case body < m.clValue:
		return reject(400, "Content-Length Larger Than Body", ErrBodyTruncated)
	case body > m.clValue:
		if stream {
			return reject(400, "Content-Length Smaller Than Body", ErrFraming)
		}
		// Octets past the body are discarded.
		m.Raw = raw[:bodyStart+m.clValue]
	}
	return nil
}

func (m *Message) checkResponseHeaders() *Error {
	if m.fromCount != 1 || m.toCount != 1 || m.callIDCount != 1 || m.cseqCount != 1 {
		return drop("missing or repeated mandatory header", ErrMissingHeader)
	}
	return nil
}

// checkRequestHeaders applies RFC 3261 §8.1.1 (mandatory fields), §8.2.2
// and §16.3 to a request.
func (m *Message) checkRequestHeaders(supported []string) *Error {
	for _, h := range []struct {
		name  string
		count int
	}{{"To", m.toCount}, {"From", m.fromCount}, {"Call-ID", m.callIDCount}, {"CSeq", m.cseqCount}} {
		if h.count == 0 {
			return reject(400, "Missing "+h.name, ErrMissingHeader)
		}
		if h.count > 1 {
			return reject(400, "Multiple "+h.name, ErrDuplicateHeader)
		}
	}
	if m.maxFwdCount > 1 {
		return reject(400, "Multiple Max-Forwards", ErrDuplicateHeader)
	}
	if m.cseqMethod != m.Method {
		return reject(400, "CSeq Method Mismatch", ErrCSeqMethod)
	}
	// RFC 3261 §16.3 item 3: at zero a request is not forwarded; OPTIONS may
	// be answered by its final recipient (§11), the rest get 483.
	if m.maxFwd == 0 && m.Method != "OPTIONS" {
		return reject(483, "Too Many Hops", ErrTooManyHops)
	}
	// RFC 3261 §8.2.2.3: Require is ignored in ACK and CANCEL.
	if m.Method != "ACK" && m.Method != "CANCEL" && len(m.require) > 0 {
		var unsupported []string
		for _, t := range m.require {
			if !containsFold(supported, t) {
				unsupported = append(unsupported, t)
			}
		}
		if len(unsupported) > 0 {
			e := reject(420, "Bad Extension", ErrUnsupportedExt)
			e.Headers = []string{"Unsupported: " + strings.Join(unsupported, ", ")}
			return e
		}
	}
	// RFC 3261 §8.2.3: an INVITE body this element cannot read gets 415.
	if m.Method == "INVITE" && m.clValue != 0 && m.contentType != "" {
		mt := strings.ToLower(strings.TrimSpace(strings.SplitN(m.contentType, ";", 2)[0]))
		if mt != "application/sdp" && !strings.HasPrefix(mt, "multipart/") {
			e := reject(415, "Unsupported Media Type", ErrUnsupportedMedia)
			e.Headers = []string{"Accept: application/sdp"}
			return e
		}
	}
	return nil
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
