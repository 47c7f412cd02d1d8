package rtpsession

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
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
