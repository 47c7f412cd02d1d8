package rtpsession

import (
	"net"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/media/g711"
	"github.com/voxrun/voxrun/media/mediatest"
)

// TestMemoryPerLeg measures the heap and goroutine stack one session holds
// (socket aside) and keeps it under budget: DESIGN's goal is 64 KB for a
// whole call, SIP included.
func TestMemoryPerLeg(t *testing.T) {
	const n = 200
	clk := mediatest.NewManualClock(time.Unix(0, 0))
	conns := make([]*net.UDPConn, n)
	for i := range conns {
		c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 0)))
		require.NoError(t, err)
		conns[i] = c
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	sessions := make([]*Session, n)
	for i := range sessions {
		s, err := New(Config{Conn: conns[i], Clock: clk, Codec: g711.PCMU, TelephoneEvent: 101, InbandDTMF: true})
		require.NoError(t, err)
		sessions[i] = s
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	heap := (after.HeapAlloc - before.HeapAlloc) / n
	stack := (after.StackInuse - before.StackInuse) / n
	for _, s := range sessions {
		require.NoError(t, s.Close())
	}
	t.Logf("per leg: %d B heap, %d B goroutine stack, %d B total", heap, stack, heap+stack)
	require.Less(t, heap+stack, uint64(32<<10), "a leg's media stays under half the call budget")
}
