package resample

import "errors"

// ErrRate means a sample rate is not positive or the ratio is unreasonable.
var ErrRate = errors.New("media/resample: unsupported sample rates")
