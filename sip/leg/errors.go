package leg

import (
	"errors"
	"fmt"
)

var (
	// ErrConfig wraps every configuration error of NewAgent.
	ErrConfig = errors.New("sip/leg: invalid configuration")
	// ErrEnded is returned by operations on a leg whose call is over.
	ErrEnded = errors.New("sip/leg: leg ended")
	// ErrAnswered is returned by Ring, Progress and Reject once the call is
	// answered.
	ErrAnswered = errors.New("sip/leg: call already answered")
	// ErrNoEarlyMedia is returned by Progress on a call whose INVITE had no
	// SDP offer: the offer would have to go in a reliable 183 (RFC 3262).
	ErrNoEarlyMedia = errors.New("sip/leg: no early media without the caller's offer")
	// ErrHeader means a custom header has a name that is not a SIP token, or
	// names a header the dialog layer owns (Via, From, To, Call-ID, ...).
	ErrHeader = errors.New("sip/leg: header not allowed")
	// ErrStatus means a status code is out of range for what was asked.
	ErrStatus = errors.New("sip/leg: status out of range")
	// ErrNoAnswer is wrapped by the *StatusError of a dial cancelled
	// because its DialRequest.Timeout passed before an answer.
	ErrNoAnswer = errors.New("sip/leg: no answer before the dial timeout")
	// ErrClosed is returned by Accept and Dial on a closed Agent.
	ErrClosed = errors.New("sip/leg: agent closed")
)

// StatusError is a SIP final status that ended a request: the status the
// leg answered an INVITE with (488 when no codec matches, 400 for malformed
// SDP, 503 when no RTP port is free), or the final response a request the
// leg sent received. Callers branch on Status with errors.As.
type StatusError struct {
	// Status is the SIP status code.
	Status int
	// Reason is the reason phrase.
	Reason string
	// Err is the cause, when there is one.
	Err error
}

func (e *StatusError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("sip/leg: %d %s: %v", e.Status, e.Reason, e.Err)
	}
	return fmt.Sprintf("sip/leg: %d %s", e.Status, e.Reason)
}

func (e *StatusError) Unwrap() error { return e.Err }

// StatusOf returns the SIP status of the *StatusError in err's chain, or 0.
func StatusOf(err error) int {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Status
	}
	return 0
}
