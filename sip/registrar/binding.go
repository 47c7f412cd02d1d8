package registrar

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	sipgosip "github.com/emiago/sipgo/sip"

	"github.com/voxrun/voxrun/sip"
)

// binding is what a REGISTER asks for.
type binding struct {
	// query is a REGISTER without Contact (RFC 3261 §10.2.3).
	query bool
	// remove is Expires 0, or Contact * with Expires: 0 (§10.2.2).
	remove bool
	// wildcard is Contact *: every binding of the user goes.
	wildcard bool
	// requested is the expiry asked for in seconds, -1 when none is named.
	requested int
	// contact is the first Contact's URI, contactURI its text.
	contact    sipgosip.Uri
	contactURI string
}

// parseBinding reads the Contact and Expires of a REGISTER; a non-zero
// status is the 400 to answer.
func parseBinding(req *sip.Request) (binding, int, string) {
	b := binding{requested: -1}
	headerExpires := -1
	if h := req.GetHeader("Expires"); h != nil {
		n, err := strconv.Atoi(strings.TrimSpace(h.Value()))
		if err != nil || n < 0 {
			return b, 400, "Bad Request: Expires"
		}
		headerExpires = n
	}
	var values []string
	for _, h := range req.Headers() {
		if name := strings.ToLower(h.Name()); name == "contact" || name == "m" {
			values = append(values, splitContacts(h.Value())...)
		}
	}
	if len(values) == 0 {
		b.query = true
		return b, 0, ""
	}
	for _, v := range values {
		if v == "*" {
			// RFC 3261 §10.3 step 6: "*" only alone and with Expires: 0.
			if len(values) != 1 || headerExpires != 0 {
				return b, 400, "Bad Request: Contact * needs Expires: 0"
			}
			b.remove, b.wildcard, b.requested = true, true, 0
			return b, 0, ""
		}
	}
	// One binding per user: the first Contact wins.
	var params sipgosip.HeaderParams
	if _, err := sipgosip.ParseAddressValue(values[0], &b.contact, &params); err != nil || b.contact.Host == "" {
		return b, 400, "Bad Request: Contact"
	}
	b.contactURI = b.contact.String()
	b.requested = headerExpires
	if v, ok := params.Get("expires"); ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 {
			return b, 400, "Bad Request: Contact expires"
		}
		b.requested = n
	}
	b.remove = b.requested == 0
	return b, 0, ""
}

// splitContacts splits a Contact header value on the commas that separate
// contacts (outside quotes and angle brackets).
func splitContacts(v string) []string {
	var out []string
	inQuotes, inBrackets, start := false, false, 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '"' && !inBrackets:
			inQuotes = !inQuotes
		case c == '<' && !inQuotes:
			inBrackets = true
		case c == '>' && !inQuotes:
			inBrackets = false
		case c == ',' && !inQuotes && !inBrackets:
			if s := strings.TrimSpace(v[start:i]); s != "" {
				out = append(out, s)
			}
			start = i + 1
		}
	}
	if s := strings.TrimSpace(v[start:]); s != "" {
		out = append(out, s)
	}
	return out
}

// behindNAT reports whether a device's Contact is not the address its
// packets come from: then it is granted store.NATRegistrationTTL so that
// it refreshes its router's pinhole (seed 000). Over UDP the port must
// match too; over TCP, TLS and websockets the source port is the
// connection's ephemeral one and says nothing, so only the address counts.
func behindNAT(contact sipgosip.Uri, source netip.AddrPort, transport string) bool {
	ip, err := netip.ParseAddr(strings.Trim(contact.Host, "[]"))
	if err != nil {
		return true // a host name is not where the packet came from
	}
	if ip.Unmap() != source.Addr().Unmap() {
		return true
	}
	if transport != "udp" {
		return false
	}
	port := contact.Port
	if port == 0 {
		port = 5060 // RFC 3261 §19.1.2
	}
	return port != int(source.Port())
}

// sourceOf is the address the request's packet came from.
func sourceOf(req *sip.Request) netip.AddrPort {
	ap, err := netip.ParseAddrPort(req.Source())
	if err != nil {
		host, port, err := net.SplitHostPort(req.Source())
		if err != nil {
			return netip.AddrPort{}
		}
		addr, _ := netip.ParseAddr(host)
		p, _ := strconv.Atoi(port)
		return netip.AddrPortFrom(addr.Unmap(), uint16(p))
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// normalizeRealm lower-cases a realm and strips a trailing dot.
func normalizeRealm(host string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(host)), ".")
}

// newResponse builds a final response to req with a To tag (RFC 3261
// §8.2.6.2).
func newResponse(req *sip.Request, status int, reason string) *sip.Response {
	res := sip.NewResponse(req, status, reason)
	if to := res.To(); to != nil {
		if _, ok := to.Params.Get("tag"); !ok {
			if to.Params == nil {
				to.Params = sipgosip.NewParams()
			}
			to.Params.Add("tag", sipgosip.GenerateTagN(16))
		}
	}
	return res
}

func header(name, value string) sipgosip.Header { return sipgosip.NewHeader(name, value) }

// contactHeader is a binding as a 200 OK lists it (RFC 3261 §10.3 step 8).
func contactHeader(uri string, expires int) sipgosip.Header {
	return header("Contact", "<"+uri+">;expires="+strconv.Itoa(expires))
}

// addDate adds the Date header a registrar's 200 OK should carry (RFC 3261
// §10.3 step 8, §20.17).
func addDate(res *sip.Response, now time.Time) {
	res.AppendHeader(header("Date", now.UTC().Format(time.RFC1123)))
}

func headerValue(req *sip.Request, name string) string {
	if h := req.GetHeader(name); h != nil {
		return h.Value()
	}
	return ""
}
