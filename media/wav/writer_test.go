package wav

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// readBack reads a whole WAV file with this package's Reader.
func readBack(t *testing.T, b []byte) (Format, []int16) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(b))
	require.NoError(t, err)
	var out []int16
	buf := make([]int16, 100)
	for {
		n, err := r.Read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return r.Format, out
		}
		require.NoError(t, err)
	}
}

func ramp(n int, step int16) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(i) * step
	}
	return out
}

func TestWriterRoundTrip(t *testing.T) {
	cases := []struct {
		name     string
		cfg      WriterConfig
		stereo   bool
		frames   int
		want     int // samples read back
		truncate bool
	}{
		{"mono 8 kHz", WriterConfig{}, false, 5, 800, false},
		{"stereo bridge", WriterConfig{Channels: 2}, true, 5, 1600, false},
		{"size bound stops mid-frame on a whole sample frame", WriterConfig{MaxBytes: 500}, false, 5, 250, true},
		{"stereo size bound", WriterConfig{Channels: 2, MaxBytes: 1002}, true, 5, 500, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "rec.wav")
			f, err := os.Create(path)
			require.NoError(t, err)
			defer f.Close()
			w, err := NewWriter(f, tc.cfg)
			require.NoError(t, err)
			var wantSamples []int16
			var lastErr error
			for i := range tc.frames {
				a, b := ramp(160, int16(i+1)), ramp(160, -int16(i+1))
				if tc.stereo {
					lastErr = w.WriteStereo(a, b)
					for k := range a {
						wantSamples = append(wantSamples, a[k], b[k])
					}
				} else {
					lastErr = w.Write(a)
					wantSamples = append(wantSamples, a...)
				}
			}
			require.Equal(t, tc.truncate, w.Truncated())
			if tc.truncate {
				require.ErrorIs(t, lastErr, ErrTruncated)
			} else {
				require.NoError(t, lastErr)
			}
			require.NoError(t, w.Close())
			require.NoError(t, w.Close())
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			format, got := readBack(t, b)
			require.Equal(t, max(1, tc.cfg.Channels), format.Channels)
			require.Equal(t, 8000, format.SampleRate)
			require.Equal(t, wantSamples[:tc.want], got)
			require.Equal(t, int64(tc.want/format.Channels), w.Frames())
		})
	}
}

// diskFull is a file that fails once limit bytes were written, like a full
// disk, but still lets the header be rewritten in place.
type diskFull struct {
	bytes.Buffer
	limit int
	pos   int
	data  []byte
}

func (d *diskFull) Write(p []byte) (int, error) {
	n := len(p)
	if d.pos+n > len(d.data) && d.pos+n > d.limit {
		n = max(0, d.limit-d.pos)
	}
	if end := d.pos + n; end > len(d.data) {
		d.data = append(d.data, make([]byte, end-len(d.data))...)
	}
	copy(d.data[d.pos:], p[:n])
	d.pos += n
	if n < len(p) {
		return n, errors.New("no space left on device")
	}
	return n, nil
}

func (d *diskFull) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
		d.pos = int(off)
	case io.SeekEnd:
		d.pos = len(d.data) + int(off)
	}
	return int64(d.pos), nil
}

func TestWriterDiskFullKeepsAValidFile(t *testing.T) {
	disk := &diskFull{limit: headerSize + 1001} // room for 500 samples and a half
	w, err := NewWriter(disk, WriterConfig{})
	require.NoError(t, err)
	require.NoError(t, w.Write(ramp(160, 1)))
	require.NoError(t, w.Write(ramp(160, 2)))
	err = w.Write(ramp(320, 3))
	require.ErrorIs(t, err, ErrTruncated)
	require.ErrorContains(t, err, "no space left")
	require.ErrorIs(t, w.Write(ramp(160, 4)), ErrTruncated, "nothing more is written")
	require.True(t, w.Truncated())
	require.NoError(t, w.Close())
	_, got := readBack(t, disk.data)
	require.Len(t, got, 500)
	require.Equal(t, ramp(160, 1), got[:160])
}

func TestWriterCrashBeforeCloseStillPlays(t *testing.T) {
	disk := &diskFull{limit: 1 << 20}
	w, err := NewWriter(disk, WriterConfig{})
	require.NoError(t, err)
	require.NoError(t, w.Write(ramp(160, 1)))
	// No Close: the header still says "size unknown".
	_, got := readBack(t, disk.data)
	require.Equal(t, ramp(160, 1), got)
}

func TestWriterRefusesBadConfig(t *testing.T) {
	_, err := NewWriter(&diskFull{limit: 100}, WriterConfig{Channels: 3})
	require.ErrorIs(t, err, ErrUnsupported)
	w, err := NewWriter(&diskFull{limit: 1000}, WriterConfig{})
	require.NoError(t, err)
	require.ErrorIs(t, w.WriteStereo(nil, nil), ErrUnsupported)
}

// discard is a WriteSeeker that keeps nothing.
type discard struct{}

func (discard) Write(p []byte) (int, error)    { return len(p), nil }
func (discard) Seek(int64, int) (int64, error) { return 0, nil }

func TestWriterStereoDoesNotAllocate(t *testing.T) {
	w, err := NewWriter(discard{}, WriterConfig{Channels: 2})
	require.NoError(t, err)
	a, b := ramp(160, 1), ramp(160, 2)
	require.NoError(t, w.WriteStereo(a, b))
	require.Zero(t, testing.AllocsPerRun(100, func() { _ = w.WriteStereo(a, b) }))
}
