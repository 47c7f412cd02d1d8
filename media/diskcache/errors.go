package diskcache

import "errors"

var (
	// ErrTooLarge means an entry is larger than the whole cache (or than the
	// limit its writer set); it is not stored.
	ErrTooLarge = errors.New("media/diskcache: entry too large")
	// ErrConfig means the cache directory or size bound is unusable.
	ErrConfig = errors.New("media/diskcache: bad configuration")
)
