package media

import "errors"

var (
	// ErrClosed means the endpoint or stage was closed; nothing more will flow.
	ErrClosed = errors.New("media: closed")
	// ErrFrameSize means a frame is not FrameSamples long.
	ErrFrameSize = errors.New("media: frame is not 160 samples")
)
