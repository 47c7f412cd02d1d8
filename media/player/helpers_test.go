package player

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/voxrun/voxrun/media"
	"github.com/voxrun/voxrun/media/g711"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// wavFormat is what a generated WAV holds.
type wavFormat struct {
	tag      uint16 // 1 PCM, 6 A-law, 7 µ-law
	rate     int
	channels int
}

// tone is amplitude·sin(2π·f·t) for each of segs, one after the other.
type seg struct {
	freq    float64
	seconds float64
}

func synth(rate int, amp float64, segs ...seg) []int16 {
	var out []int16
	for _, s := range segs {
		n := int(float64(rate) * s.seconds)
		for i := range n {
			out = append(out, int16(amp*math.Sin(2*math.Pi*s.freq*float64(i)/float64(rate))))
		}
	}
	return out
}

// makeWAV writes mono samples as a WAV of format f (each channel a copy).
func makeWAV(f wavFormat, mono []int16) []byte {
	var data bytes.Buffer
	bits := 16
	switch f.tag {
	case 1:
		for _, s := range mono {
			for range f.channels {
				_ = binary.Write(&data, binary.LittleEndian, s)
			}
		}
	default:
		bits = 8
		enc := make([]byte, len(mono))
		if f.tag == 7 {
			g711.EncodeUlaw(enc, mono)
		} else {
			g711.EncodeAlaw(enc, mono)
		}
		for _, b := range enc {
			for range f.channels {
				data.WriteByte(b)
			}
		}
	}
	var out bytes.Buffer
	out.WriteString("RIFF")
	_ = binary.Write(&out, binary.LittleEndian, uint32(4+8+16+8+12+8+data.Len()))
	out.WriteString("WAVE")
	out.WriteString("fmt ")
	_ = binary.Write(&out, binary.LittleEndian, uint32(16))
	blockAlign := f.channels * bits / 8
	for _, v := range []any{f.tag, uint16(f.channels), uint32(f.rate), uint32(f.rate * blockAlign), uint16(blockAlign), uint16(bits)} {
		_ = binary.Write(&out, binary.LittleEndian, v)
	}
	// A LIST chunk before data, as many tools write: the reader skips it.
	out.WriteString("LIST")
	_ = binary.Write(&out, binary.LittleEndian, uint32(4))
	out.WriteString("INFO")
	out.WriteString("data")
	_ = binary.Write(&out, binary.LittleEndian, uint32(data.Len()))
	out.Write(data.Bytes())
	return out.Bytes()
}

func writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, b, 0o600))
	return path
}

// drain reads a Source to io.EOF (at most max frames) and returns the
// samples and the number of frames.
func drain(t *testing.T, src media.Source, max int) ([]int16, int) {
	t.Helper()
	frame := media.NewFrame()
	var all []int16
	for n := 0; n < max; n++ {
		err := src.ReadFrame(frame)
		if errors.Is(err, io.EOF) {
			return all, n
		}
		require.NoError(t, err)
		all = append(all, frame...)
	}
	return all, max
}

// goertzel returns the RMS level of freq in x (8 kHz).
func goertzel(x []int16, freq float64) float64 {
	w := 2 * math.Pi * freq / media.SampleRate
	c := 2 * math.Cos(w)
	var s1, s2 float64
	for _, v := range x {
		s0 := float64(v) + c*s1 - s2
		s2, s1 = s1, s0
	}
	power := s1*s1 + s2*s2 - c*s1*s2
	return math.Sqrt(2*power) / float64(len(x)) // amplitude/√2·… → RMS of that component
}

func rms(x []int16) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s / float64(max(1, len(x))))
}

func dB(ratio float64) float64 { return 20 * math.Log10(max(ratio, 1e-9)) }

// middle drops the first and last tenth (filter and codec transients).
func middle(x []int16) []int16 { return x[len(x)/10 : len(x)-len(x)/10] }
