package ports

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"syscall"

	"github.com/voxrun/voxrun/media/netpoll"
)

// The default RTP range.
const (
	DefaultMin = 40000
	DefaultMax = 60000
)

// Config is the RTP port range. Zero values mean the defaults.
type Config struct {
	// Min is the lowest port handed out (rounded up to even).
	Min int
	// Max is the highest port that may be used, RTCP included.
	Max int
	// Poller, when set, makes Listen bind the poller's sockets (Lease's
	// Socket and RTCPSocket, read by its few shard goroutines) instead of
	// package net's (RTP and RTCP, one reader goroutine each).
	Poller *netpoll.Poller
}

// Allocator hands out even ports of a range. It is safe for concurrent use.
type Allocator struct {
	min    int
	poller *netpoll.Poller
	mu     sync.Mutex
	used   []bool // used[i] is port min+2i
	next   int    // index to try first (rotation)
	inUse  int
}

// New returns an allocator over cfg's range.
func New(cfg Config) (*Allocator, error) {
	lo, hi := cfg.Min, cfg.Max
	if lo == 0 {
		lo = DefaultMin
	}
	if hi == 0 {
		hi = DefaultMax
	}
	lo += lo & 1
	if lo < 1024 || hi > 65535 || hi < lo+1 {
		return nil, fmt.Errorf("%w: %d-%d", ErrRange, cfg.Min, cfg.Max)
	}
	// Each port p needs p+1 for RTCP, so the last usable even port is hi-1 or hi-2.
	n := (hi-lo-1)/2 + 1
	return &Allocator{min: lo, poller: cfg.Poller, used: make([]bool, n)}, nil
}

// Size is how many ports the range holds.
func (a *Allocator) Size() int { return len(a.used) }

// InUse is how many ports are handed out now.
func (a *Allocator) InUse() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.inUse
}

// Acquire hands out a free even port.
func (a *Allocator) Acquire() (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.acquireLocked()
}

func (a *Allocator) acquireLocked() (int, error) {
	n := len(a.used)
	if a.inUse == n {
		return 0, ErrExhausted
	}
	for k := range n {
		i := (a.next + k) % n
		if !a.used[i] {
			a.used[i] = true
			a.inUse++
			a.next = (i + 1) % n
			return a.min + 2*i, nil
		}
	}
	return 0, ErrExhausted // unreachable while inUse is right
}

// Release gives port back. Releasing a port that is not in use is an error
// (a double release would otherwise hand one port to two legs).
func (a *Allocator) Release(port int) error {
	i := (port - a.min) / 2
	a.mu.Lock()
	defer a.mu.Unlock()
	if port < a.min || port&1 != 0 || i >= len(a.used) || !a.used[i] {
		return fmt.Errorf("%w: %d", ErrNotInUse, port)
	}
	a.used[i] = false
	a.inUse--
	return nil
}

// Lease is a port bound for one leg: the RTP socket, and the RTCP socket on
// the next port when asked for. Close releases both and the port. The
// sockets are package net's (RTP, RTCP) or, when the allocator has a
// poller, the poller's (Socket, RTCPSocket); the others are nil.
type Lease struct {
	// Port is the RTP port; RTCP, when bound, is Port+1.
	Port int
	// RTP is the socket bound to Port.
	RTP *net.UDPConn
	// RTCP is the socket bound to Port+1, or nil.
	RTCP *net.UDPConn
	// Socket is the poller's socket bound to Port.
	Socket *netpoll.Conn
	// RTCPSocket is the poller's socket bound to Port+1, or nil.
	RTCPSocket *netpoll.Conn

	a    *Allocator
	once sync.Once
	err  error
}

// Close closes the sockets and returns the port; it is idempotent.
func (l *Lease) Close() error {
	l.once.Do(func() {
		var errs []error
		if l.RTP != nil {
			errs = append(errs, l.RTP.Close())
		}
		if l.RTCP != nil {
			errs = append(errs, l.RTCP.Close())
		}
		if l.Socket != nil {
			errs = append(errs, l.Socket.Close())
		}
		if l.RTCPSocket != nil {
			errs = append(errs, l.RTCPSocket.Close())
		}
		errs = append(errs, l.a.Release(l.Port))
		l.err = errors.Join(errs...)
	})
	return l.err
}

// Listen acquires a port and binds UDP sockets on addr: the RTP port, and
// the RTCP port after it when rtcp is true. A port the operating system
// refuses (another process has it) stays marked in use for this pass and
// the next one is tried, up to the size of the range.
func (a *Allocator) Listen(ctx context.Context, addr netip.Addr, rtcp bool) (*Lease, error) {
	var lc net.ListenConfig
	var skipped []int
	defer func() {
		for _, p := range skipped {
			_ = a.Release(p)
		}
	}()
	for range a.Size() {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("media/ports: listen: %w", err)
		}
		port, err := a.Acquire()
		if err != nil {
			return nil, err
		}
		if a.poller != nil {
			l, err := a.listenPoller(addr, port, rtcp)
			switch {
			case errors.Is(err, syscall.EADDRINUSE) || errors.Is(err, syscall.EACCES):
				skipped = append(skipped, port)
				continue
			case err != nil:
				_ = a.Release(port)
				return nil, fmt.Errorf("media/ports: %w", err)
			}
			return l, nil
		}
		rtpConn, err := listen(ctx, &lc, addr, port)
		if err != nil {
			if errors.Is(err, syscall.EADDRINUSE) || errors.Is(err, syscall.EACCES) {
				skipped = append(skipped, port)
				continue
			}
			_ = a.Release(port)
			return nil, fmt.Errorf("media/ports: listen %v:%d: %w", addr, port, err)
		}
		l := &Lease{Port: port, RTP: rtpConn, a: a}
		if rtcp {
			l.RTCP, err = listen(ctx, &lc, addr, port+1)
			if err != nil {
				_ = rtpConn.Close()
				if errors.Is(err, syscall.EADDRINUSE) || errors.Is(err, syscall.EACCES) {
					skipped = append(skipped, port)
					continue
				}
				_ = a.Release(port)
				return nil, fmt.Errorf("media/ports: listen %v:%d: %w", addr, port+1, err)
			}
		}
		return l, nil
	}
	return nil, ErrExhausted
}

// listenPoller binds the poller's sockets on port (and port+1); on failure
// the port is still the caller's.
func (a *Allocator) listenPoller(addr netip.Addr, port int, rtcp bool) (*Lease, error) {
	s, err := a.poller.Listen(netip.AddrPortFrom(addr, uint16(port)))
	if err != nil {
		return nil, err
	}
	l := &Lease{Port: port, Socket: s, a: a}
	if rtcp {
		l.RTCPSocket, err = a.poller.Listen(netip.AddrPortFrom(addr, uint16(port+1)))
		if err != nil {
			_ = s.Close()
			return nil, err
		}
	}
	return l, nil
}

func listen(ctx context.Context, lc *net.ListenConfig, addr netip.Addr, port int) (*net.UDPConn, error) {
	network := "udp4"
	if addr.Is6() && !addr.Is4In6() {
		network = "udp6"
	}
	pc, err := lc.ListenPacket(ctx, network, net.JoinHostPort(addr.Unmap().String(), strconv.Itoa(port)))
	if err != nil {
		return nil, err
	}
	return pc.(*net.UDPConn), nil
}
