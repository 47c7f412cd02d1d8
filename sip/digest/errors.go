package digest

import "errors"

var (
	// ErrMissing means the request carries no digest credentials.
	ErrMissing = errors.New("sip/digest: no credentials")
	// ErrMalformed means the credentials could not be parsed or lack a field.
	ErrMalformed = errors.New("sip/digest: malformed credentials")
	// ErrStale means the nonce expired; the client may retry with a new one.
	ErrStale = errors.New("sip/digest: stale nonce")
	// ErrBadNonce means the nonce was not issued here, or not for this realm.
	ErrBadNonce = errors.New("sip/digest: bad nonce")
	// ErrReplay means this nonce and nonce count were already used.
	ErrReplay = errors.New("sip/digest: nonce count replayed")
	// ErrUnsupported means an algorithm or qop this server does not accept.
	ErrUnsupported = errors.New("sip/digest: unsupported algorithm or qop")
	// ErrBadCredentials means the user is unknown or the response is wrong;
	// the two are deliberately indistinguishable.
	ErrBadCredentials = errors.New("sip/digest: bad credentials")
	// ErrUnknownUser is returned by a Lookup for a user that does not exist.
	ErrUnknownUser = errors.New("sip/digest: unknown user")
	// ErrConfig wraps configuration errors of New.
	ErrConfig = errors.New("sip/digest: invalid configuration")
)

// Error is a failed verification. Callers answer Status (401, or 400 for
// malformed credentials) with a fresh challenge; Stale goes into it.
type Error struct {
	// Status is the SIP status to answer with.
	Status int
	// Stale is true when only the nonce was out of date (RFC 7616 §3.3).
	Stale bool
	// Err is the sentinel saying what failed (for logs and security events,
	// never for the answer).
	Err error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }
