package dtmf

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/media"
	"github.com/voxrun/voxrun/media/g711"
	"github.com/voxrun/voxrun/media/mediatest"
	"github.com/voxrun/voxrun/media/wav"
)

// dBm0 amplitude of a sine (G.711: 0 dBm0 is an RMS of about 2^15·0.5 for
// µ-law's 3.17 dBm0 overload; here 0 dBm0 ≈ amplitude 22000).
func amplitude(dbm0 float64) float64 { return 22000 * math.Pow(10, dbm0/20) }

// keyTone returns n samples of key's two tones, the column tone twist dB
// stronger than the row tone, at level dBm0 each.
func keyTone(t *testing.T, key byte, level, twist float64, n int) []int16 {
	t.Helper()
	i := -1
	for j := range len(keypad) {
		if keypad[j] == key {
			i = j
		}
	}
	require.GreaterOrEqual(t, i, 0)
	fr, fc := rowFreqs[i/4], colFreqs[i%4]
	ar, ac := amplitude(level), amplitude(level+twist)
	out := make([]int16, n)
	for k := range out {
		ts := float64(k) / media.SampleRate
		out[k] = int16(ar*math.Sin(2*math.Pi*fr*ts) + ac*math.Sin(2*math.Pi*fc*ts))
	}
	return out
}

// throughUlaw is what the detector sees after a G.711 µ-law hop.
func throughUlaw(x []int16) []int16 {
	enc := make([]byte, len(x))
	g711.EncodeUlaw(enc, x)
	out := make([]int16, len(x))
	g711.DecodeUlaw(out, enc)
	return out
}

// run feeds samples to a detector in 20 ms frames and returns what it
// reported.
func run(samples []int16) []media.Digit {
	got := &mediatest.Digits{}
	d := &InbandDetector{Sink: got}
	frame := media.NewFrame()
	for len(samples) > 0 {
		n := copy(frame, samples)
		clear(frame[n:])
		samples = samples[n:]
		_ = d.WriteFrame(frame)
	}
	// Trailing silence ends any key still down.
	clear(frame)
	for range 3 {
		_ = d.WriteFrame(frame)
	}
	return got.All()
}

func silence(ms int) []int16 { return make([]int16, ms*8) }

func TestInbandDetectsEveryKeyOnce(t *testing.T) {
	var signal []int16
	for i := range len(keypad) {
		signal = append(signal, throughUlaw(keyTone(t, keypad[i], -10, 0, 100*8))...)
		signal = append(signal, silence(60)...)
	}
	got := run(signal)
	require.Len(t, got, 16)
	for i, d := range got {
		require.Equal(t, keypad[i], d.Key)
		require.Equal(t, media.DigitInband, d.Origin)
		require.InDelta(t, float64(100*time.Millisecond), float64(d.Duration), float64(20*time.Millisecond))
	}
}

func TestInbandLimits(t *testing.T) {
	cases := []struct {
		name  string
		level float64
		twist float64
		ms    int
		want  string
	}{
		{"loud (-3 dBm0 per tone)", -3, 0, 100, "5"},
		{"quiet but valid (-25 dBm0)", -25, 0, 100, "5"},
		{"too quiet (-45 dBm0)", -45, 0, 100, ""},
		{"normal twist 6 dB accepted", -10, -6, 100, "5"},
		{"normal twist 12 dB rejected", -10, -12, 100, ""},
		{"reverse twist 3 dB accepted", -10, 3, 100, "5"},
		{"reverse twist 8 dB rejected", -10, 8, 100, ""},
		{"40 ms is enough", -10, 0, 40, "5"},
		{"20 ms is too short", -10, 0, 20, ""},
		{"long press is one digit", -10, 0, 2000, "5"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			signal := append(silence(40), throughUlaw(keyTone(t, '5', tc.level, tc.twist, tc.ms*8))...)
			var keys []byte
			for _, d := range run(signal) {
				keys = append(keys, d.Key)
			}
			require.Equal(t, tc.want, string(keys))
		})
	}
}

func TestInbandRepeatedKeyNeedsAGap(t *testing.T) {
	one := keyTone(t, '7', -10, 0, 80*8)
	signal := append(append(append([]int16{}, one...), silence(60)...), one...)
	require.Len(t, run(signal), 2)
	// A one-frame dropout inside a tone does not split it.
	broken := append(append(append([]int16{}, one...), silence(20)...), one...)
	got := run(broken)
	require.Len(t, got, 1)
	require.Equal(t, byte('7'), got[0].Key)
}

// TestInbandIgnoresSpeechAndMusic runs signals that resemble DTMF in parts:
// none may produce a digit.
func TestInbandIgnoresSpeechAndMusic(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	gen := func(ms int, f func(ts float64) float64) []int16 {
		out := make([]int16, ms*8)
		for k := range out {
			out[k] = int16(max(-32000, min(32000, f(float64(k)/media.SampleRate))))
		}
		return throughUlaw(out)
	}
	vowel := func(f0 float64) func(float64) float64 {
		// A voiced sound: harmonics of f0 under two formant bumps (~700 and
		// ~1200 Hz, where DTMF lives), as in an "ah".
		return func(ts float64) float64 {
			var v float64
			for h := 1; float64(h)*f0 < 3400; h++ {
				f := float64(h) * f0
				g := math.Exp(-math.Pow((f-700)/150, 2)) + 0.7*math.Exp(-math.Pow((f-1200)/200, 2)) + 0.05
				v += 6000 * g * math.Sin(2*math.Pi*f*ts+float64(h))
			}
			return v
		}
	}
	chord := func(freqs ...float64) func(float64) float64 {
		return func(ts float64) float64 {
			var v float64
			for _, f := range freqs {
				for h := 1.0; h <= 3; h++ { // instruments have overtones
					v += 5000 / h * math.Sin(2*math.Pi*f*h*ts)
				}
			}
			return v
		}
	}
	cases := []struct {
		name   string
		signal []int16
	}{
		{"white noise", gen(2000, func(float64) float64 { return rng.NormFloat64() * 5000 })},
		{"vowel at 116 Hz (harmonics at 696 and 1160+)", gen(2000, vowel(116))},
		{"vowel at 120 Hz (harmonics at 720 and 1200)", gen(2000, vowel(120))},
		{"vowel gliding 100 to 200 Hz", gen(2000, func(ts float64) float64 { return vowel(100 + 50*ts)(ts) })},
		{"A major chord with overtones", gen(2000, chord(440, 554.37, 659.25))},
		{"chord near DTMF (F5 and D6 with overtones)", gen(2000, chord(698.46, 1174.66))},
		{"single tone at a row frequency", gen(1000, func(ts float64) float64 { return 10000 * math.Sin(2*math.Pi*697*ts) })},
		{"dial tone 350+440 Hz", gen(1000, func(ts float64) float64 {
			return 7000*math.Sin(2*math.Pi*350*ts) + 7000*math.Sin(2*math.Pi*440*ts)
		})},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Empty(t, run(tc.signal))
		})
	}
	// Sweep single tones over the voice band.
	for f := 200.0; f < 3400; f += 25 {
		sig := gen(200, func(ts float64) float64 { return 12000 * math.Sin(2*math.Pi*f*ts) })
		require.Empty(t, run(sig), "tone at %v Hz", f)
	}
}

func BenchmarkInbandFrame(b *testing.B) {
	d := &InbandDetector{}
	frame := mediatest.Tone(1000, 5000, media.FrameSamples)
	b.ReportAllocs()
	for b.Loop() {
		_ = d.WriteFrame(frame)
	}
}

func TestInbandInNoise(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var signal []int16
	for _, k := range []byte("159#") {
		signal = append(signal, keyTone(t, k, -12, -2, 80*8)...)
		signal = append(signal, silence(80)...)
	}
	// White noise 20 dB under the tones.
	noise := amplitude(-12) / math.Sqrt2 / 10
	for i := range signal {
		signal[i] += int16(rng.NormFloat64() * noise)
	}
	var keys []byte
	for _, d := range run(throughUlaw(signal)) {
		keys = append(keys, d.Key)
	}
	require.Equal(t, "159#", string(keys))
}

// TestInbandIgnoresRecordedSpeech runs 12 s of espeak-ng speech (two voices,
// spoken digits included; testdata/speech_espeak_ulaw.wav, 8 kHz µ-law):
// no digit may fire. Then the same speech with real tones mixed in: exactly
// those digits.
func TestInbandIgnoresRecordedSpeech(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "speech_espeak_ulaw.wav"))
	require.NoError(t, err)
	defer f.Close()
	src, err := wav.NewSource(f)
	require.NoError(t, err)
	var speech []int16
	frame := media.NewFrame()
	for src.ReadFrame(frame) == nil {
		speech = append(speech, frame...)
	}
	require.Greater(t, len(speech), 10*8000)
	require.Empty(t, run(speech), "speech fired the detector")

	// Tones at -8 dBm0 over the speech at its own level, 2 s apart.
	mixed := append([]int16(nil), speech...)
	for i, k := range []byte("3#9") {
		at := (1 + 3*i) * 8000
		for j, v := range keyTone(t, k, -8, 0, 90*8) {
			mixed[at+j] = int16(max(-32768, min(32767, int(mixed[at+j])/4+int(v))))
		}
	}
	var keys []byte
	for _, d := range run(mixed) {
		keys = append(keys, d.Key)
	}
	require.Equal(t, "3#9", string(keys))
}

func TestGoertzel8MatchesGoertzel(t *testing.T) {
	x := keyTone(t, '8', -10, 0, 160)
	pw := goertzel8(x)
	for i := range 8 {
		require.InEpsilon(t, goertzel(x, goertzelCoeffs[i]), pw[i], 1e-9)
	}
}
