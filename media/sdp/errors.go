package sdp

import (
	"errors"
	"fmt"
)

var (
	// ErrMalformed means the SDP could not be parsed (SIP 400).
	ErrMalformed = errors.New("media/sdp: malformed sdp")
	// ErrNoAudio means the SDP has no audio stream over RTP/AVP (SIP 488).
	ErrNoAudio = errors.New("media/sdp: no usable audio stream")
	// ErrNoCommonCodec means the peer offers no codec voxrun speaks (SIP 488).
	ErrNoCommonCodec = errors.New("media/sdp: no common codec")
	// ErrBadAddress means the connection address is not an IP address (SIP 488).
	ErrBadAddress = errors.New("media/sdp: unusable connection address")
)

// Error is a failed negotiation. Status is the SIP response the signaling
// layer answers with; Err wraps one of the sentinels above, so callers may
// test with errors.Is or read the status with errors.As.
type Error struct {
	// Status is the SIP status code to answer with (400 or 488).
	Status int
	// Err is the cause; it wraps a sentinel of this package.
	Err error
}

func (e *Error) Error() string { return e.Err.Error() }

func (e *Error) Unwrap() error { return e.Err }

// StatusOf returns the SIP status for err: the Status of an *Error in its
// chain, or 500 when err is some other failure, or 0 when err is nil.
func StatusOf(err error) int {
	if err == nil {
		return 0
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 500
}

func malformed(err error) error {
	return &Error{Status: 400, Err: fmt.Errorf("%w: %w", ErrMalformed, err)}
}

func notAcceptable(err error) error { return &Error{Status: 488, Err: err} }
