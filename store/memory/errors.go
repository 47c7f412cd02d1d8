package memory

import "errors"

// ErrClosed is returned by every operation on a store after Close.
var ErrClosed = errors.New("store/memory: closed")

// errWrongType means a key holds another kind of value than the operation
// expects (a Values key named like a call hash, say), as Redis's WRONGTYPE.
var errWrongType = errors.New("store/memory: key holds another kind of value")
