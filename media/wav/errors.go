package wav

import "errors"

var (
	// ErrNotWAV means the stream is not RIFF/WAVE, or its header is broken.
	ErrNotWAV = errors.New("media/wav: not a wav stream")
	// ErrUnsupported means a WAV encoding or layout this package cannot read.
	ErrUnsupported = errors.New("media/wav: unsupported wav encoding")
)
