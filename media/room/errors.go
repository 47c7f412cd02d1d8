package room

import "errors"

var (
	// ErrClosed means the room was closed.
	ErrClosed = errors.New("media/room: closed")
	// ErrFull means the room has reached its member limit.
	ErrFull = errors.New("media/room: full")
)
