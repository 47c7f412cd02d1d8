package resample

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func sine(rate int, freq, amp float64, seconds float64) []int16 {
	out := make([]int16, int(float64(rate)*seconds))
	for i := range out {
		out[i] = int16(amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
	}
	return out
}

func rms(x []int16) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s / float64(len(x)))
}

// gainDB resamples a sine and returns the output level relative to the
// input, in dB, measured away from the start and end transients.
func gainDB(t *testing.T, in, out int, freq float64) float64 {
	t.Helper()
	r, err := New(in, out)
	require.NoError(t, err)
	x := sine(in, freq, 10000, 1)
	y := r.Flush(r.Append(nil, x))
	require.InDelta(t, len(x)*out/in, len(y), float64(out)/100+2, "length follows the ratio")
	mid := y[len(y)/4 : 3*len(y)/4]
	// Silence after rounding counts as the rounding noise floor (-100 dB).
	return 20 * math.Log10(max(rms(mid), 0.07)/(10000/math.Sqrt2))
}

// TestFrequencyResponse checks the voice band is flat and everything that
// would alias into it is gone, for each rate a prompt may come in.
func TestFrequencyResponse(t *testing.T) {
	cases := []struct {
		name    string
		in, out int
		freq    float64
		lo, hi  float64 // dB
	}{
		{"48k passes 300 Hz", 48000, 8000, 300, -0.2, 0.2},
		{"48k passes 1 kHz", 48000, 8000, 1000, -0.2, 0.2},
		{"48k passes 3 kHz", 48000, 8000, 3000, -0.5, 0.2},
		{"48k passes 3.4 kHz (-3 dB at most)", 48000, 8000, 3400, -3.5, 0.2},
		{"48k stops 4.5 kHz (would alias to 3.5 kHz)", 48000, 8000, 4500, -200, -60},
		{"48k stops 7 kHz (would alias to 1 kHz)", 48000, 8000, 7000, -200, -70},
		{"48k stops 15 kHz", 48000, 8000, 15000, -200, -70},
		{"44.1k passes 1 kHz", 44100, 8000, 1000, -0.2, 0.2},
		{"44.1k stops 6 kHz", 44100, 8000, 6000, -200, -70},
		{"22.05k passes 2 kHz", 22050, 8000, 2000, -0.2, 0.2},
		{"22.05k stops 9 kHz", 22050, 8000, 9000, -200, -70},
		{"16k passes 1 kHz", 16000, 8000, 1000, -0.2, 0.2},
		{"16k stops 5 kHz (would alias to 3 kHz)", 16000, 8000, 5000, -200, -60},
		{"8k to 16k passes 1 kHz", 8000, 16000, 1000, -0.2, 0.2},
		{"8k identity", 8000, 8000, 1000, -0.2, 0.2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := gainDB(t, tc.in, tc.out, tc.freq)
			require.GreaterOrEqual(t, g, tc.lo, "gain %.2f dB", g)
			require.LessOrEqual(t, g, tc.hi, "gain %.2f dB", g)
		})
	}
}

// TestNaiveDecimationAliases documents why: keeping every 6th sample of a
// 7 kHz tone at 48 kHz yields a loud 1 kHz tone; the filter removes it.
func TestNaiveDecimationAliases(t *testing.T) {
	x := sine(48000, 7000, 10000, 0.5)
	naive := make([]int16, 0, len(x)/6)
	for i := 0; i < len(x); i += 6 {
		naive = append(naive, x[i])
	}
	require.Greater(t, rms(naive), 5000.0)
	require.Less(t, gainDB(t, 48000, 8000, 7000), -70.0)
}

func TestStreamingEqualsOneShot(t *testing.T) {
	x := sine(44100, 440, 12000, 0.5)
	one, err := New(44100, 8000)
	require.NoError(t, err)
	whole := one.Flush(one.Append(nil, x))

	chunked, err := New(44100, 8000)
	require.NoError(t, err)
	var parts []int16
	for i := 0; i < len(x); i += 441 + i%7 { // uneven chunks
		parts = chunked.Append(parts, x[i:min(len(x), i+441+i%7)])
	}
	parts = chunked.Flush(parts)
	require.Equal(t, whole, parts)
}

func TestDelayIsCentred(t *testing.T) {
	// A click at input sample 4800 (0.1 s) comes out at 0.1 s.
	x := make([]int16, 48000)
	x[4800] = 30000
	r, err := New(48000, 8000)
	require.NoError(t, err)
	y := r.Flush(r.Append(nil, x))
	peak := 0
	for i := range y {
		if abs(y[i]) > abs(y[peak]) {
			peak = i
		}
	}
	require.InDelta(t, 800, peak, 1)
}

func abs(v int16) int16 {
	if v < 0 {
		return -v
	}
	return v
}

func TestRates(t *testing.T) {
	cases := []struct {
		name    string
		in, out int
		ok      bool
		l, m    int
	}{
		{"48k", 48000, 8000, true, 1, 6},
		{"44.1k", 44100, 8000, true, 80, 441},
		{"22.05k", 22050, 8000, true, 160, 441},
		{"zero", 0, 8000, false, 0, 0},
		{"negative", 8000, -1, false, 0, 0},
		{"absurd ratio", 44101, 8000, false, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := New(tc.in, tc.out)
			if !tc.ok {
				require.ErrorIs(t, err, ErrRate)
				return
			}
			require.NoError(t, err)
			l, m := r.Ratio()
			require.Equal(t, []int{tc.l, tc.m}, []int{l, m})
		})
	}
}

func BenchmarkResample48kTo8kFrame(b *testing.B) {
	r, _ := New(48000, 8000)
	in := sine(48000, 1000, 8000, 0.02) // one 20 ms frame in
	out := make([]int16, 0, 200)
	b.ReportAllocs()
	for b.Loop() {
		out = r.Append(out[:0], in)
	}
}
