package media

import (
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestFrameSamples(t *testing.T) {
	require.Equal(t, 160, FrameSamples)
	require.Len(t, NewFrame(), FrameSamples)
}

func TestFill(t *testing.T) {
	cases := []struct {
		name   string
		n      int
		frames int
	}{
		{"empty", 0, 0},
		{"one partial frame", 100, 1},
		{"exactly two frames", 320, 2},
		{"two and a bit", 321, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			samples := make([]int16, tc.n)
			for i := range samples {
				samples[i] = int16(i + 1)
			}
			src := Fill(samples)
			frame := NewFrame()
			got := 0
			var all []int16
			for {
				for i := range frame {
					frame[i] = -1 // dirty buffer: the source must overwrite it
				}
				err := src.ReadFrame(frame)
				if err == io.EOF {
					break
				}
				require.NoError(t, err)
				got++
				all = append(all, frame...)
			}
			require.Equal(t, tc.frames, got)
			require.Len(t, all, tc.frames*FrameSamples)
			for i, s := range samples {
				require.Equal(t, s, all[i])
			}
			for _, s := range all[tc.n:] {
				require.Zero(t, s, "padding is silence")
			}
		})
	}
}

func TestSilenceAndAdapters(t *testing.T) {
	frame := NewFrame()
	frame[3] = 42
	require.NoError(t, Silence().ReadFrame(frame))
	require.Equal(t, NewFrame(), frame)

	var got []int16
	sink := SinkFunc(func(f []int16) error { got = append(got, f[0]); return nil })
	frame[0] = 7
	require.NoError(t, sink.WriteFrame(frame))
	require.Equal(t, []int16{7}, got)

	var d Digit
	DigitSinkFunc(func(x Digit) { d = x }).Digit(Digit{Key: '5', Origin: DigitVirtual})
	require.Equal(t, byte('5'), d.Key)
}

func TestMOS(t *testing.T) {
	cases := []struct {
		name   string
		stats  Stats
		lo, hi float64
	}{
		{"perfect", Stats{PacketsReceived: 1000}, 4.3, 4.5},
		{"1% loss", Stats{PacketsReceived: 990, PacketsLost: 10}, 4.2, 4.4},
		{"5% loss, 40 ms jitter", Stats{PacketsReceived: 950, PacketsLost: 50, Jitter: 40 * time.Millisecond}, 3.5, 4.0},
		{"20% loss, 400 ms RTT", Stats{PacketsReceived: 800, PacketsLost: 200, RTT: 400 * time.Millisecond}, 1, 2.2},
		{"nothing received", Stats{}, 4.3, 4.5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.stats.MOS()
			require.GreaterOrEqual(t, m, tc.lo, "MOS %.2f", m)
			require.LessOrEqual(t, m, tc.hi, "MOS %.2f", m)
		})
	}
}
