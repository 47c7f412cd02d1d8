package g722

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

const rate = 16000

func sine(hz, amp float64, n int) []int16 {
	x := make([]int16, n)
	for i := range x {
		x[i] = int16(math.Round(amp * math.Sin(2*math.Pi*hz*float64(i)/rate)))
	}
	return x
}

// chirp sweeps from f0 to f1 Hz over n samples.
func chirp(f0, f1, amp float64, n int) []int16 {
	x := make([]int16, n)
	for i := range x {
		t := float64(i) / rate
		dur := float64(n) / rate
		x[i] = int16(math.Round(amp * math.Sin(2*math.Pi*(f0*t+(f1-f0)*t*t/(2*dur)))))
	}
	return x
}

func add(a, b []int16) []int16 {
	out := make([]int16, len(a))
	for i := range a {
		out[i] = a[i] + b[i]
	}
	return out
}

func roundTrip(x []int16) []int16 {
	enc, dec := NewEncoder(), NewDecoder()
	code := make([]byte, len(x)/2)
	require.Equal(nil, len(x)/2, enc.Encode(code, x))
	y := make([]int16, len(x))
	require.Equal(nil, len(x), dec.Decode(y, code))
	return y
}

// snr compares y with x delayed by the codec (the two QMFs), searching the
// delay, over the second half (after the ADPCM has adapted); it returns the
// ratio in dB and the delay.
func snr(x, y []int16) (float64, int) {
	best, bestLag := math.Inf(-1), 0
	for lag := 0; lag < 64; lag++ {
		var sig, noise float64
		for i := len(x) / 2; i+lag < len(y); i++ {
			e := float64(y[i+lag]) - float64(x[i])
			sig += float64(x[i]) * float64(x[i])
			noise += e * e
		}
		if r := 10 * math.Log10(sig/noise); r > best {
			best, bestLag = r, lag
		}
	}
	return best, bestLag
}

// TestRoundTrip: what the decoder makes of the encoder's output is the
// input, delayed by the two QMFs (22 samples: checked on a chirp, where a
// tone's period would make it ambiguous), with the signal-to-noise ratio
// that 64 kbit/s sub-band ADPCM gives, in either band.
func TestRoundTrip(t *testing.T) {
	cases := []struct {
		name   string
		x      []int16
		minSNR float64
		chirp  bool // not periodic: the delay is unambiguous
	}{
		{"chirp 100 Hz to 7 kHz", chirp(100, 7000, 6000, rate), 20, true},
		{"1 kHz, low band", sine(1000, 10000, rate), 30, false},
		{"300 Hz, quiet", sine(300, 500, rate), 20, false},
		{"6 kHz, high band", sine(6000, 8000, rate), 12, false},
		{"500 Hz + 5 kHz", add(sine(500, 8000, rate), sine(5000, 4000, rate)), 15, false},
		{"full scale 2 kHz", sine(2000, 32000, rate), 25, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			y := roundTrip(c.x)
			r, lag := snr(c.x, y)
			t.Logf("SNR %.1f dB at a delay of %d samples", r, lag)
			if c.chirp {
				require.Equal(t, 22, lag, "the QMF pair delays by 22 samples at 16 kHz")
			}
			require.Greater(t, r, c.minSNR)
		})
	}
}

// TestSilence: silence codes to silence.
func TestSilence(t *testing.T) {
	y := roundTrip(make([]int16, rate/10))
	for i, v := range y {
		require.LessOrEqual(t, math.Abs(float64(v)), 8.0, "sample %d", i)
	}
}

// TestStreamsInPieces: encoding and decoding in 20 ms pieces gives what
// one call does (the state carries over between packets).
func TestStreamsInPieces(t *testing.T) {
	x := add(sine(700, 9000, rate), sine(4500, 3000, rate))
	whole := roundTrip(x)
	enc, dec := NewEncoder(), NewDecoder()
	var pieces []int16
	code := make([]byte, 160)
	pcm := make([]int16, 320)
	for off := 0; off+320 <= len(x); off += 320 {
		require.Equal(t, 160, enc.Encode(code, x[off:off+320]))
		require.Equal(t, 320, dec.Decode(pcm, code))
		pieces = append(pieces, pcm...)
	}
	require.Equal(t, whole, pieces)
}

// TestLengths: short buffers bound the work.
func TestLengths(t *testing.T) {
	enc, dec := NewEncoder(), NewDecoder()
	require.Equal(t, 2, enc.Encode(make([]byte, 2), make([]int16, 9)))
	require.Equal(t, 3, enc.Encode(make([]byte, 5), make([]int16, 7)))
	require.Equal(t, 4, dec.Decode(make([]int16, 5), make([]byte, 3)))
	require.Equal(t, 6, dec.Decode(make([]int16, 10), make([]byte, 3)))
}

// FuzzDecode: any bytes decode without a panic, to as many samples.
func FuzzDecode(f *testing.F) {
	f.Add([]byte{0, 0xFF, 0x7F, 0x80, 0x3F, 0xC0})
	f.Add(make([]byte, 160))
	f.Fuzz(func(t *testing.T, b []byte) {
		dec := NewDecoder()
		out := make([]int16, 2*len(b))
		if n := dec.Decode(out, b); n != 2*len(b) {
			t.Fatalf("decoded %d samples of %d bytes", n, len(b))
		}
	})
}

func BenchmarkEncode20ms(b *testing.B) {
	x := sine(1000, 10000, 320)
	enc, code := NewEncoder(), make([]byte, 160)
	for b.Loop() {
		enc.Encode(code, x)
	}
}

func BenchmarkDecode20ms(b *testing.B) {
	code := make([]byte, 160)
	NewEncoder().Encode(code, sine(1000, 10000, 320))
	dec, pcm := NewDecoder(), make([]int16, 320)
	for b.Loop() {
		dec.Decode(pcm, code)
	}
}

// TestBitExact pins the coder's output for a fixed input (a chirp over both
// bands plus pseudo-random noise): the integer arithmetic must not change,
// since other implementations decode it (baresip's, in cmd/voxrun's tests).
func TestBitExact(t *testing.T) {
	x := chirp(50, 7900, 9000, 2*rate)
	seed := uint32(1)
	for i := range x {
		seed = seed*1664525 + 1013904223
		x[i] += int16(seed>>20) - 2048
	}
	code := make([]byte, len(x)/2)
	NewEncoder().Encode(code, x)
	y := make([]int16, len(x))
	NewDecoder().Decode(y, code)
	h := sha256.New()
	h.Write(code)
	require.NoError(t, binary.Write(h, binary.LittleEndian, y))
	require.Equal(t, goldenSHA256, hex.EncodeToString(h.Sum(nil)))
}

const goldenSHA256 = "a0ef54e5d7c97773df5caa757ef4b44c19ce416275d3c026f8f4dda0870e2f89"
