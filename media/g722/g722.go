// Package g722 is the ITU-T G.722 wideband codec at 64 kbit/s: 16 kHz
// 16-bit PCM split by a quadrature mirror filter into two sub-bands, each
// coded by sub-band ADPCM (6 bits for 0–4 kHz, 2 bits for 4–8 kHz), one
// byte per pair of input samples. Written from the Recommendation's block
// descriptions (ITU-T G.722 §3 and §4, blocks 1L–6H), with the integer
// arithmetic it specifies, so that it interoperates bit for bit with other
// implementations; diago's gotranspile/g722 is not a dependency here.
//
// An Encoder and a Decoder each keep the state of one direction of one
// stream (they are not safe for concurrent use); the zero value is not
// ready: use NewEncoder and NewDecoder. The 56 and 48 kbit/s modes (fewer
// low-band bits) are not implemented: RTP peers use 64 kbit/s (RFC 3551
// §4.5.2).
//
// RTP carries G.722 with an 8000 Hz timestamp clock although it samples at
// 16 kHz (RFC 3551 §4.5.2): a 20 ms packet is 160 octets and advances the
// timestamp by 160, as G.711 does.
package g722

// The Recommendation's tables.
var (
	// q6 are the low-band quantiser's decision levels (QUANTL).
	q6 = [32]int{0, 35, 72, 110, 150, 190, 233, 276, 323, 370, 422, 473, 530, 587, 650, 714,
		786, 858, 940, 1023, 1121, 1219, 1339, 1458, 1612, 1765, 1980, 2195, 2557, 2919, 0, 0}
	// iln and ilp are the low-band codes for negative and positive errors.
	iln = [32]int{0, 63, 62, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15,
		14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 0}
	ilp = [32]int{0, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43,
		42, 41, 40, 39, 38, 37, 36, 35, 34, 33, 32, 0}
	// wl is the low-band log-scale factor multiplier (LOGSCL), rl42 maps a
	// 4-bit code to its index.
	wl   = [8]int{-60, -30, 58, 172, 334, 538, 1198, 3042}
	rl42 = [16]int{0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0}
	// ilb is the inverse log table of the scale factors (SCALEL, SCALEH).
	ilb = [32]int{2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383, 2435, 2489, 2543, 2599, 2656,
		2714, 2774, 2834, 2896, 2960, 3025, 3091, 3158, 3228, 3298, 3371, 3444, 3520, 3597, 3676,
		3756, 3838, 3922, 4008}
	// qm4 is the 4-bit inverse quantiser used for prediction (INVQAL).
	qm4 = [16]int{0, -20456, -12896, -8968, -6288, -4240, -2584, -1200, 20456, 12896, 8968, 6288,
		4240, 2584, 1200, 0}
	// qm6 is the 6-bit inverse quantiser of the decoder's output (INVQBL).
	qm6 = [64]int{-136, -136, -136, -136, -24808, -21904, -19008, -16704, -14984, -13512, -12280,
		-11192, -10232, -9360, -8576, -7856, -7192, -6576, -6000, -5456, -4944, -4464, -4008, -3576,
		-3168, -2776, -2400, -2032, -1688, -1360, -1040, -728, 24808, 21904, 19008, 16704, 14984,
		13512, 12280, 11192, 10232, 9360, 8576, 7856, 7192, 6576, 6000, 5456, 4944, 4464, 4008, 3576,
		3168, 2776, 2400, 2032, 1688, 1360, 1040, 728, 432, 136, -432, -136}
	// The high band: inverse quantiser, codes, log-scale multipliers.
	qm2 = [4]int{-7408, -1616, 7408, 1616}
	ihn = [3]int{0, 1, 0}
	ihp = [3]int{0, 3, 2}
	wh  = [3]int{0, -214, 798}
	rh2 = [4]int{2, 1, 2, 1}
	// qmf are the 24-tap quadrature mirror filter's coefficients (half of
	// them: the filter is symmetric).
	qmf = [12]int{3, -11, 12, 32, -210, 951, 3876, -805, 362, -156, 53, -11}
)

func saturate(v int) int {
	return max(-32768, min(32767, v))
}

// band is the ADPCM state of one sub-band (ITU-T G.722 §3.6, block 4):
// the predictor's input s, its pole and zero parts sp and sz, the last
// reconstructed signals r, partial signals p, quantised differences d, the
// pole and zero coefficients a and b, and the scale factor (nb, det).
type band struct {
	s, sp, sz int
	r         [3]int
	p         [3]int
	a         [3]int
	d         [7]int
	b         [7]int
	nb, det   int
}

// predict updates the adaptive predictor with the quantised difference d:
// RECONS, PARREC, UPPOL2, UPPOL1, UPZERO, DELAYA, FILTEP, FILTEZ, PREDIC,
// in the Recommendation's integer arithmetic, with the delays shifted in
// place.
func (s *band) predict(d int) {
	r0 := saturate(s.s + d)  // RECONS
	p0 := saturate(s.sz + d) // PARREC
	p1, p2 := s.p[1], s.p[2]
	a1, a2 := s.a[1], s.a[2]
	sg0, sg1, sg2 := p0>>15, p1>>15, p2>>15

	// UPPOL2
	wd1 := saturate(a1 << 2)
	wd2 := wd1
	if sg0 == sg1 {
		wd2 = -wd1
	}
	wd3 := min(wd2, 32767) >> 7
	if sg0 == sg2 {
		wd3 += 128
	} else {
		wd3 -= 128
	}
	ap2 := max(-12288, min(12288, wd3+(a2*32512)>>15))

	// UPPOL1
	wd1 = -192
	if sg0 == sg1 {
		wd1 = 192
	}
	ap1 := saturate(wd1 + (a1*32640)>>15)
	lim := saturate(15360 - ap2)
	ap1 = max(-lim, min(lim, ap1))

	// UPZERO with the old differences, then DELAYA shifts them.
	wd1 = 128
	if d == 0 {
		wd1 = 0
	}
	sgd := d >> 15
	for i := 1; i < 7; i++ {
		w := -wd1
		if s.d[i]>>15 == sgd {
			w = wd1
		}
		s.b[i] = saturate(w + (s.b[i]*32640)>>15)
	}
	copy(s.d[2:], s.d[1:6])
	s.d[1], s.d[0] = d, d
	r1 := s.r[1]
	s.r[2], s.r[1], s.r[0] = r1, r0, r0
	s.p[2], s.p[1], s.p[0] = p1, p0, p0
	s.a[2], s.a[1] = ap2, ap1

	// FILTEP
	s.sp = saturate((ap1*saturate(r0+r0))>>15 + (ap2*saturate(r1+r1))>>15)

	// FILTEZ
	sz := 0
	for i := 1; i < 7; i++ {
		sz += (s.b[i] * saturate(s.d[i]+s.d[i])) >> 15
	}
	s.sz = saturate(sz)

	// PREDIC
	s.s = saturate(s.sp + s.sz)
}

// scale adapts the band's scale factor (LOGSCL/LOGSCH then SCALEL/SCALEH):
// w is the log multiplier of the code, limit and shift the band's.
func (s *band) scale(w, limit, shift int) {
	nb := (s.nb*127)>>7 + w
	s.nb = max(0, min(limit, nb))
	wd1 := (s.nb >> 6) & 31
	wd2 := shift - (s.nb >> 11)
	var wd3 int
	if wd2 < 0 {
		wd3 = ilb[wd1] << -wd2
	} else {
		wd3 = ilb[wd1] >> wd2
	}
	s.det = wd3 << 2
}

func (s *band) scaleLow(il4 int)  { s.scale(wl[il4], 18432, 8) }
func (s *band) scaleHigh(ih2 int) { s.scale(wh[ih2], 22528, 10) }

// Encoder codes 16 kHz PCM to G.722 at 64 kbit/s.
type Encoder struct {
	low, high band
	x         [24]int // the transmit QMF's delay line
}

// NewEncoder returns an encoder in the Recommendation's reset state.
func NewEncoder() *Encoder {
	e := &Encoder{}
	e.low.det, e.high.det = 32, 8
	return e
}

// Encode codes src (16 kHz samples, in pairs) into dst, one byte per pair,
// and returns the number of bytes written: the shorter of len(dst) and
// len(src)/2. An odd last sample is ignored.
func (e *Encoder) Encode(dst []byte, src []int16) int {
	n := min(len(dst), len(src)/2)
	for k := range n {
		// Transmit QMF: shift in two samples, keep every other output.
		copy(e.x[:22], e.x[2:])
		e.x[22], e.x[23] = int(src[2*k]), int(src[2*k+1])
		var sumOdd, sumEven int
		for i := range 12 {
			sumOdd += e.x[2*i] * qmf[i]
			sumEven += e.x[2*i+1] * qmf[11-i]
		}
		xlow := (sumEven + sumOdd) >> 14
		xhigh := (sumEven - sumOdd) >> 14

		// Low band: SUBTRA, QUANTL, INVQAL, LOGSCL, SCALEL, then predict.
		el := saturate(xlow - e.low.s)
		wd := el
		if el < 0 {
			wd = -(el + 1)
		}
		// The first level the magnitude is under (levels rise with i, so
		// a binary search finds what the Recommendation's scan finds).
		lo, hi := 1, 30
		for lo < hi {
			if mid := (lo + hi) / 2; wd < (q6[mid]*e.low.det)>>12 {
				hi = mid
			} else {
				lo = mid + 1
			}
		}
		i := lo
		ilow := ilp[i]
		if el < 0 {
			ilow = iln[i]
		}
		ril := ilow >> 2
		dlow := (e.low.det * qm4[ril]) >> 15
		e.low.scaleLow(rl42[ril])
		e.low.predict(dlow)

		// High band: SUBTRA, QUANTH, INVQAH, LOGSCH, SCALEH, then predict.
		eh := saturate(xhigh - e.high.s)
		wd = eh
		if eh < 0 {
			wd = -(eh + 1)
		}
		mih := 1
		if wd >= (564*e.high.det)>>12 {
			mih = 2
		}
		ihigh := ihp[mih]
		if eh < 0 {
			ihigh = ihn[mih]
		}
		dhigh := (e.high.det * qm2[ihigh]) >> 15
		e.high.scaleHigh(rh2[ihigh])
		e.high.predict(dhigh)

		dst[k] = byte(ihigh<<6 | ilow)
	}
	return n
}

// Decoder decodes G.722 at 64 kbit/s to 16 kHz PCM.
type Decoder struct {
	low, high band
	x         [24]int // the receive QMF's delay line
}

// NewDecoder returns a decoder in the Recommendation's reset state.
func NewDecoder() *Decoder {
	d := &Decoder{}
	d.low.det, d.high.det = 32, 8
	return d
}

// Decode decodes src into dst, two 16 kHz samples per byte, and returns the
// number of samples written: the shorter of len(dst) rounded down to even
// and 2·len(src).
func (d *Decoder) Decode(dst []int16, src []byte) int {
	n := min(len(dst)/2, len(src))
	for k := range n {
		code := int(src[k])
		ilow, ihigh := code&0x3F, (code>>6)&0x03

		// Low band: INVQBL, RECONS, LIMIT for the output; INVQAL, LOGSCL,
		// SCALEL and the predictor as in the encoder.
		rlow := d.low.s + (d.low.det*qm6[ilow])>>15
		rlow = max(-16384, min(16383, rlow))
		ril := ilow >> 2
		dlow := (d.low.det * qm4[ril]) >> 15
		d.low.scaleLow(rl42[ril])
		d.low.predict(dlow)

		// High band: INVQAH, RECONS, LIMIT; LOGSCH, SCALEH, predictor.
		dhigh := (d.high.det * qm2[ihigh]) >> 15
		rhigh := max(-16384, min(16383, dhigh+d.high.s))
		d.high.scaleHigh(rh2[ihigh])
		d.high.predict(dhigh)

		// Receive QMF: two output samples per pair of sub-band samples.
		copy(d.x[:22], d.x[2:])
		d.x[22], d.x[23] = rlow+rhigh, rlow-rhigh
		var out1, out2 int
		for i := range 12 {
			out2 += d.x[2*i] * qmf[i]
			out1 += d.x[2*i+1] * qmf[11-i]
		}
		dst[2*k] = int16(saturate(out1 >> 11))
		dst[2*k+1] = int16(saturate(out2 >> 11))
	}
	return 2 * n
}
