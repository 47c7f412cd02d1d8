package rtpsession

import "errors"

var (
	// ErrConfig means a Config is missing something it needs.
	ErrConfig = errors.New("media/rtpsession: invalid config")
	// ErrNoTelephoneEvent means a digit was to be sent but the peer did not
	// negotiate RFC 4733 telephone-event.
	ErrNoTelephoneEvent = errors.New("media/rtpsession: telephone-event not negotiated")
)
