package wav

import (
	"errors"
	"fmt"
	"io"

	"github.com/voxrun/voxrun/media"
	"github.com/voxrun/voxrun/media/resample"
)

// Source plays a WAV stream as 20 ms frames at 8 kHz, mono. It reads ahead
// only what the next frame needs.
type Source struct {
	r       *Reader
	rs      *resample.Resampler // nil at 8 kHz
	in      []int16             // interleaved input chunk
	mono    []int16
	pending []int16 // 8 kHz samples not yet framed
	done    bool
	err     error
}

var _ media.Source = (*Source)(nil)

// NewSource reads r's header and returns a Source of its audio.
func NewSource(r io.Reader) (*Source, error) {
	w, err := NewReader(r)
	if err != nil {
		return nil, err
	}
	s := &Source{r: w}
	if w.Format.SampleRate != media.SampleRate {
		if s.rs, err = resample.New(w.Format.SampleRate, media.SampleRate); err != nil {
			return nil, fmt.Errorf("media/wav: %w", err)
		}
	}
	// One frame's worth of input per read, rounded up.
	perFrame := (w.Format.SampleRate*int(media.FrameDuration.Milliseconds()) + 999) / 1000
	s.in = make([]int16, perFrame*w.Format.Channels)
	s.mono = make([]int16, perFrame)
	return s, nil
}

// Format is the stream's own format.
func (s *Source) Format() Format { return s.r.Format }

// ReadFrame fills frame with the next 20 ms; the last frame is padded with
// silence; then io.EOF.
func (s *Source) ReadFrame(frame []int16) error {
	for len(s.pending) < len(frame) && !s.done {
		s.fill()
	}
	if len(s.pending) == 0 {
		if s.err != nil {
			return s.err
		}
		return io.EOF
	}
	n := copy(frame, s.pending)
	clear(frame[n:])
	s.pending = append(s.pending[:0], s.pending[n:]...)
	return nil
}

// fill reads one chunk, downmixes and resamples it into pending.
func (s *Source) fill() {
	n, err := s.r.Read(s.in)
	ch := s.r.Format.Channels
	frames := n / ch
	for i := range frames {
		var sum int
		for c := range ch {
			sum += int(s.in[i*ch+c])
		}
		s.mono[i] = int16(sum / ch)
	}
	if s.rs != nil {
		s.pending = s.rs.Append(s.pending, s.mono[:frames])
	} else {
		s.pending = append(s.pending, s.mono[:frames]...)
	}
	if err != nil {
		s.done = true
		if !errors.Is(err, io.EOF) {
			s.err = err
		}
		if s.rs != nil {
			s.pending = s.rs.Flush(s.pending)
		}
	}
}
