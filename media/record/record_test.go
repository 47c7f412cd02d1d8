package record

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/voxrun/voxrun/media"
	"github.com/voxrun/voxrun/media/mediatest"
	"github.com/voxrun/voxrun/media/virtual"
	"github.com/voxrun/voxrun/media/wav"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func constant(v int16) media.Source {
	return media.SourceFunc(func(f []int16) error {
		for i := range f {
			f[i] = v
		}
		return nil
	})
}

func readWAV(t *testing.T, path string) (wav.Format, []int16) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	r, err := wav.NewReader(bytes.NewReader(b))
	require.NoError(t, err)
	var out []int16
	buf := make([]int16, 1024)
	for {
		n, err := r.Read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return r.Format, out
		}
		require.NoError(t, err)
	}
}

// TestStereoBridgeRecording records both parties of a bridge from their
// virtual legs: one party per channel, aligned, and a party that is silent
// for a while still has its channel filled.
func TestStereoBridgeRecording(t *testing.T) {
	clk := mediatest.NewManualClock(time.Unix(0, 0))
	legA, farA, err := virtual.NewPair(clk)
	require.NoError(t, err)
	defer legA.Close()
	legB, farB, err := virtual.NewPair(clk)
	require.NoError(t, err)
	defer legB.Close()
	farA.SetSource(constant(111))
	farB.SetSource(constant(-222))

	path := filepath.Join(t.TempDir(), "call.wav")
	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()
	rec, err := New(clk, f, Config{Stereo: true})
	require.NoError(t, err)
	legA.AddSink(rec.Left())
	removeB := legB.AddSink(rec.Right())

	clk.Tick(10)
	removeB() // b goes quiet (say, on hold)
	clk.Tick(5)
	require.NoError(t, rec.Close())
	require.NoError(t, rec.Close())
	require.Nil(t, rec.Truncated())

	format, samples := readWAV(t, path)
	require.Equal(t, 2, format.Channels)
	require.Equal(t, 15*160*2, len(samples), "one stereo frame per tick")
	for i := 0; i < len(samples); i += 2 {
		require.Equal(t, int16(111), samples[i], "left is party a")
	}
	right := func(frame int) int16 { return samples[frame*320+1] }
	require.Equal(t, int16(-222), right(2))
	require.Equal(t, int16(0), right(13), "a silent party's channel is filled with silence")
	require.Equal(t, 300*time.Millisecond, rec.Duration())
}

func TestDurationBound(t *testing.T) {
	clk := mediatest.NewManualClock(time.Unix(0, 0))
	leg, far, err := virtual.NewPair(clk)
	require.NoError(t, err)
	defer leg.Close()
	far.SetSource(constant(5))
	path := filepath.Join(t.TempDir(), "leg.wav")
	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()
	var mu sync.Mutex
	var causes []error
	rec, err := New(clk, f, Config{MaxDuration: 100 * time.Millisecond, OnTruncated: func(err error) {
		mu.Lock()
		causes = append(causes, err)
		mu.Unlock()
	}})
	require.NoError(t, err)
	leg.AddSink(rec.Left())
	clk.Tick(20)
	require.NoError(t, rec.Close())
	require.ErrorIs(t, rec.Truncated(), ErrLimit)
	mu.Lock()
	require.Equal(t, []error{ErrLimit}, causes, "told once")
	mu.Unlock()
	format, samples := readWAV(t, path)
	require.Equal(t, 1, format.Channels)
	require.Len(t, samples, 5*160, "100 ms, then nothing more")
}

// full is a file on a disk that fills up after limit bytes.
type full struct {
	data  []byte
	pos   int
	limit int
}

func (d *full) Write(p []byte) (int, error) {
	n := len(p)
	if d.pos+n > d.limit && d.pos+n > len(d.data) {
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

func (d *full) Seek(off int64, whence int) (int64, error) {
	if whence == io.SeekEnd {
		d.pos = len(d.data) + int(off)
	} else {
		d.pos = int(off)
	}
	return int64(d.pos), nil
}

func TestDiskFullKeepsTheCallAndAValidFile(t *testing.T) {
	clk := mediatest.NewManualClock(time.Unix(0, 0))
	leg, far, err := virtual.NewPair(clk)
	require.NoError(t, err)
	defer leg.Close()
	far.SetSource(constant(9))
	heard := &mediatest.Collector{}
	leg.AddSink(heard)
	disk := &full{limit: 44 + 3*320}
	told := make(chan error, 1)
	rec, err := New(clk, disk, Config{OnTruncated: func(err error) { told <- err }})
	require.NoError(t, err)
	leg.AddSink(rec.Left())
	clk.Tick(10)
	require.NoError(t, rec.Close())
	require.ErrorContains(t, <-told, "no space left on device")
	require.ErrorContains(t, rec.Truncated(), "no space left")
	require.Len(t, heard.Frames(), 10, "the call went on")
	r, err := wav.NewReader(bytes.NewReader(disk.data))
	require.NoError(t, err)
	buf := make([]int16, 2000)
	n, _ := r.Read(buf)
	require.Equal(t, 3*160, n, "what fitted is there, and the header says so")
}

// slow is a disk that blocks until released.
type slow struct {
	release chan struct{}
}

func (s *slow) Write(p []byte) (int, error) {
	<-s.release
	return len(p), nil
}
func (s *slow) Seek(int64, int) (int64, error) { return 0, nil }

func TestSlowDiskNeverBlocksTheClock(t *testing.T) {
	clk := mediatest.NewManualClock(time.Unix(0, 0))
	disk := &slow{release: make(chan struct{})}
	done := make(chan *Recorder)
	go func() {
		rec, err := New(clk, disk, Config{})
		if err != nil {
			panic(err)
		}
		done <- rec
	}()
	disk.release <- struct{}{} // the header
	rec := <-done
	start := time.Now()
	clk.Tick(200) // 4 s of audio against a stuck disk
	require.Less(t, time.Since(start), time.Second, "ticks did not wait for the disk")
	require.ErrorIs(t, rec.Truncated(), ErrOverrun)
	close(disk.release)
	require.NoError(t, rec.Close())
}
