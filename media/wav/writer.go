package wav

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
)

// ErrTruncated means a Writer stopped taking samples: its limit was reached
// or the underlying file failed (disk full). What was written before is a
// valid WAV file; Close still finalises it.
var ErrTruncated = errors.New("media/wav: recording truncated")

// WriterConfig shapes a recording. Zero values mean 8 kHz mono, unbounded.
type WriterConfig struct {
	// SampleRate in Hz (8000).
	SampleRate int
	// Channels: 1, or 2 for a bridge recorded one party per channel.
	Channels int
	// MaxBytes bounds the data chunk (0: up to the 4 GiB WAV limit).
	MaxBytes int64
}

// Writer streams 16-bit PCM to a WAV file as it comes: the header is
// written first with the sizes zero and patched on Close, so that nothing
// is buffered beyond one write, and a crash leaves a file that readers of
// "unknown size" streams (this package's Reader included) still play.
type Writer struct {
	mu        sync.Mutex
	w         io.WriteSeeker
	cfg       WriterConfig
	data      int64 // data bytes written
	truncated bool
	err       error // the first write error
	closed    bool
	buf       []byte
	inter     []int16
}

const headerSize = 44

// NewWriter writes the header of a 16-bit PCM WAV stream to w.
func NewWriter(w io.WriteSeeker, cfg WriterConfig) (*Writer, error) {
	if cfg.SampleRate == 0 {
		cfg.SampleRate = 8000
	}
	if cfg.Channels == 0 {
		cfg.Channels = 1
	}
	if cfg.Channels < 1 || cfg.Channels > 2 || cfg.SampleRate < 1000 || cfg.SampleRate > 384000 {
		return nil, fmt.Errorf("%w: %d channels at %d Hz", ErrUnsupported, cfg.Channels, cfg.SampleRate)
	}
	const maxData = 0xFFFFFFFF - headerSize
	if cfg.MaxBytes <= 0 || cfg.MaxBytes > maxData {
		cfg.MaxBytes = maxData
	}
	wr := &Writer{w: w, cfg: cfg}
	if _, err := w.Write(wr.header(0xFFFFFFFF-8, 0xFFFFFFFF)); err != nil {
		return nil, fmt.Errorf("media/wav: write header: %w", err)
	}
	return wr, nil
}

func (wr *Writer) header(riffSize, dataSize uint32) []byte {
	return header(wr.cfg.SampleRate, wr.cfg.Channels, riffSize, dataSize)
}

// Header is the 44-byte header of a 16-bit PCM WAV holding dataBytes of
// samples at rate, in channels (1 or 2).
func Header(rate, channels, dataBytes int) []byte {
	return header(rate, channels, uint32(headerSize-8+dataBytes), uint32(dataBytes))
}

// EncodeMono is a whole 16-bit PCM mono WAV of samples at rate.
func EncodeMono(rate int, samples []int16) []byte {
	b := append(make([]byte, 0, headerSize+2*len(samples)), Header(rate, 1, 2*len(samples))...)
	for _, s := range samples {
		b = binary.LittleEndian.AppendUint16(b, uint16(s))
	}
	return b
}

func header(rate, channels int, riffSize, dataSize uint32) []byte {
	h := make([]byte, headerSize)
	copy(h[0:], "RIFF")
	binary.LittleEndian.PutUint32(h[4:], riffSize)
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], uint16(PCM))
	binary.LittleEndian.PutUint16(h[22:], uint16(channels))
	binary.LittleEndian.PutUint32(h[24:], uint32(rate))
	binary.LittleEndian.PutUint32(h[28:], uint32(rate*channels*2))
	binary.LittleEndian.PutUint16(h[32:], uint16(channels*2))
	binary.LittleEndian.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], dataSize)
	return h
}

// Write appends interleaved samples (whole sample frames: a multiple of
// Channels). Past the limit, or after a write error, it writes nothing more
// and returns ErrTruncated; the recording is still closed valid.
func (wr *Writer) Write(samples []int16) error {
	wr.mu.Lock()
	defer wr.mu.Unlock()
	return wr.writeLocked(samples)
}

func (wr *Writer) writeLocked(samples []int16) error {
	if wr.closed {
		return fmt.Errorf("media/wav: write after close: %w", ErrTruncated)
	}
	if wr.truncated {
		return ErrTruncated
	}
	frame := int64(2 * wr.cfg.Channels)
	n := int64(len(samples)) * 2
	n -= n % frame
	if room := wr.cfg.MaxBytes - wr.data; n > room {
		n = room - room%frame
		wr.truncated = true
	}
	if cap(wr.buf) < int(n) {
		wr.buf = make([]byte, n)
	}
	b := wr.buf[:n]
	for i := range int(n / 2) {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(samples[i]))
	}
	written, err := wr.w.Write(b)
	written -= written % int(frame)
	wr.data += int64(written)
	if err != nil {
		wr.truncated = true
		wr.err = err
		return fmt.Errorf("%w: %w", ErrTruncated, err)
	}
	if wr.truncated {
		return ErrTruncated
	}
	return nil
}

// WriteStereo interleaves two mono frames (left, right: one party each) and
// writes them, without allocating once warm; it needs a two-channel Writer.
func (wr *Writer) WriteStereo(left, right []int16) error {
	if wr.cfg.Channels != 2 {
		return fmt.Errorf("%w: stereo write to a %d-channel writer", ErrUnsupported, wr.cfg.Channels)
	}
	wr.mu.Lock()
	defer wr.mu.Unlock()
	n := min(len(left), len(right))
	if cap(wr.inter) < 2*n {
		wr.inter = make([]int16, 2*n)
	}
	inter := wr.inter[:2*n]
	for i := range n {
		inter[2*i], inter[2*i+1] = left[i], right[i]
	}
	return wr.writeLocked(inter)
}

// Truncated reports whether the recording stopped early.
func (wr *Writer) Truncated() bool {
	wr.mu.Lock()
	defer wr.mu.Unlock()
	return wr.truncated
}

// Frames is the number of sample frames written so far (divide by the
// sample rate for the duration).
func (wr *Writer) Frames() int64 {
	wr.mu.Lock()
	defer wr.mu.Unlock()
	return wr.data / int64(2*wr.cfg.Channels)
}

// Close patches the header with the real sizes (so the file is valid
// however it ended). It does not close the underlying file. It is
// idempotent; it returns the patching error, if any.
func (wr *Writer) Close() error {
	wr.mu.Lock()
	defer wr.mu.Unlock()
	if wr.closed {
		return nil
	}
	wr.closed = true
	if _, err := wr.w.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("media/wav: finalise: %w", err)
	}
	if _, err := wr.w.Write(wr.header(uint32(headerSize-8+wr.data), uint32(wr.data))); err != nil {
		return fmt.Errorf("media/wav: finalise: %w", err)
	}
	if _, err := wr.w.Seek(0, io.SeekEnd); err != nil {
		return fmt.Errorf("media/wav: finalise: %w", err)
	}
	return nil
}
