package intake

import (
	"errors"
	"strconv"
)

// Sentinels name what is wrong with a message; an *Error wraps one of them.
var (
	ErrKeepAlive        = errors.New("sip/intake: keep-alive")
	ErrEmpty            = errors.New("sip/intake: empty message")
	ErrTooLarge         = errors.New("sip/intake: message too large")
	ErrStartLine        = errors.New("sip/intake: malformed start line")
	ErrVersion          = errors.New("sip/intake: unsupported SIP version")
	ErrRequestURI       = errors.New("sip/intake: malformed Request-URI")
	ErrURIScheme        = errors.New("sip/intake: unsupported URI scheme")
	ErrStatusCode       = errors.New("sip/intake: malformed status code")
	ErrHeaderLine       = errors.New("sip/intake: malformed header line")
	ErrNoHeaderEnd      = errors.New("sip/intake: header section not terminated")
	ErrMissingHeader    = errors.New("sip/intake: missing mandatory header")
	ErrDuplicateHeader  = errors.New("sip/intake: header must appear once")
	ErrContentLength    = errors.New("sip/intake: invalid Content-Length")
	ErrBodyTruncated    = errors.New("sip/intake: body shorter than Content-Length")
	ErrCSeq             = errors.New("sip/intake: invalid CSeq")
	ErrCSeqMethod       = errors.New("sip/intake: CSeq method does not match request method")
	ErrMaxForwards      = errors.New("sip/intake: invalid Max-Forwards")
	ErrTooManyHops      = errors.New("sip/intake: Max-Forwards reached zero")
	ErrVia              = errors.New("sip/intake: malformed Via")
	ErrCallID           = errors.New("sip/intake: invalid Call-ID")
	ErrAddress          = errors.New("sip/intake: malformed address header")
	ErrUnsupportedExt   = errors.New("sip/intake: unsupported extension required")
	ErrUnsupportedMedia = errors.New("sip/intake: unsupported media type")
	ErrFraming          = errors.New("sip/intake: stream framing error")
)

// Error is a verdict against a message. Status is the response to send
// statelessly, or 0 when the message must be dropped without an answer.
// Callers branch on Status (and, when they need to, on the sentinel with
// errors.Is).
type Error struct {
	// Status is the SIP status code to answer with; 0 means drop silently.
	Status int
	// Reason is the reason phrase of the response.
	Reason string
	// Headers are extra header lines for the response ("Unsupported: foo").
	Headers []string
	// Err is the sentinel that says what is wrong.
	Err error
}

func (e *Error) Error() string {
	s := e.Err.Error()
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	if e.Status != 0 {
		s += " (" + strconv.Itoa(e.Status) + ")"
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

func reject(status int, reason string, err error) *Error {
	return &Error{Status: status, Reason: reason, Err: err}
}

func drop(reason string, err error) *Error {
	return &Error{Reason: reason, Err: err}
}
