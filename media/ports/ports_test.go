package ports

import (
	"context"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/media/netpoll"
)

func TestNewRange(t *testing.T) {
	cases := []struct {
		name     string
		cfg      Config
		size     int
		first    int
		wantFail bool
	}{
		{"defaults", Config{}, 10000, 40000, false},
		{"odd minimum rounds up", Config{Min: 30001, Max: 30010}, 4, 30002, false},
		{"room for RTCP at the top", Config{Min: 30000, Max: 30001}, 1, 30000, false},
		{"too small", Config{Min: 30000, Max: 30000}, 0, 0, true},
		{"privileged", Config{Min: 80, Max: 100}, 0, 0, true},
		{"beyond 65535", Config{Min: 65000, Max: 70000}, 0, 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, err := New(tc.cfg)
			if tc.wantFail {
				require.ErrorIs(t, err, ErrRange)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.size, a.Size())
			p, err := a.Acquire()
			require.NoError(t, err)
			require.Equal(t, tc.first, p)
		})
	}
}

func TestExhaustionAndRotation(t *testing.T) {
	a, err := New(Config{Min: 30000, Max: 30009})
	require.NoError(t, err)
	var got []int
	for range a.Size() {
		p, err := a.Acquire()
		require.NoError(t, err)
		got = append(got, p)
	}
	require.Equal(t, []int{30000, 30002, 30004, 30006, 30008}, got)
	_, err = a.Acquire()
	require.ErrorIs(t, err, ErrExhausted)

	require.NoError(t, a.Release(30002))
	require.NoError(t, a.Release(30006))
	p, err := a.Acquire()
	require.NoError(t, err)
	require.Equal(t, 30002, p, "the rotation wraps to the oldest free port")

	cases := []struct {
		name string
		port int
	}{
		{"odd", 30003},
		{"below range", 29998},
		{"above range", 30010},
		{"released twice", 30006},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.ErrorIs(t, a.Release(tc.port), ErrNotInUse)
		})
	}
}

// TestThousandsOfCallsLeakNothing runs many interleaved acquire/release
// cycles from several goroutines: no port is held twice, and at the end every
// port is free again.
func TestThousandsOfCallsLeakNothing(t *testing.T) {
	a, err := New(Config{Min: 40000, Max: 40199})
	require.NoError(t, err)
	var (
		mu    sync.Mutex
		inUse = map[int]bool{}
		wg    sync.WaitGroup
	)
	release := func(p int) {
		mu.Lock()
		delete(inUse, p)
		mu.Unlock()
		if err := a.Release(p); err != nil {
			t.Error(err)
		}
	}
	for w := range 4 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			var mine []int
			for range 5000 {
				if len(mine) > 0 && (rng.IntN(2) == 0 || len(mine) > 20) {
					i := rng.IntN(len(mine))
					release(mine[i])
					mine = append(mine[:i], mine[i+1:]...)
					continue
				}
				p, err := a.Acquire()
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if inUse[p] {
					t.Errorf("port %d handed out twice", p)
				}
				inUse[p] = true
				mu.Unlock()
				mine = append(mine, p)
			}
			for _, p := range mine {
				release(p)
			}
		})
	}
	wg.Wait()
	require.Zero(t, a.InUse())
	// Every port can be handed out again.
	for range a.Size() {
		_, err := a.Acquire()
		require.NoError(t, err)
	}
}

func TestListenBindsEvenPortsAndSkipsTakenOnes(t *testing.T) {
	ctx := context.Background()
	lo := 20000 + 2*rand.IntN(10000)
	a, err := New(Config{Min: lo, Max: lo + 9})
	require.NoError(t, err)

	// Someone else holds the first port of the range.
	squatter, err := net.ListenPacket("udp4", "127.0.0.1:"+strconv.Itoa(lo))
	require.NoError(t, err)
	defer squatter.Close()

	l, err := a.Listen(ctx, netip.MustParseAddr("127.0.0.1"), true)
	require.NoError(t, err)
	require.Equal(t, lo+2, l.Port)
	require.Equal(t, lo+2, l.RTP.LocalAddr().(*net.UDPAddr).Port)
	require.Equal(t, lo+3, l.RTCP.LocalAddr().(*net.UDPAddr).Port)
	require.Equal(t, 1, a.InUse(), "the refused port is not kept")

	require.NoError(t, l.Close())
	require.NoError(t, l.Close(), "Close is idempotent")
	require.Zero(t, a.InUse())

	// Thousands of leases: sockets and ports all come back.
	for range 2000 {
		l, err := a.Listen(ctx, netip.MustParseAddr("127.0.0.1"), false)
		require.NoError(t, err)
		require.Nil(t, l.RTCP)
		require.NoError(t, l.Close())
	}
	require.Zero(t, a.InUse())

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = a.Listen(cancelled, netip.MustParseAddr("127.0.0.1"), false)
	require.ErrorIs(t, err, context.Canceled)
	require.Zero(t, a.InUse())
}

// TestListenWithAPollerSkipsTakenPortsAndReleasesAll: with a poller the
// lease holds the poller's sockets (package net's stay nil), a port in use
// elsewhere is skipped as before, and thousands of leases give back every
// port and descriptor.
func TestListenWithAPollerSkipsTakenPortsAndReleasesAll(t *testing.T) {
	ctx := context.Background()
	p, err := netpoll.New(netpoll.Config{Shards: 1})
	require.NoError(t, err)
	defer p.Close()
	lo := 20000 + 2*rand.IntN(10000)
	a, err := New(Config{Min: lo, Max: lo + 9, Poller: p})
	require.NoError(t, err)
	squatter, err := net.ListenPacket("udp4", "127.0.0.1:"+strconv.Itoa(lo+1)) // the first pair's RTCP
	require.NoError(t, err)
	defer squatter.Close()

	l, err := a.Listen(ctx, netip.MustParseAddr("127.0.0.1"), true)
	require.NoError(t, err)
	require.Equal(t, lo+2, l.Port)
	require.Nil(t, l.RTP)
	require.Nil(t, l.RTCP)
	require.Equal(t, uint16(lo+2), l.Socket.LocalAddr().Port())
	require.Equal(t, uint16(lo+3), l.RTCPSocket.LocalAddr().Port())
	require.Equal(t, 1, a.InUse())
	require.NoError(t, l.Close())
	require.Zero(t, a.InUse())

	fds := func() int {
		entries, err := os.ReadDir("/proc/self/fd")
		require.NoError(t, err)
		return len(entries)
	}
	before := fds()
	for range 2000 {
		l, err := a.Listen(ctx, netip.MustParseAddr("127.0.0.1"), true)
		require.NoError(t, err)
		require.NoError(t, l.Close())
	}
	require.Zero(t, a.InUse())
	require.LessOrEqual(t, fds(), before, "no descriptor left open")
}
