package dtmf

import (
	"math"
	"time"

	"github.com/voxrun/voxrun/media"
)

// The DTMF frequency grid (ITU-T Q.23): a key is one row tone plus one
// column tone.
var (
	rowFreqs = [4]float64{697, 770, 852, 941}
	colFreqs = [4]float64{1209, 1336, 1477, 1633}
)

const keypad = "123A456B789C*0#D"

// Detection thresholds. Powers are Goertzel powers normalised to the energy
// a sine of that power would have over the block (see goertzel).
const (
	// minTonePower is the weakest tone accepted: a sine of amplitude ~400,
	// about -35 dBm0, below ITU-T Q.24's -25 dBm0 "must accept" level.
	minTonePower = 400 * 400 / 2
	// twist limits (ITU-T Q.24): the column tone may be up to 8 dB weaker
	// than the row tone (normal twist) or 4 dB stronger (reverse twist).
	maxNormalTwist  = 6.31 // 8 dB
	maxReverseTwist = 2.51 // 4 dB
	// relPeak: the chosen tone must beat the other tones of its group by 8 dB.
	relPeak = 6.31
	// toneShare: the two tones must carry this share of the block's energy;
	// speech and music spread their energy over many frequencies.
	toneShare = 0.75
	// harmonicRatio: the second harmonic of each tone must be 10 dB under
	// it (voiced speech is rich in harmonics, a DTMF generator is not).
	harmonicRatio = 0.1
)

// goertzelCoeffs holds 2·cos(2πf/fs) for the eight tones and their second
// harmonics, computed once; the detector never writes it.
var goertzelCoeffs = func() (c [16]float64) {
	for i, f := range append(rowFreqs[:], colFreqs[:]...) {
		c[i] = 2 * math.Cos(2*math.Pi*f/media.SampleRate)
		c[8+i] = 2 * math.Cos(2*math.Pi*2*f/media.SampleRate)
	}
	return c
}()

// goertzel returns the power of frequency (by its coefficient) in x,
// normalised so that a sine of amplitude A at that frequency gives A²/2
// (its mean power), independent of the block length.
func goertzel(x []int16, coeff float64) float64 {
	var s1, s2 float64
	for _, v := range x {
		s0 := float64(v) + coeff*s1 - s2
		s2, s1 = s1, s0
	}
	p := s1*s1 + s2*s2 - coeff*s1*s2
	n := float64(len(x))
	return 2 * p / (n * n)
}

// goertzel8 is goertzel for the eight DTMF tones in one pass over x (the
// filters are independent, so their updates pipeline).
func goertzel8(x []int16) (pw [8]float64) {
	c := goertzelCoeffs
	var a1, a2, b1, b2 [4]float64
	for _, v := range x {
		f := float64(v)
		a1[0], a2[0] = f+c[0]*a1[0]-a2[0], a1[0]
		a1[1], a2[1] = f+c[1]*a1[1]-a2[1], a1[1]
		a1[2], a2[2] = f+c[2]*a1[2]-a2[2], a1[2]
		a1[3], a2[3] = f+c[3]*a1[3]-a2[3], a1[3]
		b1[0], b2[0] = f+c[4]*b1[0]-b2[0], b1[0]
		b1[1], b2[1] = f+c[5]*b1[1]-b2[1], b1[1]
		b1[2], b2[2] = f+c[6]*b1[2]-b2[2], b1[2]
		b1[3], b2[3] = f+c[7]*b1[3]-b2[3], b1[3]
	}
	n2 := float64(len(x)) * float64(len(x))
	for i := range 4 {
		pw[i] = 2 * (a1[i]*a1[i] + a2[i]*a2[i] - c[i]*a1[i]*a2[i]) / n2
		pw[4+i] = 2 * (b1[i]*b1[i] + b2[i]*b2[i] - c[4+i]*b1[i]*b2[i]) / n2
	}
	return pw
}

// InbandDetector finds DTMF tones in the audio (for peers without RFC 4733):
// a media.Sink that reports each key press once, with its duration, to Sink.
// A key must be present for two consecutive 20 ms frames (40 ms, ITU-T Q.24's
// minimum) and ends after two frames without it. Each frame must pass the
// energy, twist, relative-peak, tone-share and harmonic checks, so that
// speech and music do not fire it.
type InbandDetector struct {
	// Sink receives the digits.
	Sink media.DigitSink

	candidate byte
	count     int
	down      byte
	frames    int
	misses    int
}

var _ media.Sink = (*InbandDetector)(nil)

// WriteFrame examines one 20 ms frame.
func (d *InbandDetector) WriteFrame(frame []int16) error {
	key := classify(frame)
	if key == d.candidate {
		d.count++
	} else {
		d.candidate, d.count = key, 1
	}
	switch {
	case d.down == 0:
		if key != 0 && d.count >= 2 {
			d.down, d.frames, d.misses = key, 2, 0
		}
	case key == d.down:
		d.frames += 1 + d.misses // a one-frame dropout inside a tone is bridged
		d.misses = 0
	default:
		d.misses++
		if d.misses >= 2 || (key != 0 && d.count >= 2) {
			d.report()
			if key != 0 && d.count >= 2 {
				d.down, d.frames, d.misses = key, 2, 0
			}
		}
	}
	return nil
}

func (d *InbandDetector) report() {
	if d.Sink != nil {
		d.Sink.Digit(media.Digit{Key: d.down, Duration: time.Duration(d.frames) * media.FrameDuration, Origin: media.DigitInband})
	}
	d.down, d.frames, d.misses = 0, 0, 0
}

// classify returns the key whose tones dominate x, or 0.
func classify(x []int16) byte {
	var energy float64
	for _, v := range x {
		energy += float64(v) * float64(v)
	}
	energy /= float64(len(x))
	if energy < 2*minTonePower {
		return 0
	}
	pw := goertzel8(x)
	row, col := peak(pw[:4]), peak(pw[4:])
	pr, pc := pw[row], pw[4+col]
	switch {
	case pr < minTonePower || pc < minTonePower:
		return 0
	case pr > pc*maxNormalTwist || pc > pr*maxReverseTwist:
		return 0
	case (pr+pc)/energy < toneShare:
		return 0
	}
	for i := range 4 {
		if (i != row && pw[i]*relPeak > pr) || (i != col && pw[4+i]*relPeak > pc) {
			return 0
		}
	}
	if goertzel(x, goertzelCoeffs[8+row]) > pr*harmonicRatio || goertzel(x, goertzelCoeffs[12+col]) > pc*harmonicRatio {
		return 0
	}
	return keypad[row*4+col]
}

func peak(p []float64) int {
	best := 0
	for i := range p {
		if p[i] > p[best] {
			best = i
		}
	}
	return best
}
