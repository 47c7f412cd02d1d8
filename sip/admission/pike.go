package admission

import (
	"net/netip"
	"sync"
	"time"
)

// PikeConfig sets the per-source limit. A source that sends faster than Rate
// (after a Burst) is banned for Ban: everything it sends is ignored.
type PikeConfig struct {
	// Disabled turns the per-source limit off.
	Disabled bool
	// Rate is the number of messages per second one source address may send
	// on average. Default 100.
	Rate float64
	// Burst is the number of messages a source may send at once. Default 400.
	Burst float64
	// Ban is how long a source that ran out of tokens is ignored. Default 2 minutes.
	Ban time.Duration
	// Exempt lists source prefixes that are never limited (carriers, a SIP
	// dispatcher in front of voxrun).
	Exempt []netip.Prefix
	// MaxSources bounds how many addresses are tracked; idle ones are swept
	// when it is reached. Default 100000.
	MaxSources int
}

func (c PikeConfig) withDefaults() PikeConfig {
	if c.Rate <= 0 {
		c.Rate = 100
	}
	if c.Burst <= 0 {
		c.Burst = 4 * c.Rate
	}
	if c.Ban <= 0 {
		c.Ban = 2 * time.Minute
	}
	if c.MaxSources <= 0 {
		c.MaxSources = 100000
	}
	return c
}

// Verdict is Pike's answer for one message.
type Verdict int

const (
	// Allow: process the message.
	Allow Verdict = iota
	// Banned: the source is banned; ignore the message.
	Banned
	// NewBan: the source was banned by this message; ignore it and log the
	// ban as a security event (once per ban).
	NewBan
)

type source struct {
	bucket
	bannedUntil time.Time
}

// Pike limits messages per source address. It is safe for concurrent use.
type Pike struct {
	cfg       PikeConfig
	now       Clock
	mu        sync.Mutex
	sources   map[netip.Addr]*source
	lastSweep time.Time
}

// NewPike returns a per-source limiter; clock nil means time.Now.
func NewPike(cfg PikeConfig, clock Clock) *Pike {
	if clock == nil {
		clock = time.Now
	}
	return &Pike{cfg: cfg.withDefaults(), now: clock, sources: make(map[netip.Addr]*source)}
}

// Check counts one message from addr and says what to do with it.
func (p *Pike) Check(addr netip.Addr) Verdict {
	if p.cfg.Disabled {
		return Allow
	}
	addr = addr.Unmap()
	for _, pre := range p.cfg.Exempt {
		if pre.Contains(addr) {
			return Allow
		}
	}
	now := p.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	s, ok := p.sources[addr]
	if !ok {
		if len(p.sources) >= p.cfg.MaxSources {
			p.sweepLocked(now)
		}
		if len(p.sources) >= p.cfg.MaxSources {
			// Still full of active sources: let this one through
			// untracked rather than lock out newcomers.
			return Allow
		}
		s = &source{bucket: bucket{tokens: p.cfg.Burst, last: now}}
		p.sources[addr] = s
	}
	if now.Before(s.bannedUntil) {
		return Banned
	}
	if s.take(now, p.cfg.Rate, p.cfg.Burst) {
		return Allow
	}
	s.bannedUntil = now.Add(p.cfg.Ban)
	return NewBan
}

// Banned reports whether addr is banned now (for refusing TCP connections).
func (p *Pike) Banned(addr netip.Addr) bool {
	if p.cfg.Disabled {
		return false
	}
	now := p.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	s, ok := p.sources[addr.Unmap()]
	return ok && now.Before(s.bannedUntil)
}

// Len reports how many sources are tracked.
func (p *Pike) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.sources)
}

// sweepLocked forgets sources that are not banned and whose bucket has
// refilled: they are indistinguishable from new ones. At most once a second.
func (p *Pike) sweepLocked(now time.Time) {
	if now.Sub(p.lastSweep) < time.Second && !p.lastSweep.IsZero() {
		return
	}
	p.lastSweep = now
	for a, s := range p.sources {
		if now.Before(s.bannedUntil) {
			continue
		}
		s.refill(now, p.cfg.Rate, p.cfg.Burst)
		if s.tokens >= p.cfg.Burst {
			delete(p.sources, a)
		}
	}
}
