package rtpsession

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type released struct{ seqs []uint16 }

// The tests carry the sequence number in the timestamp to check the order.
func (r *released) release(_ uint8, ts uint32, _ []byte, _ time.Time) {
	r.seqs = append(r.seqs, uint16(ts))
}

func TestWindow(t *testing.T) {
	cases := []struct {
		name     string
		in       []uint16
		want     []uint16
		verdicts []verdict
		skipped  uint64
	}{
		{
			name: "in order",
			in:   []uint16{10, 11, 12}, want: []uint16{10, 11, 12},
			verdicts: []verdict{accepted, accepted, accepted},
		},
		{
			name: "swapped pair",
			in:   []uint16{10, 12, 11, 13}, want: []uint16{10, 11, 12, 13},
			verdicts: []verdict{accepted, accepted, accepted, accepted},
		},
		{
			name: "duplicates dropped, held or released",
			in:   []uint16{10, 10, 12, 12, 11, 11}, want: []uint16{10, 11, 12},
			verdicts: []verdict{accepted, duplicate, accepted, duplicate, accepted, duplicate},
		},
		{
			name: "too late after the window moved on",
			in:   []uint16{10, 12, 13, 14, 15, 11}, want: []uint16{10, 12, 13, 14, 15},
			verdicts: []verdict{accepted, accepted, accepted, accepted, accepted, late},
			skipped:  1,
		},
		{
			name: "wraps around 65535",
			in:   []uint16{65534, 0, 65535, 1}, want: []uint16{65534, 65535, 0, 1},
			verdicts: []verdict{accepted, accepted, accepted, accepted},
		},
		{
			name: "a jump of thousands is a restart, not loss",
			in:   []uint16{10, 11, 30000, 30001}, want: []uint16{10, 11, 30000, 30001},
			verdicts: []verdict{accepted, accepted, accepted, accepted},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWindow(4)
			r := &released{}
			now := time.Unix(0, 0)
			var got []verdict
			for _, seq := range tc.in {
				got = append(got, w.push(seq, 0, uint32(seq), []byte{1}, now, r))
			}
			require.Equal(t, tc.want, r.seqs)
			require.Equal(t, tc.verdicts, got)
			require.Equal(t, tc.skipped, w.skipped)
		})
	}
}

func TestWindowExpiry(t *testing.T) {
	w := newWindow(4)
	r := &released{}
	start := time.Unix(0, 0)
	w.push(1, 0, 1, []byte{1}, start, r)
	w.push(3, 0, 3, []byte{1}, start, r) // 2 is missing
	w.expire(start.Add(20*time.Millisecond), 60*time.Millisecond, r)
	require.Equal(t, []uint16{1}, r.seqs, "still waiting for 2")
	w.expire(start.Add(60*time.Millisecond), 60*time.Millisecond, r)
	require.Equal(t, []uint16{1, 3}, r.seqs)
	require.Equal(t, uint64(1), w.skipped)
	require.Equal(t, late, w.push(2, 0, 2, []byte{1}, start, r))
}
