package media

import (
	"io"
	"time"
)

// The unit between stages: 20 ms of 16-bit linear PCM at 8 kHz, mono.
const (
	// SampleRate is the rate of every frame, in samples per second.
	SampleRate = 8000
	// FrameDuration is the length of one frame.
	FrameDuration = 20 * time.Millisecond
	// FrameSamples is the number of samples in one frame (160 at 8 kHz).
	FrameSamples = SampleRate * 20 / 1000
)

// NewFrame returns a zeroed frame (silence) of FrameSamples samples.
func NewFrame() []int16 { return make([]int16, FrameSamples) }

// Source produces frames, one per call. ReadFrame fills frame (which is
// FrameSamples long and owned by the caller) and must not block: it runs on
// the shared pacing clock. It returns io.EOF when the source is exhausted;
// the caller then sends silence or moves to the next source.
type Source interface {
	ReadFrame(frame []int16) error
}

// Sink consumes frames. WriteFrame must not block and must not keep frame
// after it returns (the caller reuses the buffer).
type Sink interface {
	WriteFrame(frame []int16) error
}

// SourceFunc adapts a function to a Source.
type SourceFunc func(frame []int16) error

// ReadFrame calls f.
func (f SourceFunc) ReadFrame(frame []int16) error { return f(frame) }

// SinkFunc adapts a function to a Sink.
type SinkFunc func(frame []int16) error

// WriteFrame calls f.
func (f SinkFunc) WriteFrame(frame []int16) error { return f(frame) }

var (
	_ Source = SourceFunc(nil)
	_ Sink   = SinkFunc(nil)
)

// Silence returns a Source of endless silence (the comfort source of a leg
// with nothing to play).
func Silence() Source { return silence{} }

type silence struct{}

func (silence) ReadFrame(frame []int16) error {
	clear(frame)
	return nil
}

// Fill copies samples into frames of FrameSamples and returns a Source that
// plays them once, padding the last frame with silence, then returns io.EOF.
// It is meant for tests and short prompts held in memory.
func Fill(samples []int16) Source {
	pos := 0
	return SourceFunc(func(frame []int16) error {
		if pos >= len(samples) {
			return io.EOF
		}
		n := copy(frame, samples[pos:])
		clear(frame[n:])
		pos += n
		return nil
	})
}
