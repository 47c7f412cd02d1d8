package digest

import (
	"errors"
	"fmt"

	sipgosip "github.com/emiago/sipgo/sip"
	icholy "github.com/icholy/digest"
)

// ErrNoChallenge means a 401 or 407 came without its challenge header.
var ErrNoChallenge = errors.New("sip/digest: no challenge in the response")

// Answer is the client side of a challenge (RFC 3261 §22.2, §22.3): the
// Authorization header answering a 401's WWW-Authenticate, or the
// Proxy-Authorization answering a 407's Proxy-Authenticate, for a request
// of method to uri with the given credentials.
func Answer(res *sipgosip.Response, method, uri, username, password string) (sipgosip.Header, error) {
	challenge, answer := "WWW-Authenticate", "Authorization"
	if res.StatusCode == 407 {
		challenge, answer = "Proxy-Authenticate", "Proxy-Authorization"
	}
	h := res.GetHeader(challenge)
	if h == nil {
		return nil, fmt.Errorf("%w: %d without %s", ErrNoChallenge, res.StatusCode, challenge)
	}
	chal, err := icholy.ParseChallenge(h.Value())
	if err != nil {
		return nil, fmt.Errorf("sip/digest: %s: %w", challenge, err)
	}
	cred, err := icholy.Digest(chal, icholy.Options{Method: method, URI: uri, Count: 1, Username: username, Password: password})
	if err != nil {
		return nil, fmt.Errorf("sip/digest: %w", err)
	}
	return sipgosip.NewHeader(answer, cred.String()), nil
}
