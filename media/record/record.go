package record

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/voxrun/voxrun/media"
	"github.com/voxrun/voxrun/media/clock"
	"github.com/voxrun/voxrun/media/wav"
)

// Pacer is the shared clock a recording registers with (*clock.Clock).
type Pacer interface {
	Register(t clock.Ticker) (unregister func(), err error)
}

// Config shapes a recording.
type Config struct {
	// Stereo records two parties, Left and Right; otherwise Left only.
	Stereo bool
	// MaxDuration bounds the recording (0: none).
	MaxDuration time.Duration
	// MaxBytes bounds the file's audio data (0: the 4 GiB WAV limit).
	MaxBytes int64
	// OnTruncated is called once, from the writer goroutine, when the
	// recording stops early: ErrLimit, ErrOverrun, or the disk's error.
	OnTruncated func(err error)
}

// backlog is how many ticks of audio may wait for the disk: one second.
const backlog = 50

type chunk struct {
	left, right [media.FrameSamples]int16
}

// side queues one party's frames between its endpoint and the clock.
type side struct {
	mu     sync.Mutex
	frames [4][media.FrameSamples]int16
	head   int
	n      int
}

// WriteFrame queues a frame (media.Sink); beyond a few frames the oldest is
// dropped, so a burst cannot delay a channel.
func (s *side) WriteFrame(f []int16) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := (s.head + s.n) % len(s.frames)
	if s.n == len(s.frames) {
		s.head = (s.head + 1) % len(s.frames)
	} else {
		s.n++
	}
	copy(s.frames[i][:], f)
	return nil
}

func (s *side) pop(dst *[media.FrameSamples]int16) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n == 0 {
		clear(dst[:])
		return
	}
	*dst = s.frames[s.head]
	s.head = (s.head + 1) % len(s.frames)
	s.n--
}

// Recorder is one recording in progress.
type Recorder struct {
	cfg        Config
	w          *wav.Writer
	left       side
	right      side
	ch         chan chunk
	overrun    chan struct{} // Tick tells the writer the disk fell behind
	notifyOnce sync.Once
	unregister func()

	mu        sync.Mutex
	stopped   bool // no more chunks are queued
	truncated error

	closeOnce sync.Once
	closeErr  error
	wg        sync.WaitGroup
}

var _ media.Sink = (*side)(nil)

// New starts recording into file (positioned at its start; the recorder
// does not close it) on the clock. Feed it by adding Left (and Right) as
// sinks of the parties' endpoints.
func New(clk Pacer, file io.WriteSeeker, cfg Config) (*Recorder, error) {
	channels := 1
	if cfg.Stereo {
		channels = 2
	}
	maxBytes := cfg.MaxBytes
	if cfg.MaxDuration > 0 {
		d := int64(cfg.MaxDuration/media.FrameDuration) * media.FrameSamples * int64(channels) * 2
		if maxBytes <= 0 || d < maxBytes {
			maxBytes = d
		}
	}
	w, err := wav.NewWriter(file, wav.WriterConfig{SampleRate: media.SampleRate, Channels: channels, MaxBytes: maxBytes})
	if err != nil {
		return nil, fmt.Errorf("media/record: %w", err)
	}
	r := &Recorder{cfg: cfg, w: w, ch: make(chan chunk, backlog), overrun: make(chan struct{}, 1)}
	r.wg.Go(r.write)
	if r.unregister, err = clk.Register(r); err != nil {
		close(r.ch)
		r.wg.Wait()
		return nil, fmt.Errorf("media/record: %w", err)
	}
	return r, nil
}

// Left is the sink of the first (or only) party.
func (r *Recorder) Left() media.Sink { return &r.left }

// Right is the sink of the second party of a stereo recording.
func (r *Recorder) Right() media.Sink { return &r.right }

// Tick takes one frame per party and queues them for the disk; it never
// blocks: if the disk is a second behind, the recording stops as truncated.
func (r *Recorder) Tick(time.Time) {
	var c chunk
	r.left.pop(&c.left)
	if r.cfg.Stereo {
		r.right.pop(&c.right)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return
	}
	select {
	case r.ch <- c:
	default:
		r.stopLocked(ErrOverrun)
		select {
		case r.overrun <- struct{}{}:
		default:
		}
	}
}

// stopLocked stops queueing and records the first reason.
func (r *Recorder) stopLocked(cause error) {
	if r.truncated == nil {
		r.truncated = cause
	}
	r.stopped = true
}

// notify calls OnTruncated once, on the writer goroutine.
func (r *Recorder) notify() {
	r.notifyOnce.Do(func() {
		if cause := r.Truncated(); cause != nil && r.cfg.OnTruncated != nil {
			r.cfg.OnTruncated(cause)
		}
	})
}

// write is the recording's writer goroutine: it drains the queue to disk
// until Close, and stops writing (but keeps draining) once truncated.
func (r *Recorder) write() {
	failed := false
	for {
		select {
		case <-r.overrun:
			failed = true
			r.notify()
		case c, ok := <-r.ch:
			if !ok {
				return
			}
			if failed {
				continue
			}
			if err := r.writeChunk(&c); err != nil {
				failed = true
				r.mu.Lock()
				r.stopLocked(err)
				r.mu.Unlock()
				r.notify()
			}
		}
	}
}

// writeChunk writes one tick; a bound reached is ErrLimit, a disk failure
// its own error.
func (r *Recorder) writeChunk(c *chunk) error {
	var err error
	if r.cfg.Stereo {
		err = r.w.WriteStereo(c.left[:], c.right[:])
	} else {
		err = r.w.Write(c.left[:])
	}
	// The bare sentinel is the writer's own bound; a disk error comes
	// wrapped with it, so compare identity, not errors.Is.
	if err == wav.ErrTruncated {
		return ErrLimit
	}
	return err
}

// Truncated returns why the recording stopped early, or nil.
func (r *Recorder) Truncated() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.truncated
}

// Duration is the audio written so far.
func (r *Recorder) Duration() time.Duration {
	return time.Duration(r.w.Frames()) * time.Second / media.SampleRate
}

// Close stops the recording, waits for the queued audio to reach the file
// and finalises its header; it is idempotent. The file stays open.
func (r *Recorder) Close() error {
	r.closeOnce.Do(func() {
		r.unregister()
		r.mu.Lock()
		r.stopped = true
		r.mu.Unlock()
		close(r.ch)
		r.wg.Wait()
		r.closeErr = r.w.Close()
	})
	return r.closeErr
}
