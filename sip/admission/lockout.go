package admission

import (
	"sync"
	"time"
)

// LockoutConfig sets how many failed attempts (wrong digest credentials,
// say) a key may make before it is locked out.
type LockoutConfig struct {
	// MaxFailures is how many failures within Window lock a key. Default 5.
	MaxFailures int
	// Window is the period failures are counted over. Default 1 minute.
	Window time.Duration
	// LockFor is how long a locked key stays locked. Default 10 minutes.
	LockFor time.Duration
	// MaxKeys bounds how many keys are tracked; expired ones are swept when
	// it is reached. Default 100000.
	MaxKeys int
}

type attempts struct {
	count       int
	first       time.Time
	lockedUntil time.Time
}

// Lockout counts failures per key (a source address, a user@realm) and
// locks a key out after too many. It is safe for concurrent use.
type Lockout struct {
	cfg  LockoutConfig
	now  Clock
	mu   sync.Mutex
	keys map[string]*attempts
}

// NewLockout returns a Lockout; clock nil means time.Now.
func NewLockout(cfg LockoutConfig, clock Clock) *Lockout {
	if cfg.MaxFailures <= 0 {
		cfg.MaxFailures = 5
	}
	if cfg.Window <= 0 {
		cfg.Window = time.Minute
	}
	if cfg.LockFor <= 0 {
		cfg.LockFor = 10 * time.Minute
	}
	if cfg.MaxKeys <= 0 {
		cfg.MaxKeys = 100000
	}
	if clock == nil {
		clock = time.Now
	}
	return &Lockout{cfg: cfg, now: clock, keys: make(map[string]*attempts)}
}

// Locked reports whether key is locked out now.
func (l *Lockout) Locked(key string) bool {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	a, ok := l.keys[key]
	return ok && now.Before(a.lockedUntil)
}

// Fail records a failure of key and reports whether it locked the key now
// (once per lockout, for a security event).
func (l *Lockout) Fail(key string) (lockedNow bool) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	a, ok := l.keys[key]
	if !ok {
		if len(l.keys) >= l.cfg.MaxKeys {
			l.sweepLocked(now)
		}
		a = &attempts{first: now}
		l.keys[key] = a
	}
	if now.Before(a.lockedUntil) {
		return false
	}
	if now.Sub(a.first) > l.cfg.Window {
		a.count, a.first = 0, now
	}
	a.count++
	if a.count >= l.cfg.MaxFailures {
		a.lockedUntil = now.Add(l.cfg.LockFor)
		a.count = 0
		return true
	}
	return false
}

// Succeed forgets the failures of key (a correct attempt).
func (l *Lockout) Succeed(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if a, ok := l.keys[key]; ok && !l.now().Before(a.lockedUntil) {
		delete(l.keys, key)
	}
}

func (l *Lockout) sweepLocked(now time.Time) {
	for k, a := range l.keys {
		if !now.Before(a.lockedUntil) && now.Sub(a.first) > l.cfg.Window {
			delete(l.keys, k)
		}
	}
}
