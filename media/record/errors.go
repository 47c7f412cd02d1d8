package record

import "errors"

var (
	// ErrLimit is the cause given to OnTruncated when the size or duration
	// bound was reached.
	ErrLimit = errors.New("media/record: size or duration bound reached")
	// ErrOverrun means the disk fell behind by more than a second of audio.
	ErrOverrun = errors.New("media/record: disk too slow, audio dropped")
)
