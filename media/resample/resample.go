package resample

import (
	"fmt"
	"math"
)

const (
	// zeroCrossings is how many zero crossings of the cutoff sinc each side
	// of the filter keeps: the longer, the narrower the transition band.
	zeroCrossings = 32
	// kaiserBeta sets the window's stopband: about 80 dB.
	kaiserBeta = 8.0
	// rolloff is the cutoff (the -6 dB point) as a fraction of the lower
	// Nyquist frequency: 0.9 puts it at 3600 Hz for 8 kHz output, so that
	// with 32 zero crossings the transition band ends before 4 kHz and the
	// voice band (300-3400 Hz) loses at most about 1.5 dB at its top.
	rolloff = 0.9
)

// Resampler converts a stream of samples from one rate to another. It keeps
// the tail of its input between calls; it is not safe for concurrent use.
type Resampler struct {
	l, m   int         // upsample by l, downsample by m
	k      int         // taps per phase
	phases [][]float32 // phases[φ][i] = h[φ + (k-1-i)·l]: reversed, for a dot product
	buf    []int16     // pending input, with zeroCrossings·… of history
	pos    int         // position of the next output, in upsampled units from buf[0]
	tail   int         // zeros Flush appends
}

// New returns a resampler from inRate to outRate (Hz).
func New(inRate, outRate int) (*Resampler, error) {
	if inRate <= 0 || outRate <= 0 || inRate > 384000 || outRate > 384000 {
		return nil, fmt.Errorf("%w: %d to %d", ErrRate, inRate, outRate)
	}
	g := gcd(inRate, outRate)
	l, m := outRate/g, inRate/g
	if l > 4096 {
		return nil, fmt.Errorf("%w: %d to %d needs %d phases", ErrRate, inRate, outRate, l)
	}
	// The prototype low-pass runs at the upsampled rate inRate·l.
	high := float64(inRate) * float64(l)
	fc := rolloff * 0.5 * float64(min(inRate, outRate))
	spacing := high / (2 * fc) // upsampled samples between sinc zero crossings
	half := int(math.Ceil(zeroCrossings * spacing))
	n := 2*half + 1
	h := make([]float64, n)
	i0b := besselI0(kaiserBeta)
	for j := range h {
		t := float64(j - half)
		x := 2 * fc / high * t
		sinc := 1.0
		if x != 0 {
			sinc = math.Sin(math.Pi*x) / (math.Pi * x)
		}
		r := t / float64(half)
		w := besselI0(kaiserBeta*math.Sqrt(max(0, 1-r*r))) / i0b
		// Gain l makes up for the zeros that upsampling stuffs in.
		h[j] = float64(l) * 2 * fc / high * sinc * w
	}
	k := (n + l - 1) / l
	phases := make([][]float32, l)
	for p := range phases {
		phases[p] = make([]float32, k)
		for i := range k {
			if j := p + (k-1-i)*l; j < n {
				phases[p][i] = float32(h[j])
			}
		}
	}
	// The buffer starts with k zeros of history, so that every output has
	// a full window: buf index b is input sample b - k. The first output is
	// centred on the first input sample.
	return &Resampler{
		l: l, m: m, k: k, phases: phases,
		buf:  make([]int16, k, k+1024),
		pos:  half + k*l,
		tail: (half+l-1)/l + 1,
	}, nil
}

// Ratio returns the reduced ratio out:in as (l, m).
func (r *Resampler) Ratio() (l, m int) { return r.l, r.m }

// Append resamples src, appends the output to dst and returns it. Output
// lags input by the filter's half length; Flush drains it at the end.
func (r *Resampler) Append(dst, src []int16) []int16 {
	r.buf = append(r.buf, src...)
	for {
		last := r.pos / r.l // newest input the output needs
		if last >= len(r.buf) {
			break
		}
		coeffs := r.phases[r.pos%r.l]
		window := r.buf[last-r.k+1 : last+1]
		window = window[:len(coeffs)]
		var acc float32
		for i, c := range coeffs {
			acc += c * float32(window[i])
		}
		dst = append(dst, clamp(acc))
		r.pos += r.m
	}
	// Drop input no future output needs.
	if drop := r.pos/r.l - (r.k - 1); drop > 0 {
		drop = min(drop, len(r.buf))
		r.buf = append(r.buf[:0], r.buf[drop:]...)
		r.pos -= drop * r.l
	}
	return dst
}

// Flush pushes silence through to release the last samples of the input,
// appends them to dst and returns it. The resampler may not be used after.
func (r *Resampler) Flush(dst []int16) []int16 {
	return r.Append(dst, make([]int16, r.tail))
}

func clamp(v float32) int16 {
	switch {
	case v >= math.MaxInt16:
		return math.MaxInt16
	case v <= math.MinInt16:
		return math.MinInt16
	case v >= 0:
		return int16(v + 0.5)
	}
	return int16(v - 0.5)
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// besselI0 is the zeroth-order modified Bessel function of the first kind,
// by its power series (enough terms for β ≤ 20).
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 50; k++ {
		term *= (x / 2) / float64(k)
		sum += term * term
		if term*term < sum*1e-17 {
			break
		}
	}
	return sum
}
