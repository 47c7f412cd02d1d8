package ports

import "errors"

var (
	// ErrExhausted means every port of the range is in use.
	ErrExhausted = errors.New("media/ports: no free rtp port in range")
	// ErrRange means the configured range is unusable.
	ErrRange = errors.New("media/ports: invalid port range")
	// ErrNotInUse means a port was released that was not handed out.
	ErrNotInUse = errors.New("media/ports: port not in use")
)
