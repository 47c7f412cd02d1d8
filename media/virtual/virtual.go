package virtual

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/voxrun/voxrun/media"
	"github.com/voxrun/voxrun/media/clock"
	"github.com/voxrun/voxrun/media/dtmf"
)

// Pacer is the shared clock a pair registers with (*clock.Clock, or
// mediatest.ManualClock in tests).
type Pacer interface {
	Register(t clock.Ticker) (unregister func(), err error)
}

// Pair is two endpoints joined back to back.
type Pair struct {
	mu         sync.Mutex
	ends       [2]*Endpoint
	closed     bool
	unregister func()
	closeOnce  sync.Once
	scratch    [2][]media.Sink // sinks to call, reused by Tick
}

// Endpoint is one end of a Pair. It implements media.Endpoint.
type Endpoint struct {
	pair  *Pair
	side  int
	frame []int16 // only Tick touches it

	// Guarded by pair.mu.
	source  media.Source
	gen     uint64 // bumped by SetSource
	sinks   []*sinkEntry
	onDigit media.DigitSink
	digits  []*digitRequest
	stats   media.Stats
}

var _ media.Endpoint = (*Endpoint)(nil)

type sinkEntry struct{ s media.Sink }

type digitRequest struct {
	key      byte
	d        time.Duration
	ticks    int
	done     chan struct{}
	err      error
	canceled bool
}

// NewPair returns two joined endpoints, registered with clock: the first is
// the call's leg, the second the simulated party. Closing either closes both.
func NewPair(clock Pacer) (leg, party *Endpoint, err error) {
	p := &Pair{}
	for i := range p.ends {
		p.ends[i] = &Endpoint{pair: p, side: i, frame: media.NewFrame()}
	}
	p.unregister, err = clock.Register(p)
	if err != nil {
		return nil, nil, fmt.Errorf("media/virtual: %w", err)
	}
	return p.ends[0], p.ends[1], nil
}

func (e *Endpoint) other() *Endpoint { return e.pair.ends[1-e.side] }

// SetSource makes src what this end sends; nil means silence.
func (e *Endpoint) SetSource(src media.Source) {
	e.pair.mu.Lock()
	defer e.pair.mu.Unlock()
	e.source = src
	e.gen++
}

// AddSink adds a receiver of what the other end sends.
func (e *Endpoint) AddSink(s media.Sink) (remove func()) {
	entry := &sinkEntry{s: s}
	e.pair.mu.Lock()
	e.sinks = append(e.sinks, entry)
	e.pair.mu.Unlock()
	return func() {
		e.pair.mu.Lock()
		defer e.pair.mu.Unlock()
		for i, x := range e.sinks {
			if x == entry {
				e.sinks = append(e.sinks[:i], e.sinks[i+1:]...)
				return
			}
		}
	}
}

// OnDigit sets the receiver of digits the other end sends.
func (e *Endpoint) OnDigit(s media.DigitSink) {
	e.pair.mu.Lock()
	defer e.pair.mu.Unlock()
	e.onDigit = s
}

// SendDigit sends key to the other end, held for d (rounded up to whole
// frames), and returns once the other end has it.
func (e *Endpoint) SendDigit(ctx context.Context, key byte, d time.Duration) error {
	if _, err := dtmf.CodeOf(key); err != nil {
		return fmt.Errorf("media/virtual: send digit %q: %w", key, err)
	}
	ticks := max(1, int((d+media.FrameDuration-1)/media.FrameDuration))
	r := &digitRequest{key: key, d: time.Duration(ticks) * media.FrameDuration, ticks: ticks, done: make(chan struct{})}
	e.pair.mu.Lock()
	if e.pair.closed {
		e.pair.mu.Unlock()
		return media.ErrClosed
	}
	e.digits = append(e.digits, r)
	e.pair.mu.Unlock()
	select {
	case <-r.done:
		return r.err
	case <-ctx.Done():
		e.pair.mu.Lock()
		r.canceled = true
		e.pair.mu.Unlock()
		return context.Cause(ctx)
	}
}

// Stats counts frames as packets (of 160 octets, as G.711 would carry
// them); nothing is ever lost.
func (e *Endpoint) Stats() media.Stats {
	e.pair.mu.Lock()
	defer e.pair.mu.Unlock()
	return e.stats
}

// Close closes the pair (both ends); it is idempotent.
func (e *Endpoint) Close() error { return e.pair.close() }

func (p *Pair) close() error {
	p.closeOnce.Do(func() {
		p.unregister()
		p.mu.Lock()
		p.closed = true
		var pending []*digitRequest
		for _, e := range p.ends {
			pending = append(pending, e.digits...)
			e.digits = nil
		}
		p.mu.Unlock()
		for _, r := range pending {
			r.err = media.ErrClosed
			close(r.done)
		}
	})
	return nil
}

// Tick moves one frame each way and advances digits. Sources are read and
// sinks written outside the pair's lock, so they may call back into it.
func (p *Pair) Tick(time.Time) {
	var (
		sources [2]media.Source
		gens    [2]uint64
		arrived [2]*media.Digit
		targets [2]media.DigitSink
		done    []*digitRequest
	)
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	for i, e := range p.ends {
		sources[i], gens[i] = e.source, e.gen
		o := e.other()
		p.scratch[1-i] = p.scratch[1-i][:0]
		for _, s := range o.sinks {
			p.scratch[1-i] = append(p.scratch[1-i], s.s)
		}
		for len(e.digits) > 0 && e.digits[0].canceled {
			e.digits = e.digits[1:]
		}
		if len(e.digits) > 0 {
			r := e.digits[0]
			r.ticks--
			if r.ticks == 0 {
				e.digits = e.digits[1:]
				arrived[1-i] = &media.Digit{Key: r.key, Duration: r.d, Origin: media.DigitVirtual}
				targets[1-i] = o.onDigit
				done = append(done, r)
			}
		}
		e.stats.PacketsSent++
		o.stats.PacketsReceived++
		e.stats.OctetsSent += media.FrameSamples // as G.711 would carry it
		o.stats.OctetsReceived += media.FrameSamples
	}
	p.mu.Unlock()

	for i, e := range p.ends {
		src := sources[i]
		if src == nil {
			clear(e.frame)
		} else if err := src.ReadFrame(e.frame); err != nil {
			clear(e.frame)
			p.mu.Lock()
			if e.gen == gens[i] { // not replaced meanwhile
				e.source = nil
			}
			p.mu.Unlock()
		}
		for _, s := range p.scratch[1-i] {
			_ = s.WriteFrame(e.frame)
		}
	}
	for i := range arrived {
		if arrived[i] != nil && targets[i] != nil {
			targets[i].Digit(*arrived[i])
		}
	}
	for _, r := range done {
		close(r.done)
	}
}
