package netpoll

import (
	"errors"
	"net/netip"
	"runtime"
	"time"
)

// Errors.
var (
	// ErrUnsupported is returned by New where there is no epoll.
	ErrUnsupported = errors.New("media/netpoll: not supported on " + runtime.GOOS)
	// ErrClosed is returned after Close (of the poller or of the socket).
	ErrClosed = errors.New("media/netpoll: closed")
	// ErrWatched is returned by Watch on a socket already watched.
	ErrWatched = errors.New("media/netpoll: socket already watched")
)

// DefaultBatch is how long a shard lets packets gather after a round of
// reads before it looks again.
const DefaultBatch = time.Millisecond

// Config tunes a Poller. Zero values mean the defaults.
type Config struct {
	// Shards is the number of reading goroutines (GOMAXPROCS).
	Shards int
	// Batch is how long a shard waits after a round of reads before the
	// next (DefaultBatch); negative means no wait (one wake-up per packet
	// at low rates, the least latency).
	Batch time.Duration
}

// ReadFunc receives one datagram: its bytes (only valid during the call),
// its source and the time the kernel received it.
type ReadFunc func(b []byte, from netip.AddrPort, at time.Time)
