package mediatest

import (
	"math"
	"sync"
	"time"

	"github.com/voxrun/voxrun/media"
	"github.com/voxrun/voxrun/media/clock"
)

// ManualClock is a pacer that ticks only when the test says so. It
// satisfies the Pacer interfaces of the media packages.
type ManualClock struct {
	mu      sync.Mutex
	now     time.Time
	tickers map[int]clock.Ticker
	next    int
}

// NewManualClock returns a clock whose first tick is at start.
func NewManualClock(start time.Time) *ManualClock {
	return &ManualClock{now: start, tickers: map[int]clock.Ticker{}}
}

// Register adds t; the returned function removes it.
func (c *ManualClock) Register(t clock.Ticker) (func(), error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id := c.next
	c.next++
	c.tickers[id] = t
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		delete(c.tickers, id)
	}, nil
}

// Len is the number of registered tickers.
func (c *ManualClock) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.tickers)
}

// Tick ticks every registered ticker n times, 20 ms apart, and returns the
// time of the last tick.
func (c *ManualClock) Tick(n int) time.Time {
	var now time.Time
	for range n {
		c.mu.Lock()
		now = c.now
		c.now = c.now.Add(media.FrameDuration)
		ts := make([]clock.Ticker, 0, len(c.tickers))
		for id := range c.next {
			if t, ok := c.tickers[id]; ok {
				ts = append(ts, t)
			}
		}
		c.mu.Unlock()
		for _, t := range ts {
			t.Tick(now)
		}
	}
	return now
}

// Tone returns n samples of a sine at freq Hz and the given amplitude.
func Tone(freq float64, amplitude float64, n int) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(amplitude * math.Sin(2*math.Pi*freq*float64(i)/media.SampleRate))
	}
	return out
}

// Collector is a sink that keeps copies of the frames written to it.
type Collector struct {
	mu     sync.Mutex
	frames [][]int16
}

// WriteFrame keeps a copy of frame.
func (c *Collector) WriteFrame(frame []int16) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.frames = append(c.frames, append([]int16(nil), frame...))
	return nil
}

// Frames returns the frames so far.
func (c *Collector) Frames() [][]int16 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([][]int16(nil), c.frames...)
}

// Samples returns the frames so far, joined.
func (c *Collector) Samples() []int16 {
	var out []int16
	for _, f := range c.Frames() {
		out = append(out, f...)
	}
	return out
}

// Digits is a digit sink that keeps what it receives.
type Digits struct {
	mu     sync.Mutex
	digits []media.Digit
}

// Digit keeps d.
func (d *Digits) Digit(x media.Digit) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.digits = append(d.digits, x)
}

// Keys returns the keys so far, as a string.
func (d *Digits) Keys() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	b := make([]byte, 0, len(d.digits))
	for _, x := range d.digits {
		b = append(b, x.Key)
	}
	return string(b)
}

// All returns the digits so far.
func (d *Digits) All() []media.Digit {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]media.Digit(nil), d.digits...)
}

var (
	_ media.Sink      = (*Collector)(nil)
	_ media.DigitSink = (*Digits)(nil)
)
