package rtpsession

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/media/g711"
)

func TestLossCounting(t *testing.T) {
	cases := []struct {
		name string
		seqs []uint16
		lost int64
	}{
		{"none", []uint16{1, 2, 3, 4}, 0},
		{"two missing", []uint16{1, 2, 5, 6}, 2},
		{"across the wrap", []uint16{65533, 65534, 1, 2}, 2},
		{"reordered is not lost", []uint16{1, 3, 2, 4}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var s recvStats
			for _, seq := range tc.seqs {
				s.update(42, seq)
			}
			require.Equal(t, tc.lost, s.lostCurrent())
		})
	}
	var s recvStats
	s.update(1, 10)
	s.update(1, 13) // 2 lost
	s.update(2, 500)
	s.update(2, 502) // 1 lost under the new SSRC
	require.Equal(t, int64(3), s.lostPrev+s.lostCurrent())
}

func TestJitter(t *testing.T) {
	cases := []struct {
		name    string
		arrival func(i int) int64 // timestamp units
		lo, hi  time.Duration
	}{
		{"perfectly paced", func(i int) int64 { return int64(i) * 160 }, 0, 0},
		{"constant offset", func(i int) int64 { return int64(i)*160 + 5000 }, 0, 0},
		// Every other packet 10 ms (80 units) late: |D| = 80 each time, so
		// J converges to 80 units = 10 ms.
		{"alternating 10 ms", func(i int) int64 { return int64(i)*160 + int64(i%2)*80 }, 9 * time.Millisecond, 10 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var s recvStats
			ts := uint32(0xFFFFF000) // wraps during the run
			for i := range 500 {
				s.transit(ts, tc.arrival(i))
				ts += 160
			}
			j := s.jitterDuration(8000)
			require.GreaterOrEqual(t, j, tc.lo)
			require.LessOrEqual(t, j, tc.hi)
		})
	}
}

// TestStatsForTheCDR: the figures a call's CDR takes from its leg — packets
// and payload octets both ways, loss, the current and the highest jitter —
// come out of Stats, and stay there after Close.
func TestStatsForTheCDR(t *testing.T) {
	p := newPeer(t)
	f := newSession(t, Config{Remote: p.addr(), Codec: g711.PCMU})
	from := p.addr()
	now := time.Unix(2000, 0)
	arrive := func(delay time.Duration) {
		f.s.handlePacket(p.packet(0, make([]byte, 160)), from, now.Add(delay))
		now = now.Add(20 * time.Millisecond)
	}
	for range 5 {
		arrive(0)
	}
	arrive(15 * time.Millisecond) // one late burst raises the jitter
	for range 20 {
		arrive(0) // then it decays
	}
	dup := p.packet(0, make([]byte, 80))
	f.s.handlePacket(dup, from, now)
	f.s.handlePacket(dup, from, now) // a duplicate: neither a packet nor octets
	now = now.Add(20 * time.Millisecond)
	p.seq++ // one lost, in its time
	p.ts += 160
	now = now.Add(20 * time.Millisecond)
	arrive(0)
	for range 3 {
		f.clock.Tick(1)
	}
	require.NoError(t, f.s.Close())

	st := f.s.Stats()
	require.Equal(t, uint64(28), st.PacketsReceived)
	require.Equal(t, uint64(27*160+80), st.OctetsReceived)
	require.Equal(t, uint64(1), st.Duplicates)
	require.Equal(t, int64(1), st.PacketsLost)
	require.Equal(t, uint64(3), st.PacketsSent)
	require.Equal(t, uint64(3*160), st.OctetsSent)
	require.Greater(t, st.MaxJitter, st.Jitter, "the jitter decayed from its peak")
	// RFC 3550 A.8: the late packet's transit is 120 units (15 ms) up, the
	// next one's 120 down: J = 120/16, then J + (120 − J)/16 = 14 units.
	require.Equal(t, 14*time.Second/8000, st.MaxJitter)
	require.Greater(t, st.MOS(), 4.0)
}
