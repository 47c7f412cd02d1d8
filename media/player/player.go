package player

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/voxrun/voxrun/media"
	"github.com/voxrun/voxrun/media/resample"
)

// Options say how a Player plays.
type Options struct {
	// Loop is how many times the audio plays; 0 plays it until stopped
	// (jambonz's loop 0 or "forever"). The play verb passes 1 when its
	// loop attribute is absent. A negative count is treated as 0.
	Loop int
	// SeekOffset is where the first pass starts, in samples at 8 kHz
	// (jambonz's seekOffset: 8000 is one second). Later passes start at 0.
	SeekOffset int64
}

// Progress is how far a Player got: the figures of play's actionHook.
type Progress struct {
	// Played is how much audio was sent, over all passes.
	Played time.Duration
	// LastOffset is the position reached in the current pass, in samples
	// at 8 kHz, seek offset included (playback_last_offset_pos).
	LastOffset int64
	// Passes is how many passes played to their end.
	Passes int
	// Completed is true when every pass played to its end; false when the
	// Player was stopped, failed, or loops forever.
	Completed bool
}

// Player is a media.Source of one audio stream. ReadFrame is called by the
// leg's pacing; Stop, Wait, Progress and Close by the verb. All methods are
// safe for concurrent use.
type Player struct {
	opts   Options
	open   func() (decoder, error) // a decoder at the start of a pass
	closer io.Closer               // the file or cache entry; nil for silence

	mu       sync.Mutex
	dec      decoder
	rs       *resample.Resampler // nil at 8 kHz
	in       []int16             // one read of interleaved input
	mono     []int16
	pending  []int16 // 8 kHz samples not yet framed
	passEnd  bool    // the decoder of this pass is exhausted
	played   int64   // samples sent, all passes
	offset   int64   // samples into this pass
	passSeek int64   // where this pass started, in samples at 8 kHz
	passIn   int64   // input sample frames decoded in this pass
	stalls   int     // reads in a row that returned nothing
	passes   int
	ended    bool
	err      error // why it ended: nil (completed), ErrStopped, a read error
	closed   bool

	// capture keeps the 8 kHz output of a whole first pass (from its
	// start), in a buffer sized up front, so that later passes replay it
	// instead of decoding and resampling again, and so that onCapture can
	// store it (the Loader's transcoded cache). nil: not capturing.
	capture   []int16
	captured  bool
	onCapture func(pcm []int16)

	done chan struct{}
}

// maxStalls is how many empty reads in a row end a stream as broken.
const maxStalls = 8

// maxCapture bounds a captured pass: ten minutes at 8 kHz (9.6 MB).
const maxCapture = 10 * 60 * media.SampleRate

var _ media.Source = (*Player)(nil)

// newStreamPlayer plays rs (closed by Close when closer is not nil).
// onCapture, when not nil, receives the whole first pass at 8 kHz (see
// Player.capture).
func newStreamPlayer(rs io.ReadSeeker, closer io.Closer, opts Options, onCapture func([]int16)) (*Player, error) {
	bs := newBufferedSeeker(rs)
	p, err := newPlayer(func() (decoder, error) { return newDecoder(bs) }, closer, opts)
	if err != nil {
		return nil, err
	}
	// Capture when it pays: loops replay from memory, and the Loader
	// keeps a transcoded copy. An 8 kHz mono WAV costs nothing to replay.
	_, cheap := p.dec.(*wavDecoder)
	cheap = cheap && p.dec.rate() == media.SampleRate && p.dec.channels() == 1
	if !cheap && (opts.Loop != 1 || onCapture != nil) {
		p.captureLocked(onCapture)
	}
	return p, nil
}

// newSilencePlayer plays ms milliseconds of silence.
func newSilencePlayer(ms int64, opts Options) *Player {
	n := ms * media.SampleRate / 1000
	p, _ := newPlayer(func() (decoder, error) { return &silenceDecoder{left: n}, nil }, nil, opts)
	return p
}

func newPlayer(open func() (decoder, error), closer io.Closer, opts Options) (*Player, error) {
	p := &Player{opts: opts, open: open, closer: closer, done: make(chan struct{})}
	p.pending = make([]int16, 0, 4*media.FrameSamples)
	if err := p.startPassLocked(opts.SeekOffset); err != nil {
		if closer != nil {
			err = errors.Join(err, closer.Close())
		}
		return nil, err
	}
	return p, nil
}

// startPassLocked opens a decoder at the start of the stream, skipped by
// seek samples at 8 kHz.
func (p *Player) startPassLocked(seek int64) error {
	dec, err := p.open()
	if err != nil {
		return err
	}
	if dec.channels() < 1 || dec.rate() < 1 {
		return fmt.Errorf("%w: %d channels at %d Hz", ErrNotAudio, dec.channels(), dec.rate())
	}
	seek = max(seek, 0)
	if seek > 0 {
		if err := dec.skip(seek * int64(dec.rate()) / media.SampleRate); err != nil {
			return fmt.Errorf("media/player: seek: %w", err)
		}
	}
	same := p.dec != nil && p.dec.rate() == dec.rate() && p.dec.channels() == dec.channels()
	p.dec, p.offset, p.passSeek, p.passIn, p.passEnd = dec, seek, seek, 0, false
	p.rs = nil
	if dec.rate() != media.SampleRate {
		if p.rs, err = resample.New(dec.rate(), media.SampleRate); err != nil {
			return fmt.Errorf("%w: %w", ErrNotAudio, err)
		}
	}
	if !same {
		perRead := (dec.rate()*int(media.FrameDuration/time.Millisecond) + 999) / 1000
		p.in = make([]int16, perRead*dec.channels())
		p.mono = make([]int16, perRead)
	}
	return nil
}

// ReadFrame fills frame with the next 20 ms. The end of the last pass is
// padded with silence; then io.EOF (and the same after Stop or a read
// error, whose error Wait reports).
func (p *Player) ReadFrame(frame []int16) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ended {
		return io.EOF
	}
	for len(p.pending) < len(frame) {
		if p.passEnd {
			if len(p.pending) > 0 {
				break // play the tail of this pass before looping
			}
			p.passes++
			if p.capture != nil && !p.captured {
				// The first pass, whole: replay it from memory from now on.
				p.captured = true
				pcm := p.capture
				p.open = func() (decoder, error) { return &pcmDecoder{pcm: pcm}, nil }
			}
			if p.opts.Loop > 0 && p.passes >= p.opts.Loop {
				p.endLocked(nil)
				return io.EOF
			}
			if err := p.startPassLocked(0); err != nil {
				p.endLocked(err)
				return io.EOF
			}
			continue
		}
		if err := p.fillLocked(); err != nil {
			p.endLocked(err)
			return io.EOF
		}
	}
	n := copy(frame, p.pending)
	clear(frame[n:])
	if p.capture != nil {
		if len(p.capture)+n <= cap(p.capture) {
			p.capture = append(p.capture, p.pending[:n]...)
		} else {
			p.capture = nil // longer than it said: give up, never grow
		}
	}
	p.pending = append(p.pending[:0], p.pending[n:]...)
	p.played += int64(n)
	p.offset += int64(n)
	return nil
}

// fillLocked decodes one read, downmixes it and resamples it into pending.
func (p *Player) fillLocked() error {
	n, err := p.dec.read(p.in)
	if n == 0 && err == nil {
		// A broken stream that yields nothing forever must not hang the
		// pacing goroutine.
		if p.stalls++; p.stalls > maxStalls {
			return fmt.Errorf("%w: decoder makes no progress", ErrNotAudio)
		}
	} else {
		p.stalls = 0
	}
	ch := p.dec.channels()
	frames := n / ch
	mono := p.mono[:frames]
	p.passIn += int64(frames)
	if ch == 1 {
		copy(mono, p.in[:frames])
	} else {
		for i := range mono {
			sum := 0
			for c := range ch {
				sum += int(p.in[i*ch+c])
			}
			mono[i] = int16(sum / ch)
		}
	}
	if p.rs != nil {
		p.pending = p.rs.Append(p.pending, mono)
	} else {
		p.pending = append(p.pending, mono...)
	}
	switch {
	case errors.Is(err, io.EOF):
		p.passEnd = true
		if p.rs != nil {
			p.pending = p.rs.Flush(p.pending)
			// The filter's tail overshoots by a few ms: cut the pass to
			// the length of its input, so that the offset figures and
			// loops stay exact.
			want := p.passIn*media.SampleRate/int64(p.dec.rate()) - (p.offset - p.passSeek)
			if want >= 0 && int64(len(p.pending)) > want {
				p.pending = p.pending[:want]
			}
		}
		return nil
	case err != nil:
		return fmt.Errorf("media/player: read: %w", err)
	}
	return nil
}

func (p *Player) endLocked(err error) {
	if p.ended {
		return
	}
	p.ended, p.err = true, err
	p.pending = p.pending[:0]
	close(p.done)
}

// Stop ends playback: the next ReadFrame returns io.EOF and Wait returns
// ErrStopped. Stopping an ended Player does nothing.
func (p *Player) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.endLocked(ErrStopped)
}

// Done is closed when playback ends: completed, stopped or failed.
func (p *Player) Done() <-chan struct{} { return p.done }

// Wait blocks until playback ends or ctx does; if ctx ends first it stops
// the Player. It returns the progress and why playback ended: nil when it
// completed, ErrStopped, a read error, or ctx's cause.
func (p *Player) Wait(ctx context.Context) (Progress, error) {
	select {
	case <-p.done:
	case <-ctx.Done():
		p.mu.Lock()
		p.endLocked(context.Cause(ctx))
		p.mu.Unlock()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.progressLocked(), p.err
}

// Progress returns the figures so far.
func (p *Player) Progress() Progress {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.progressLocked()
}

func (p *Player) progressLocked() Progress {
	return Progress{
		Played:     time.Duration(p.played) * time.Second / media.SampleRate,
		LastOffset: p.offset,
		Passes:     p.passes,
		Completed:  p.ended && p.err == nil,
	}
}

// Close stops playback and releases the file. It is idempotent. When a
// whole first pass was captured, Close hands it to the Loader's transcoded
// cache (disk I/O on the caller's goroutine, never on the pacing one).
func (p *Player) Close() error {
	p.mu.Lock()
	p.endLocked(ErrStopped)
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	closer, onCapture, pcm := p.closer, p.onCapture, p.capture
	if !p.captured {
		pcm = nil
	}
	p.capture = nil
	p.mu.Unlock()
	if onCapture != nil && pcm != nil {
		onCapture(pcm)
	}
	if closer == nil {
		return nil
	}
	if err := closer.Close(); err != nil {
		return fmt.Errorf("media/player: close: %w", err)
	}
	return nil
}

// captureLocked starts capturing the first pass when it starts at 0 and
// its length is known and bounded.
func (p *Player) captureLocked(onCapture func([]int16)) {
	if p.opts.SeekOffset > 0 || p.dec == nil {
		return
	}
	frames := p.dec.length()
	if frames < 0 {
		return
	}
	want := frames*media.SampleRate/int64(p.dec.rate()) + media.FrameSamples
	if want > maxCapture {
		return
	}
	p.capture = make([]int16, 0, want)
	p.onCapture = onCapture
}
