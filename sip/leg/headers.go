package leg

import (
	"fmt"
	"sort"
	"strings"

	sipgosip "github.com/emiago/sipgo/sip"
)

// reserved are the headers the dialog and transaction layers own; an
// application may not set them (RFC 3261 §8.1.1, §12.2.1.1).
var reserved = map[string]bool{
	"via": true, "v": true, "from": true, "f": true, "to": true, "t": true,
	"call-id": true, "i": true, "cseq": true, "contact": true, "m": true,
	"content-length": true, "l": true, "content-type": true, "c": true,
	"max-forwards": true, "route": true, "record-route": true,
}

// addHeaders appends application headers to msg, sorted by name. Names must
// be SIP tokens (RFC 3261 §25.1) and not reserved; CR and LF in values are
// replaced by spaces so that no header can be injected.
func addHeaders(msg sipgosip.Message, headers map[string]string) error {
	if len(headers) == 0 {
		return nil
	}
	names := make([]string, 0, len(headers))
	for k := range headers {
		if !isToken(k) || reserved[strings.ToLower(k)] {
			return fmt.Errorf("%w: %q", ErrHeader, k)
		}
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		v := strings.Map(func(r rune) rune {
			if r == '\r' || r == '\n' {
				return ' '
			}
			return r
		}, headers[k])
		msg.AppendHeader(sipgosip.NewHeader(k, v))
	}
	return nil
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("-.!%*_+`'~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
