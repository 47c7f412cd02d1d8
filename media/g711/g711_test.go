package g711

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
	zaf "github.com/zaf/g711"
)

func TestKnownValues(t *testing.T) {
	// Reference points from ITU-T G.711 tables 1 and 2.
	cases := []struct {
		name  string
		codec Codec
		code  byte
		pcm   int16
	}{
		{"ulaw zero", PCMU, 0xFF, 0},
		{"ulaw negative zero", PCMU, 0x7F, 0},
		{"ulaw max positive", PCMU, 0x80, 32124},
		{"ulaw max negative", PCMU, 0x00, -32124},
		{"ulaw first step", PCMU, 0xFE, 8},
		{"alaw smallest positive", PCMA, 0xD5, 8},
		{"alaw smallest negative", PCMA, 0x55, -8},
		{"alaw max positive", PCMA, 0xAA, 32256},
		{"alaw max negative", PCMA, 0x2A, -32256},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := make([]int16, 1)
			require.Equal(t, 1, tc.codec.Decode(out, []byte{tc.code}))
			require.Equal(t, tc.pcm, out[0])
		})
	}
	require.Equal(t, byte(0xFF), PCMU.Silence())
	require.Equal(t, byte(0xD5), PCMA.Silence())
}

// TestMatchesReference compares every 16-bit input and every code with an
// independent implementation of the ITU-T G.191 reference (github.com/zaf/g711).
func TestMatchesReference(t *testing.T) {
	in := make([]int16, 1)
	code := make([]byte, 1)
	for s := math.MinInt16; s <= math.MaxInt16; s++ {
		in[0] = int16(s)
		EncodeUlaw(code, in)
		require.Equal(t, zaf.EncodeUlawFrame(int16(s)), code[0], "ulaw encode %d", s)
		EncodeAlaw(code, in)
		require.Equal(t, zaf.EncodeAlawFrame(int16(s)), code[0], "alaw encode %d", s)
	}
	out := make([]int16, 1)
	for c := range 256 {
		DecodeUlaw(out, []byte{byte(c)})
		require.Equal(t, zaf.DecodeUlawFrame(byte(c)), out[0], "ulaw decode %#x", c)
		DecodeAlaw(out, []byte{byte(c)})
		require.Equal(t, zaf.DecodeAlawFrame(byte(c)), out[0], "alaw decode %#x", c)
	}
}

func TestRoundTrip(t *testing.T) {
	for _, codec := range []Codec{PCMU, PCMA} {
		t.Run(codec.String(), func(t *testing.T) {
			// Decoding then encoding any code gives the same code back
			// (µ-law's two zeros both decode to 0 and encode to 0xFF).
			pcm := make([]int16, 256)
			codes := make([]byte, 256)
			for i := range codes {
				codes[i] = byte(i)
			}
			require.Equal(t, 256, codec.Decode(pcm, codes))
			back := make([]byte, 256)
			require.Equal(t, 256, codec.Encode(back, pcm))
			for i := range codes {
				if codec == PCMU && codes[i] == 0x7F {
					require.Equal(t, byte(0xFF), back[i])
					continue
				}
				require.Equal(t, codes[i], back[i], "code %#x", i)
			}
			// Encoding then decoding keeps the error within the law's step:
			// below 1/16 of the magnitude (plus the smallest step).
			for s := math.MinInt16; s <= math.MaxInt16; s += 7 {
				in := []int16{int16(s)}
				var c [1]byte
				var out [1]int16
				codec.Encode(c[:], in)
				codec.Decode(out[:], c[:])
				diff := math.Abs(float64(out[0]) - float64(s))
				require.LessOrEqual(t, diff, math.Abs(float64(s))/16+40, "sample %d", s)
			}
		})
	}
}

func TestTranscode(t *testing.T) {
	for c := range 256 {
		var pcm [1]int16
		var a [1]byte
		DecodeUlaw(pcm[:], []byte{byte(c)})
		EncodeAlaw(a[:], pcm[:])
		require.Equal(t, a[0], UlawToAlaw(byte(c)))
	}
}

func TestShortBuffers(t *testing.T) {
	require.Equal(t, 2, EncodeUlaw(make([]byte, 2), make([]int16, 5)))
	require.Equal(t, 0, DecodeAlaw(nil, []byte{1, 2}))
}

func BenchmarkEncodeFrame(b *testing.B) {
	pcm := make([]int16, 160)
	for i := range pcm {
		pcm[i] = int16(i * 200)
	}
	out := make([]byte, 160)
	b.ReportAllocs()
	for b.Loop() {
		EncodeUlaw(out, pcm)
	}
}

func BenchmarkDecodeFrame(b *testing.B) {
	in := make([]byte, 160)
	out := make([]int16, 160)
	b.ReportAllocs()
	for b.Loop() {
		DecodeUlaw(out, in)
	}
}
