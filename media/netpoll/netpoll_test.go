package netpoll

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var loopback = netip.MustParseAddr("127.0.0.1")

func newPoller(t *testing.T, cfg Config) *Poller {
	t.Helper()
	p, err := New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, p.Close()) })
	return p
}

func listen(t *testing.T, p *Poller, addr netip.Addr) *Conn {
	t.Helper()
	c, err := p.Listen(netip.AddrPortFrom(addr, 0))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, c.Close()) })
	return c
}

type datagram struct {
	b    string
	from netip.AddrPort
	at   time.Time
}

// collect watches c and returns what it received so far.
func collect(t *testing.T, c *Conn) (got func() []datagram, stop func()) {
	t.Helper()
	var mu sync.Mutex
	var all []datagram
	stop, err := c.Watch(func(b []byte, from netip.AddrPort, at time.Time) {
		mu.Lock()
		all = append(all, datagram{string(b), from, at})
		mu.Unlock()
	})
	require.NoError(t, err)
	t.Cleanup(stop)
	return func() []datagram {
		mu.Lock()
		defer mu.Unlock()
		return append([]datagram(nil), all...)
	}, stop
}

// TestExchange: two poller sockets and a package net socket talk to each
// other both ways; sources, contents and kernel arrival times are right.
func TestExchange(t *testing.T) {
	p := newPoller(t, Config{Shards: 2})
	a, b := listen(t, p, loopback), listen(t, p, loopback)
	require.NotZero(t, a.LocalAddr().Port())
	gotA, _ := collect(t, a)
	gotB, _ := collect(t, b)
	plain, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 0)))
	require.NoError(t, err)
	defer plain.Close()

	before := time.Now()
	_, err = a.WriteTo([]byte("a to b"), b.LocalAddr())
	require.NoError(t, err)
	_, err = plain.WriteToUDPAddrPort([]byte("plain to a"), a.LocalAddr())
	require.NoError(t, err)
	_, err = b.WriteTo([]byte("b to plain"), plain.LocalAddr().(*net.UDPAddr).AddrPort())
	require.NoError(t, err)

	require.Eventually(t, func() bool { return len(gotA()) == 1 && len(gotB()) == 1 }, 2*time.Second, time.Millisecond)
	require.Equal(t, "a to b", gotB()[0].b)
	require.Equal(t, a.LocalAddr(), gotB()[0].from)
	require.Equal(t, "plain to a", gotA()[0].b)
	require.Equal(t, plain.LocalAddr().(*net.UDPAddr).AddrPort(), gotA()[0].from)
	at := gotB()[0].at
	require.False(t, at.Before(before.Add(-time.Millisecond)), "arrival time %v is the kernel's, after the send at %v", at, before)
	require.WithinDuration(t, before, at, time.Second)

	buf := make([]byte, 64)
	require.NoError(t, plain.SetReadDeadline(time.Now().Add(2*time.Second)))
	n, from, err := plain.ReadFromUDPAddrPort(buf)
	require.NoError(t, err)
	require.Equal(t, "b to plain", string(buf[:n]))
	require.Equal(t, b.LocalAddr(), netip.AddrPortFrom(from.Addr().Unmap(), from.Port()))
}

// TestArrivalTimesSurviveBatching: with a long batch wait the shard reads
// packets late, in one round, but each keeps the time it arrived.
func TestArrivalTimesSurviveBatching(t *testing.T) {
	p := newPoller(t, Config{Shards: 1, Batch: 150 * time.Millisecond})
	a, b := listen(t, p, loopback), listen(t, p, loopback)
	// A first packet puts the shard to sleep for the batch time.
	got, _ := collect(t, b)
	_, err := a.WriteTo([]byte("wake"), b.LocalAddr())
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(got()) == 1 }, 2*time.Second, time.Millisecond)
	c := listen(t, p, loopback)
	gotC, _ := collect(t, c)
	sent := make([]time.Time, 3)
	for i := range sent {
		sent[i] = time.Now()
		_, err := a.WriteTo([]byte{byte(i)}, c.LocalAddr())
		require.NoError(t, err)
		time.Sleep(30 * time.Millisecond)
	}
	require.Eventually(t, func() bool { return len(gotC()) == 3 }, 2*time.Second, time.Millisecond)
	for i, d := range gotC() {
		require.WithinDuration(t, sent[i], d.at, 15*time.Millisecond, "packet %d", i)
	}
}

// TestStopEndsCallsAtOnce: once stop returns, read is never called again,
// even with packets still arriving; the socket can be watched again.
func TestStopEndsCallsAtOnce(t *testing.T) {
	p := newPoller(t, Config{Shards: 1, Batch: -1})
	a, b := listen(t, p, loopback), listen(t, p, loopback)
	var calls atomic.Int64
	var stopped atomic.Bool
	stop, err := b.Watch(func([]byte, netip.AddrPort, time.Time) {
		require.False(t, stopped.Load(), "read called after stop returned")
		calls.Add(1)
	})
	require.NoError(t, err)
	_, err = b.Watch(func([]byte, netip.AddrPort, time.Time) {})
	require.ErrorIs(t, err, ErrWatched)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			time.Sleep(50 * time.Microsecond)
			if _, err := a.WriteTo([]byte("x"), b.LocalAddr()); err != nil || i > 600 {
				return
			}
			if i == 200 {
				stop()
				stopped.Store(true)
				stop() // idempotent
			}
		}
	}()
	<-done
	require.Greater(t, calls.Load(), int64(0))
	// Watched again, it reads what is queued (as much as the socket's
	// buffer kept) and what comes next.
	got, _ := collect(t, b)
	require.Eventually(t, func() bool { return len(got()) > 0 }, 2*time.Second, time.Millisecond)
	require.Eventually(t, func() bool {
		_, err = a.WriteTo([]byte("again"), b.LocalAddr())
		require.NoError(t, err)
		g := got()
		return g[len(g)-1].b == "again"
	}, 2*time.Second, 10*time.Millisecond)
}

// TestClosedUnderneath: a socket closed while watched is no longer read
// (its descriptor number, reused by the next socket, is not confused with
// it), writes fail, and stop still works.
func TestClosedUnderneath(t *testing.T) {
	p := newPoller(t, Config{Shards: 1})
	a := listen(t, p, loopback)
	b, err := p.Listen(netip.AddrPortFrom(loopback, 0))
	require.NoError(t, err)
	gotB, stopB := collect(t, b)
	require.NoError(t, b.Close())
	require.NoError(t, b.Close(), "Close is idempotent")
	_, err = b.WriteTo([]byte("x"), a.LocalAddr())
	require.ErrorIs(t, err, ErrClosed)
	_, err = b.Watch(func([]byte, netip.AddrPort, time.Time) {})
	require.ErrorIs(t, err, ErrClosed)

	c := listen(t, p, loopback) // likely reuses b's descriptor number
	gotC, _ := collect(t, c)
	_, err = a.WriteTo([]byte("to c"), c.LocalAddr())
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(gotC()) == 1 }, 2*time.Second, time.Millisecond)
	stopB()
	require.Empty(t, gotB())
	_, err = a.WriteTo([]byte("to c again"), c.LocalAddr())
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(gotC()) == 2 }, 2*time.Second, time.Millisecond)
}

// TestAddressInUse: a port taken by another socket is EADDRINUSE, which
// media/ports skips over.
func TestAddressInUse(t *testing.T) {
	p := newPoller(t, Config{Shards: 1})
	a := listen(t, p, loopback)
	_, err := p.Listen(a.LocalAddr())
	require.True(t, errors.Is(err, syscall.EADDRINUSE), "%v", err)
}

// TestIPv6: a poller socket on ::1 sends and receives; an IPv4 socket
// refuses an IPv6 destination instead of misaddressing it.
func TestIPv6(t *testing.T) {
	p := newPoller(t, Config{Shards: 1})
	v6 := netip.MustParseAddr("::1")
	a, err := p.Listen(netip.AddrPortFrom(v6, 0))
	if err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	}
	defer a.Close()
	b := listen(t, p, v6)
	got, _ := collect(t, b)
	_, err = a.WriteTo([]byte("six"), b.LocalAddr())
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(got()) == 1 }, 2*time.Second, time.Millisecond)
	require.Equal(t, a.LocalAddr(), got()[0].from)

	c := listen(t, p, loopback)
	_, err = c.WriteTo([]byte("x"), b.LocalAddr())
	require.ErrorIs(t, err, syscall.EAFNOSUPPORT)
}

// TestPollerClose: Close ends the shards (goleak checks); sockets stay
// usable for writing, Watch and Listen refuse.
func TestPollerClose(t *testing.T) {
	p, err := New(Config{Shards: 3})
	require.NoError(t, err)
	a, err := p.Listen(netip.AddrPortFrom(loopback, 0))
	require.NoError(t, err)
	defer a.Close()
	stop, err := a.Watch(func([]byte, netip.AddrPort, time.Time) {})
	require.NoError(t, err)
	require.NoError(t, p.Close())
	require.NoError(t, p.Close())
	stop()
	_, err = a.Watch(func([]byte, netip.AddrPort, time.Time) {})
	require.ErrorIs(t, err, ErrClosed)
	_, err = p.Listen(netip.AddrPortFrom(loopback, 0))
	require.ErrorIs(t, err, ErrClosed)
	_, err = a.WriteTo([]byte("x"), a.LocalAddr())
	require.NoError(t, err)
}

// TestChurn: sockets are watched, fed, stopped and closed from many
// goroutines at once (run with -race).
func TestChurn(t *testing.T) {
	p := newPoller(t, Config{Shards: 2})
	src := listen(t, p, loopback)
	var wg sync.WaitGroup
	var received atomic.Int64
	for range 8 {
		wg.Go(func() {
			for range 25 {
				c, err := p.Listen(netip.AddrPortFrom(loopback, 0))
				if !assertNoError(t, err) {
					return
				}
				stop, err := c.Watch(func([]byte, netip.AddrPort, time.Time) { received.Add(1) })
				if !assertNoError(t, err) {
					return
				}
				for range 5 {
					_, _ = src.WriteTo([]byte("x"), c.LocalAddr())
				}
				time.Sleep(2 * time.Millisecond)
				stop()
				_ = c.Close()
			}
		})
	}
	wg.Wait()
	require.Greater(t, received.Load(), int64(0))
}

func assertNoError(t *testing.T, err error) bool {
	if err != nil {
		t.Error(err)
		return false
	}
	return true
}

// TestNoAllocation: sending and receiving a datagram allocate nothing.
func TestNoAllocation(t *testing.T) {
	p := newPoller(t, Config{Shards: 1, Batch: -1})
	a, b := listen(t, p, loopback), listen(t, p, loopback)
	var n atomic.Int64
	_, err := b.Watch(func([]byte, netip.AddrPort, time.Time) { n.Add(1) })
	require.NoError(t, err)
	msg := make([]byte, 172)
	dst := b.LocalAddr()
	allocs := testing.AllocsPerRun(500, func() {
		_, _ = a.WriteTo(msg, dst)
	})
	require.Zero(t, allocs, "allocations per send")
	// A burst overflows the socket's buffer: some arrive, not all.
	require.Eventually(t, func() bool { return n.Load() >= 50 }, 2*time.Second, time.Millisecond)

	// The shard's read path, driven directly.
	s := b.shard
	_, err = a.WriteTo(msg, dst)
	require.NoError(t, err)
	time.Sleep(10 * time.Millisecond)
	allocs = testing.AllocsPerRun(100, func() {
		s.mu.Lock()
		_, _, _, _ = s.recv(b) // EAGAIN once drained: the empty path too
		s.mu.Unlock()
	})
	require.Zero(t, allocs, "allocations per receive")
}
