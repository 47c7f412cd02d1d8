package dtmf

import "errors"

var (
	// ErrShortPayload means a telephone-event payload is under 4 bytes.
	ErrShortPayload = errors.New("media/dtmf: telephone-event payload shorter than 4 bytes")
	// ErrUnknownKey means a key is not one of 0-9 * # A-D.
	ErrUnknownKey = errors.New("media/dtmf: not a dtmf key")
	// ErrBusy means the sender is still sending a digit.
	ErrBusy = errors.New("media/dtmf: sender busy")
)
