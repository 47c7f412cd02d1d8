package api

import (
	"sync"
	"time"
)

// Rate is a token bucket: PerSecond tokens are added each second, up to Burst.
type Rate struct {
	// PerSecond is the sustained number of requests allowed per second.
	PerSecond float64
	// Burst is how many requests may arrive at once after a quiet period.
	Burst int
}

// RateLimit bounds /v1 requests. Exceeding either limit answers 429 with a
// Retry-After header.
type RateLimit struct {
	// PerAddress applies to every request by its source address, before
	// authentication (so it also slows down key guessing). The zero value
	// means 50 per second with a burst of 100.
	PerAddress Rate
	// PerKey applies to every request by its API key, after authentication.
	// The zero value means 20 per second with a burst of 40.
	PerKey Rate
	// Disabled turns both limits off (benchmarks).
	Disabled bool
}

func (r RateLimit) withDefaults() RateLimit {
	if r.PerAddress.PerSecond <= 0 || r.PerAddress.Burst <= 0 {
		r.PerAddress = Rate{PerSecond: 50, Burst: 100}
	}
	if r.PerKey.PerSecond <= 0 || r.PerKey.Burst <= 0 {
		r.PerKey = Rate{PerSecond: 20, Burst: 40}
	}
	return r
}

// maxBuckets bounds the limiter's memory: past it, buckets that have refilled
// completely (their owner has been quiet) are forgotten.
const maxBuckets = 10000

// limiter is a set of in-memory token buckets, one per key.
type limiter struct {
	rate Rate
	now  func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(r Rate, now func() time.Time) *limiter {
	return &limiter{rate: r, now: now, buckets: map[string]*bucket{}}
}

// allow takes a token from key's bucket. When the bucket is empty it reports
// false and how long until the next token.
func (l *limiter) allow(key string) (bool, time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= maxBuckets {
			l.pruneLocked(now)
		}
		b = &bucket{tokens: float64(l.rate.Burst), last: now}
		l.buckets[key] = b
	} else {
		l.refillLocked(b, now)
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / l.rate.PerSecond * float64(time.Second))
	return false, wait
}

func (l *limiter) refillLocked(b *bucket, now time.Time) {
	if d := now.Sub(b.last); d > 0 {
		b.tokens = min(float64(l.rate.Burst), b.tokens+d.Seconds()*l.rate.PerSecond)
		b.last = now
	}
}

// pruneLocked forgets full buckets; if every bucket is in use, it forgets
// them all rather than grow without bound (a flood of distinct keys then
// starts again with full buckets, which the per-address limit still bounds).
func (l *limiter) pruneLocked(now time.Time) {
	for k, b := range l.buckets {
		l.refillLocked(b, now)
		if b.tokens >= float64(l.rate.Burst) {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) >= maxBuckets {
		clear(l.buckets)
	}
}

// jsonDepth reports the deepest nesting of arrays and objects in b, stopping
// early once it passes limit. It does not validate the JSON: the decoder does.
func jsonDepth(b []byte, limit int) int {
	depth, deepest := 0, 0
	inString, escaped := false, false
	for _, c := range b {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
			if depth > deepest {
				deepest = depth
				if deepest > limit {
					return deepest
				}
			}
		case '}', ']':
			depth--
		}
	}
	return deepest
}
