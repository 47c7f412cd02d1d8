package clock

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Ticker is a leg that the clock paces. Tick runs on a shard goroutine and
// must not block. It may register or unregister tickers (a leg closed from
// inside a tick does not deadlock).
type Ticker interface {
	Tick(now time.Time)
}

// TickerFunc adapts a function to a Ticker.
type TickerFunc func(now time.Time)

// Tick calls f.
func (f TickerFunc) Tick(now time.Time) { f(now) }

// Config tunes a Clock. Zero values mean the defaults.
type Config struct {
	// Period is the tick interval (20 ms).
	Period time.Duration
	// Shards is the number of goroutines (GOMAXPROCS).
	Shards int
	// MaxCatchUp is how many overdue ticks a late shard runs back to back
	// before it skips ahead to the next period (3).
	MaxCatchUp int
	// GoTimers paces with Go's timers instead of the system's precise
	// sleep (Linux ppoll: its wake-ups land within about 0.1 ms of the due
	// time, where Go's timers, rounded to whole milliseconds, land up to
	// 1 ms late and add that to every leg's send jitter). testing/synctest
	// needs it: only Go's timers follow a bubble's fake clock.
	GoTimers bool
}

// Clock ticks registered tickers every period.
type Clock struct {
	period     time.Duration
	maxCatchUp int
	shards     []*shard
	next       atomic.Uint64

	closeOnce sync.Once
	done      chan struct{}
	wake      *wakeup // the precise sleep's Close signal; nil with Go's timers
	wg        sync.WaitGroup
}

type shard struct {
	mu      sync.Mutex
	closed  bool
	tickers []*entry
	round   []*entry      // the shard goroutine's copy of tickers for one round
	late    atomic.Uint64 // ticks run late (catch-up) or skipped
	skipped atomic.Uint64
}

type entry struct {
	t       Ticker
	removed atomic.Bool
}

// New starts a clock's shard goroutines; Close stops them.
func New(cfg Config) *Clock {
	if cfg.Period <= 0 {
		cfg.Period = 20 * time.Millisecond
	}
	if cfg.Shards <= 0 {
		cfg.Shards = runtime.GOMAXPROCS(0)
	}
	if cfg.MaxCatchUp <= 0 {
		cfg.MaxCatchUp = 3
	}
	c := &Clock{period: cfg.Period, maxCatchUp: cfg.MaxCatchUp, done: make(chan struct{})}
	if !cfg.GoTimers {
		c.wake = newWakeup() // nil where there is no precise sleep
	}
	start := time.Now()
	for i := range cfg.Shards {
		s := &shard{}
		c.shards = append(c.shards, s)
		// Shards are phase-shifted so that their bursts of packets spread
		// over the period instead of all leaving at once.
		offset := cfg.Period * time.Duration(i) / time.Duration(cfg.Shards)
		c.wg.Go(func() { c.run(s, start.Add(offset)) })
	}
	return c
}

// Register adds t to the least recently chosen shard and returns the
// function that removes it. Once that function has returned, no new Tick of
// t begins; a Tick already running on the shard may still finish, so a
// ticker must tolerate one call after it closed. It returns ErrClosed after
// Close.
func (c *Clock) Register(t Ticker) (unregister func(), err error) {
	s := c.shards[int(c.next.Add(1)-1)%len(c.shards)]
	e := &entry{t: t}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	s.tickers = append(s.tickers, e)
	var once sync.Once
	return func() {
		once.Do(func() {
			e.removed.Store(true)
			s.mu.Lock()
			defer s.mu.Unlock()
			for i, x := range s.tickers {
				if x == e {
					last := len(s.tickers) - 1
					s.tickers[i] = s.tickers[last]
					s.tickers[last] = nil
					s.tickers = s.tickers[:last]
					return
				}
			}
		})
	}, nil
}

// Len returns how many tickers are registered.
func (c *Clock) Len() int {
	n := 0
	for _, s := range c.shards {
		s.mu.Lock()
		n += len(s.tickers)
		s.mu.Unlock()
	}
	return n
}

// Late returns how many ticks ran late (in a catch-up burst) and how many
// were skipped, over all shards.
func (c *Clock) Late() (late, skipped uint64) {
	for _, s := range c.shards {
		late += s.late.Load()
		skipped += s.skipped.Load()
	}
	return late, skipped
}

// Close stops the shards and waits for them; it is idempotent.
func (c *Clock) Close() error {
	c.closeOnce.Do(func() {
		for _, s := range c.shards {
			s.mu.Lock()
			s.closed = true
			s.mu.Unlock()
		}
		close(c.done)
		c.wake.signal()
		c.wg.Wait()
		c.wake.close()
	})
	return nil
}

// run is one shard's loop. Tick k is due at start + k·period; the schedule
// never depends on when the previous round ended, so it does not drift.
func (c *Clock) run(s *shard, start time.Time) {
	w := c.newWaiter()
	defer w.stop()
	due := start
	for {
		if !w.until(due) {
			return
		}
		now := time.Now()
		burst := 0
		for !due.After(now) {
			if burst == c.maxCatchUp {
				// Too far behind: skip to the next due time after now.
				missed := now.Sub(due)/c.period + 1
				s.skipped.Add(uint64(missed))
				due = due.Add(missed * c.period)
				break
			}
			if burst > 0 {
				s.late.Add(1)
			}
			s.tick(due)
			due = due.Add(c.period)
			burst++
		}
	}
}

// waiter sleeps a shard until its next due time.
type waiter interface {
	// until returns at due, or false once the clock is closed.
	until(due time.Time) bool
	stop()
}

func (c *Clock) newWaiter() waiter {
	if c.wake != nil {
		return c.wake.waiter(c.done)
	}
	return &timerWaiter{t: time.NewTimer(time.Hour), done: c.done}
}

// timerWaiter sleeps on a Go timer.
type timerWaiter struct {
	t    *time.Timer
	done <-chan struct{}
}

func (w *timerWaiter) until(due time.Time) bool {
	w.t.Reset(time.Until(due))
	select {
	case <-w.done:
		return false
	case <-w.t.C:
		return true
	}
}

func (w *timerWaiter) stop() { w.t.Stop() }

// tick runs one round over a copy of the tickers, without the shard's lock,
// so that a ticker may unregister itself or others from inside Tick.
func (s *shard) tick(now time.Time) {
	s.mu.Lock()
	s.round = append(s.round[:0], s.tickers...)
	s.mu.Unlock()
	for i, e := range s.round {
		if !e.removed.Load() {
			e.t.Tick(now)
		}
		s.round[i] = nil
	}
}
