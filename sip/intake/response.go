package intake

import (
	"hash/fnv"
	"strconv"
)

// Response builds the stateless answer to the request m (RFC 3261 §8.2.6):
// the Via, From, To, Call-ID and CSeq of the request, a To tag when the
// request had none (the same tag for every retransmission, §8.2.6.2), the
// extra header lines given, and no body.
func (m *Message) Response(status int, reason string, extra ...string) []byte {
	b := make([]byte, 0, 512)
	b = append(b, "SIP/2.0 "...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, ' ')
	b = append(b, reason...)
	b = append(b, "\r\n"...)
	for _, v := range m.vias {
		b = appendHeader(b, "Via", v)
	}
	if m.fromCount > 0 {
		b = appendHeader(b, "From", m.from)
	}
	if m.toCount > 0 {
		to := m.to
		if !m.hasToTag && status > 100 {
			to += ";tag=" + m.stableTag()
		}
		b = appendHeader(b, "To", to)
	}
	if m.callIDCount > 0 {
		b = appendHeader(b, "Call-ID", m.callID)
	}
	if m.cseqCount > 0 {
		b = appendHeader(b, "CSeq", m.cseq)
	}
	for _, h := range extra {
		b = append(b, h...)
		b = append(b, "\r\n"...)
	}
	b = append(b, "Content-Length: 0\r\n\r\n"...)
	return b
}

func appendHeader(b []byte, name, value string) []byte {
	b = append(b, name...)
	b = append(b, ": "...)
	b = append(b, value...)
	return append(b, "\r\n"...)
}

func (m *Message) stableTag() string {
	h := fnv.New64a()
	h.Write([]byte(m.callID))
	if len(m.vias) > 0 {
		h.Write([]byte(m.vias[0]))
	}
	h.Write([]byte(m.cseq))
	return strconv.FormatUint(h.Sum64(), 36)
}

// WithRport returns the message with an empty rport parameter added to its
// top Via (unless it has one), so that the transaction layer answers to the
// source port of the packet, as RFC 3581 §4 asks when the client requests it.
// voxrun does this for every request over UDP because clients behind NAT
// rarely do (Kamailio's force_rport does the same).
func (m *Message) WithRport() []byte {
	if m.topViaRport || m.topViaEnd < 0 || !m.Request {
		return m.Raw
	}
	out := make([]byte, 0, len(m.Raw)+6)
	out = append(out, m.Raw[:m.topViaEnd]...)
	out = append(out, ";rport"...)
	return append(out, m.Raw[m.topViaEnd:]...)
}
