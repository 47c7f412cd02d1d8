package wav

import (
	"bytes"
	"encoding/binary"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/media"
)

// readAll plays a source to the end and returns its samples and frame count.
func readAll(t *testing.T, s media.Source) ([]int16, int) {
	t.Helper()
	frame := media.NewFrame()
	var out []int16
	frames := 0
	for {
		err := s.ReadFrame(frame)
		if err == io.EOF {
			return out, frames
		}
		require.NoError(t, err)
		frames++
		require.Less(t, frames, 10000)
		out = append(out, frame...)
	}
}

func rms(x []int16) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s / float64(len(x)))
}

// zeroCrossings counts sign changes (a 1 kHz tone at 8 kHz: 2 per ms).
func zeroCrossings(x []int16) int {
	n := 0
	for i := 1; i < len(x); i++ {
		if (x[i-1] < 0) != (x[i] < 0) {
			n++
		}
	}
	return n
}

// TestRealFiles plays files that sox wrote: 0.2 s of a 1 kHz sine at half
// scale in every encoding and rate a prompt may come in.
func TestRealFiles(t *testing.T) {
	cases := []struct {
		file   string
		format Format
	}{
		{"tone_8k_s16.wav", Format{PCM, 1, 8000, 16}},
		{"tone_8k_ulaw.wav", Format{MuLaw, 1, 8000, 8}},
		{"tone_8k_alaw.wav", Format{ALaw, 1, 8000, 8}},
		{"tone_16k_s24.wav", Format{PCM, 1, 16000, 24}}, // WAVE_FORMAT_EXTENSIBLE
		{"tone_22k05_u8.wav", Format{PCM, 1, 22050, 8}},
		{"tone_44k1_stereo_s16.wav", Format{PCM, 2, 44100, 16}},
		{"tone_48k_f32.wav", Format{Float, 1, 48000, 32}},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", tc.file))
			require.NoError(t, err)
			defer f.Close()
			s, err := NewSource(f)
			require.NoError(t, err)
			require.Equal(t, tc.format, s.Format())
			samples, frames := readAll(t, s)
			require.InDelta(t, 10, frames, 1, "0.2 s is ten frames")
			mid := samples[400:1200] // 100 ms away from the edges
			require.InDelta(t, 2*100, zeroCrossings(mid), 3, "still 1 kHz")
			require.InDelta(t, 16384/math.Sqrt2, rms(mid), 600, "still half scale")
		})
	}
}

// wavBytes writes a WAV stream for the edge cases.
func wavBytes(tag uint16, channels, rate, bits int, data []byte, extra ...[]byte) []byte {
	var b bytes.Buffer
	b.WriteString("RIFF")
	_ = binary.Write(&b, binary.LittleEndian, uint32(0)) // sizes are not checked
	b.WriteString("WAVE")
	for _, c := range extra {
		b.Write(c)
	}
	b.WriteString("fmt ")
	_ = binary.Write(&b, binary.LittleEndian, uint32(16))
	blockAlign := channels * bits / 8
	for _, v := range []any{tag, uint16(channels), uint32(rate), uint32(rate * blockAlign), uint16(blockAlign), uint16(bits)} {
		_ = binary.Write(&b, binary.LittleEndian, v)
	}
	b.WriteString("data")
	_ = binary.Write(&b, binary.LittleEndian, uint32(len(data)))
	b.Write(data)
	return b.Bytes()
}

func s16(v ...int16) []byte {
	b := make([]byte, 2*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(x))
	}
	return b
}

func TestReaderEdgeCases(t *testing.T) {
	streaming := wavBytes(1, 1, 8000, 16, s16(1, 2, 3))
	copy(streaming[len(streaming)-10:], []byte{0xFF, 0xFF, 0xFF, 0xFF}) // data size unknown
	cases := []struct {
		name    string
		in      []byte
		want    []int16
		wantErr error
	}{
		{"plain", wavBytes(1, 1, 8000, 16, s16(1, -2, 3)), []int16{1, -2, 3}, nil},
		{"odd-sized LIST chunk before fmt is skipped with its pad byte",
			wavBytes(1, 1, 8000, 16, s16(7), []byte("LIST\x03\x00\x00\x00abc\x00")), []int16{7}, nil},
		{"unknown data size reads to EOF", streaming, []int16{1, 2, 3}, nil},
		{"truncated last sample dropped", wavBytes(1, 1, 8000, 16, append(s16(5, 6), 0x01)), []int16{5, 6}, nil},
		{"8-bit unsigned", wavBytes(1, 1, 8000, 8, []byte{0, 128, 255}), []int16{-32768, 0, 32512}, nil},
		{"stereo interleaved", wavBytes(1, 2, 8000, 16, s16(1, 2, 3, 4)), []int16{1, 2, 3, 4}, nil},
		{"not RIFF", []byte("OggS....WAVE"), nil, ErrNotWAV},
		{"empty", nil, nil, ErrNotWAV},
		{"no data chunk", wavBytes(1, 1, 8000, 16, nil)[:36], nil, ErrNotWAV},
		{"ADPCM is unsupported", wavBytes(2, 1, 8000, 4, []byte{1}), nil, ErrUnsupported},
		{"12-bit PCM is unsupported", wavBytes(1, 1, 8000, 12, []byte{1}), nil, ErrUnsupported},
		{"zero channels", wavBytes(1, 0, 8000, 16, nil), nil, ErrUnsupported},
		{"huge chunk refused", append([]byte("RIFF\x00\x00\x00\x00WAVEjunk"), 0xFF, 0xFF, 0xFF, 0x7F), nil, ErrNotWAV},
		{"data before fmt", []byte("RIFF\x00\x00\x00\x00WAVEdata\x02\x00\x00\x00\x01\x00"), nil, ErrNotWAV},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(tc.in))
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			var got []int16
			buf := make([]int16, 2)
			for {
				n, err := r.Read(buf)
				got = append(got, buf[:n]...)
				if err == io.EOF {
					break
				}
				require.NoError(t, err)
			}
			require.Equal(t, tc.want, got)
		})
	}
}

func TestSourceDownmixesAndPads(t *testing.T) {
	s, err := NewSource(bytes.NewReader(wavBytes(1, 2, 8000, 16, s16(100, 300, -100, -300))))
	require.NoError(t, err)
	samples, frames := readAll(t, s)
	require.Equal(t, 1, frames)
	require.Equal(t, []int16{200, -200}, samples[:2])
	require.Equal(t, make([]int16, 158), samples[2:], "padded with silence")
}

func FuzzReader(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.wav"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b[:min(len(b), 200)])
	}
	f.Add(wavBytes(1, 1, 8000, 16, s16(1, 2, 3)))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := NewSource(bytes.NewReader(b))
		if err != nil {
			return
		}
		frame := media.NewFrame()
		for range 1000 {
			if err := s.ReadFrame(frame); err != nil {
				return
			}
		}
	})
}
