package clock

import "errors"

// ErrClosed means the clock was closed; Register returns it.
var ErrClosed = errors.New("media/clock: closed")
