package admission

import (
	"sync"
	"time"
)

// BudgetConfig sets the global budget of new calls.
type BudgetConfig struct {
	// CallsPerSecond is how many new calls are accepted per second on
	// average; 0 means no limit.
	CallsPerSecond float64
	// Burst is how many new calls may arrive at once; default CallsPerSecond.
	Burst float64
	// MaxConcurrent is how many calls may be in progress at once; 0 means no
	// limit.
	MaxConcurrent int
	// RetryAfter is the Retry-After given with a 503; default 5 seconds.
	RetryAfter time.Duration
}

// Budget admits new calls within a calls-per-second rate and a number of
// calls in progress. It is safe for concurrent use.
type Budget struct {
	cfg    BudgetConfig
	now    Clock
	mu     sync.Mutex
	bucket bucket
	active int
}

// NewBudget returns a budget; clock nil means time.Now.
func NewBudget(cfg BudgetConfig, clock Clock) *Budget {
	if clock == nil {
		clock = time.Now
	}
	if cfg.Burst <= 0 {
		cfg.Burst = cfg.CallsPerSecond
	}
	if cfg.Burst < 1 && cfg.CallsPerSecond > 0 {
		cfg.Burst = 1
	}
	if cfg.RetryAfter <= 0 {
		cfg.RetryAfter = 5 * time.Second
	}
	return &Budget{cfg: cfg, now: clock, bucket: bucket{tokens: cfg.Burst, last: clock()}}
}

// Acquire admits one new call, or refuses it with an *OverloadError. release
// must be called once when the call ends; calling it again does nothing.
func (b *Budget) Acquire() (release func(), err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cfg.MaxConcurrent > 0 && b.active >= b.cfg.MaxConcurrent {
		return nil, &OverloadError{Status: 503, RetryAfter: b.cfg.RetryAfter, Reason: "concurrent calls"}
	}
	if b.cfg.CallsPerSecond > 0 && !b.bucket.take(b.now(), b.cfg.CallsPerSecond, b.cfg.Burst) {
		return nil, &OverloadError{Status: 503, RetryAfter: b.cfg.RetryAfter, Reason: "calls per second"}
	}
	b.active++
	var once sync.Once
	return func() {
		once.Do(func() {
			b.mu.Lock()
			b.active--
			b.mu.Unlock()
		})
	}, nil
}

// Full reports whether Acquire would refuse a call now, without taking
// anything, and the Retry-After to give: a cheap test for shedding an
// INVITE before any transaction exists for it.
func (b *Budget) Full() (bool, time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cfg.MaxConcurrent > 0 && b.active >= b.cfg.MaxConcurrent {
		return true, b.cfg.RetryAfter
	}
	if b.cfg.CallsPerSecond > 0 {
		b.bucket.refill(b.now(), b.cfg.CallsPerSecond, b.cfg.Burst)
		if b.bucket.tokens < 1 {
			return true, b.cfg.RetryAfter
		}
	}
	return false, 0
}

// Active reports how many admitted calls have not been released.
func (b *Budget) Active() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.active
}
