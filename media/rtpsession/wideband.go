package rtpsession

import (
	"github.com/voxrun/voxrun/media"
	"github.com/voxrun/voxrun/media/g722"
	"github.com/voxrun/voxrun/media/resample"
)

// g722PayloadType is G.722's static RTP payload type (RFC 3551 §6).
const g722PayloadType = 9

// wideband codes the leg's 8 kHz frames as G.722: up to 16 kHz then
// encoded on the way out, decoded then down to 8 kHz on the way in. G.722
// packs two 16 kHz samples per octet and RTP clocks it at 8000 Hz (RFC 3551
// §4.5.2), so a 20 ms packet is 160 octets and 160 timestamp units, as with
// G.711: only the coding differs. Two G.722 legs in a room relay packets,
// which keeps the wideband audio end to end; the frame pipeline itself is
// 8 kHz (DESIGN.md).
type wideband struct {
	enc      *g722.Encoder
	dec      *g722.Decoder
	up, down *resample.Resampler
	out16    []int16 // 16 kHz samples waiting to be encoded
	in16     []int16 // one packet decoded at 16 kHz
	in8      []int16 // 8 kHz samples waiting to fill a frame
	primed   [2]bool // out16 and in8 start with the resamplers' delay
}

func newWideband() (*wideband, error) {
	up, err := resample.New(media.SampleRate, 2*media.SampleRate)
	if err != nil {
		return nil, err
	}
	down, err := resample.New(2*media.SampleRate, media.SampleRate)
	if err != nil {
		return nil, err
	}
	return &wideband{
		enc: g722.NewEncoder(), dec: g722.NewDecoder(), up: up, down: down,
		out16: make([]int16, 0, 8*media.FrameSamples),
		in16:  make([]int16, 2*maxPayload),
		in8:   make([]int16, 0, 2*maxPayload),
	}, nil
}

// encode codes one 8 kHz frame into dst (FrameSamples octets) and returns
// the octets written.
func (w *wideband) encode(dst []byte, frame []int16) int {
	w.out16 = w.up.Append(w.out16, frame)
	w.out16 = primed(w.out16, 2*len(frame), &w.primed[0])
	n := w.enc.Encode(dst[:len(frame)], w.out16[:2*len(frame)])
	w.out16 = append(w.out16[:0], w.out16[2*len(frame):]...)
	return n
}

// decode decodes one packet's payload and hands each whole 8 kHz frame to
// emit, through frame (the caller's buffer).
func (w *wideband) decode(payload []byte, frame []int16, emit func()) {
	n := w.dec.Decode(w.in16, payload)
	w.in8 = w.down.Append(w.in8, w.in16[:n])
	w.in8 = primed(w.in8, len(frame), &w.primed[1])
	for len(w.in8) >= len(frame) {
		copy(frame, w.in8)
		w.in8 = append(w.in8[:0], w.in8[len(frame):]...)
		emit()
	}
}

// primed makes up, once, for the samples a resampler holds back at the
// start (its filter's delay), with leading silence, so that every frame in
// gives a whole frame out from the first one on.
func primed(buf []int16, want int, done *bool) []int16 {
	if *done {
		return buf
	}
	*done = true
	if len(buf) >= want {
		return buf
	}
	pad := want - len(buf)
	buf = append(buf, make([]int16, pad)...)
	copy(buf[pad:], buf[:len(buf)-pad])
	clear(buf[:pad])
	return buf
}
