package rtpsession

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/media/clock"
	"github.com/voxrun/voxrun/media/g711"
	"github.com/voxrun/voxrun/media/mediatest"
	"github.com/voxrun/voxrun/media/netpoll"
	"github.com/voxrun/voxrun/media/ports"
)

// The same behaviour with the sockets read by a netpoll.Poller's shards
// instead of a goroutine per socket.

func newPoller(t *testing.T, cfg netpoll.Config) *netpoll.Poller {
	t.Helper()
	p, err := netpoll.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, p.Close()) })
	return p
}

func newPollerSession(t *testing.T, p *netpoll.Poller, cfg Config) (*Session, *mediatest.ManualClock) {
	t.Helper()
	sock, err := p.Listen(netip.AddrPortFrom(loopback, 0))
	require.NoError(t, err)
	clk := mediatest.NewManualClock(time.Unix(1000, 0))
	cfg.Socket, cfg.Clock = sock, clk
	s, err := New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s, clk
}

// TestPollerLegsOnTheSharedClock: two legs from an allocator with a poller,
// RTCP on its own ports, on the real clock: audio and reports flow both
// ways, and closing leaves no port, ticker or goroutine behind.
func TestPollerLegsOnTheSharedClock(t *testing.T) {
	clk := clock.New(clock.Config{Shards: 2})
	defer clk.Close()
	p := newPoller(t, netpoll.Config{Shards: 2})
	alloc, err := ports.New(ports.Config{Min: 45000 + 2*int(time.Now().UnixNano()%1000), Max: 47999, Poller: p})
	require.NoError(t, err)
	ctx := context.Background()
	la, err := alloc.Listen(ctx, loopback, true)
	require.NoError(t, err)
	lb, err := alloc.Listen(ctx, loopback, true)
	require.NoError(t, err)
	require.Nil(t, la.RTP)
	require.NotNil(t, la.Socket)
	require.NotNil(t, la.RTCPSocket)

	cfg := func(own, peer *ports.Lease) Config {
		return Config{Socket: own.Socket, RTCPSocket: own.RTCPSocket, Closer: own, Clock: clk, Codec: g711.PCMA,
			Remote: netip.AddrPortFrom(loopback, uint16(peer.Port)), RTCPInterval: 100 * time.Millisecond}
	}
	a, err := New(cfg(la, lb))
	require.NoError(t, err)
	b, err := New(cfg(lb, la))
	require.NoError(t, err)
	require.Equal(t, netip.AddrPortFrom(loopback, uint16(la.Port)), a.LocalAddr())
	talkBothWays(t, a, b, alloc, clk, func() bool { return a.Stats().RTCPReceived > 0 && b.Stats().RTCPReceived > 0 })
}

// TestPollerSymmetricAndStrictSource: the session latches to the first
// sender and drops (and counts) packets from anyone else.
func TestPollerSymmetricAndStrictSource(t *testing.T) {
	p := newPoller(t, netpoll.Config{Shards: 1})
	s, clk := newPollerSession(t, p, Config{Codec: g711.PCMU})
	real, intruder := newPeer(t), newPeer(t)
	frames := &mediatest.Collector{}
	s.AddSink(frames)

	real.send(s.LocalAddr(), real.packet(0, make([]byte, 160)))
	waitFor(t, func() bool { return len(frames.Frames()) == 1 })
	intruder.send(s.LocalAddr(), intruder.packet(0, make([]byte, 160)))
	waitFor(t, func() bool { return s.Stats().Foreign == 1 })
	require.Len(t, frames.Frames(), 1)

	// Comfort silence goes to where the peer sends from.
	clk.Tick(1)
	pkt := real.read()
	require.Equal(t, uint8(0), pkt.PayloadType)
	require.True(t, pkt.Marker)
}

// TestPollerJitterUsesArrivalTimes: the shards read in batches (here every
// 100 ms), yet the jitter is computed from when packets arrived, not from
// when they were read.
func TestPollerJitterUsesArrivalTimes(t *testing.T) {
	p := newPoller(t, netpoll.Config{Shards: 1, Batch: 100 * time.Millisecond})
	s, _ := newPollerSession(t, p, Config{Codec: g711.PCMU})
	peer := newPeer(t)
	start := time.Now()
	for i := range 15 {
		time.Sleep(time.Until(start.Add(time.Duration(i) * 20 * time.Millisecond)))
		peer.send(s.LocalAddr(), peer.packet(0, make([]byte, 160)))
	}
	waitFor(t, func() bool { return s.Stats().PacketsReceived == 15 })
	// Read times 100 ms apart in bursts of five would give tens of ms.
	require.Less(t, s.Stats().Jitter, 8*time.Millisecond)
}

// TestPollerNoAllocationPerPacket: sending through the poller's socket
// allocates nothing either.
func TestPollerNoAllocationPerPacket(t *testing.T) {
	p := newPoller(t, netpoll.Config{Shards: 1})
	peer := newPeer(t)
	s, _ := newPollerSession(t, p, Config{Remote: peer.addr(), Codec: g711.PCMU, TelephoneEvent: 101})
	s.SetSource(&steadySource{})
	now := time.Unix(1000, 0)
	allocs := testing.AllocsPerRun(200, func() {
		now = now.Add(20 * time.Millisecond)
		s.Tick(now)
	})
	require.Zero(t, allocs, "allocations per sent packet")
	require.Equal(t, uint64(201), s.Stats().PacketsSent)
}

// TestPollerSocketClosedUnderneath: the lease is closed before the
// session; the session still closes cleanly and nothing reads a reused
// descriptor.
func TestPollerSocketClosedUnderneath(t *testing.T) {
	p := newPoller(t, netpoll.Config{Shards: 1})
	sock, err := p.Listen(netip.AddrPortFrom(loopback, 0))
	require.NoError(t, err)
	s, err := New(Config{Socket: sock, Clock: mediatest.NewManualClock(time.Now()), Codec: g711.PCMU})
	require.NoError(t, err)
	require.NoError(t, sock.Close())
	require.NoError(t, s.Close())
	_, err = New(Config{Socket: sock, Conn: newPeer(t).conn, Clock: mediatest.NewManualClock(time.Now())})
	require.ErrorIs(t, err, ErrConfig, "Conn and Socket together are refused")
}
