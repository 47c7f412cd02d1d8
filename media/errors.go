package media

import "errors"

// ErrClosed means the endpoint or stage was closed; nothing more will flow.
var ErrClosed = errors.New("media: closed")
