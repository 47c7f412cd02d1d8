package memory

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/voxrun/voxrun/store"
)

// PurgeLockName is store.PurgeLockName, kept here for callers of this package.
const PurgeLockName = store.PurgeLockName

// purgeLease bounds how long a purge may hold its lock.
const purgeLease = time.Minute

// DefaultSweepInterval is how often the janitor removes expired keys.
const DefaultSweepInterval = time.Second

var _ store.Live = (*Store)(nil)

// Option configures a Store.
type Option func(*Store)

// WithClock sets the clock that TTLs are measured by (time.Now by default).
// Tests pass a fake clock and move it instead of sleeping.
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// WithSweepInterval sets how often the janitor removes expired keys. Reads
// never see an expired key either way; the sweep only frees memory.
func WithSweepInterval(d time.Duration) Option { return func(s *Store) { s.sweep = d } }

// entry is one key's value and its expiry (zero: none).
type entry struct {
	val     any
	expires time.Time
}

// Store is the in-memory live state. Its zero value is not usable: call New.
type Store struct {
	now   func() time.Time
	sweep time.Duration

	mu     sync.Mutex
	keys   map[string]*entry
	active map[string]int64 // active-call-sids: call key → ms since the epoch
	subs   map[string]map[*subscription]struct{}
	token  uint64 // last lock token handed out

	closed    atomic.Bool
	stop      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// New returns an empty store and starts its janitor; Close stops it.
func New(opts ...Option) *Store {
	s := &Store{
		now:    time.Now,
		sweep:  DefaultSweepInterval,
		keys:   map[string]*entry{},
		active: map[string]int64{},
		subs:   map[string]map[*subscription]struct{}{},
		stop:   make(chan struct{}),
	}
	for _, o := range opts {
		o(s)
	}
	s.wg.Go(s.janitor)
	return s
}

// janitor removes expired keys every sweep interval until Close.
func (s *Store) janitor() {
	t := time.NewTicker(s.sweep)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.mu.Lock()
			now := s.now()
			for k, e := range s.keys {
				if expired(e, now) {
					delete(s.keys, k)
				}
			}
			s.mu.Unlock()
		}
	}
}

// Close stops the janitor, ends every subscription and waits for their
// goroutines. It is idempotent; every later operation returns ErrClosed.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		close(s.stop)
		s.mu.Lock()
		var subs []*subscription
		for _, set := range s.subs {
			for sub := range set {
				subs = append(subs, sub)
			}
		}
		s.mu.Unlock()
		for _, sub := range subs {
			_ = sub.Close()
		}
		s.wg.Wait()
	})
	return nil
}

// Ping reports whether the store is open.
func (s *Store) Ping(ctx context.Context) error { return s.begin(ctx, "ping") }

// begin checks the context and that the store is open, before an operation.
func (s *Store) begin(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store/memory: %s: %w", op, err)
	}
	if s.closed.Load() {
		return fmt.Errorf("store/memory: %s: %w", op, ErrClosed)
	}
	return nil
}

func expired(e *entry, now time.Time) bool {
	return !e.expires.IsZero() && !now.Before(e.expires)
}

// getLocked returns the live entry of key, dropping it if it has expired.
func (s *Store) getLocked(key string) *entry {
	e, ok := s.keys[key]
	if !ok {
		return nil
	}
	if expired(e, s.now()) {
		delete(s.keys, key)
		return nil
	}
	return e
}

// expiryLocked turns a TTL into an expiry time; 0 means none.
func (s *Store) expiryLocked(ttl time.Duration) time.Time {
	if ttl <= 0 {
		return time.Time{}
	}
	return s.now().Add(ttl)
}

// KeyTTL returns the key's remaining time to live, -1 when it has none, or
// store.ErrNotFound. It implements storetest.Inspector.
func (s *Store) KeyTTL(ctx context.Context, key string) (time.Duration, error) {
	if err := s.begin(ctx, "key ttl"); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.getLocked(key)
	if e == nil {
		return 0, fmt.Errorf("store/memory: key ttl %q: %w", key, store.ErrNotFound)
	}
	if e.expires.IsZero() {
		return -1, nil
	}
	return e.expires.Sub(s.now()), nil
}

// ExpireKey sets the key's time to live; ttl <= 0 removes it at once. It
// implements storetest.Inspector.
func (s *Store) ExpireKey(ctx context.Context, key string, ttl time.Duration) error {
	if err := s.begin(ctx, "expire key"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.getLocked(key)
	if e == nil {
		return fmt.Errorf("store/memory: expire key %q: %w", key, store.ErrNotFound)
	}
	if ttl <= 0 {
		delete(s.keys, key)
		return nil
	}
	e.expires = s.now().Add(ttl)
	return nil
}

func invalidTTL(op string, ttl time.Duration) error {
	return fmt.Errorf("store/memory: %s: negative ttl %v: %w", op, ttl, store.ErrInvalid)
}

// TTS cache.

// GetTTS returns cached audio, or store.ErrNotFound.
func (s *Store) GetTTS(ctx context.Context, key string) ([]byte, error) {
	v, err := s.getBytes(ctx, "get tts", ttsKey(key))
	return v, err
}

// PutTTS caches audio for ttl (0: no expiry).
func (s *Store) PutTTS(ctx context.Context, key string, audio []byte, ttl time.Duration) error {
	return s.setBytes(ctx, "put tts", ttsKey(key), audio, ttl)
}

// Values.

// GetValue returns the value of a plain key, or store.ErrNotFound.
func (s *Store) GetValue(ctx context.Context, key string) ([]byte, error) {
	return s.getBytes(ctx, "get value", key)
}

// SetValue stores v under key for ttl (0: no expiry).
func (s *Store) SetValue(ctx context.Context, key string, v []byte, ttl time.Duration) error {
	return s.setBytes(ctx, "set value", key, v, ttl)
}

// SetValueNX stores v only when key is absent and reports whether it did.
func (s *Store) SetValueNX(ctx context.Context, key string, v []byte, ttl time.Duration) (bool, error) {
	if err := s.begin(ctx, "set value nx"); err != nil {
		return false, err
	}
	if ttl < 0 {
		return false, invalidTTL("set value nx", ttl)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.getLocked(key) != nil {
		return false, nil
	}
	s.keys[key] = &entry{val: slices.Clone(v), expires: s.expiryLocked(ttl)}
	return true, nil
}

// DeleteValue removes key; a missing key is not an error.
func (s *Store) DeleteValue(ctx context.Context, key string) error {
	return s.del(ctx, "delete value", key)
}

func (s *Store) getBytes(ctx context.Context, op, key string) ([]byte, error) {
	if err := s.begin(ctx, op); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.getLocked(key)
	if e == nil {
		return nil, fmt.Errorf("store/memory: %s %q: %w", op, key, store.ErrNotFound)
	}
	b, ok := e.val.([]byte)
	if !ok {
		return nil, fmt.Errorf("store/memory: %s %q: %w", op, key, errWrongType)
	}
	return slices.Clone(b), nil
}

func (s *Store) setBytes(ctx context.Context, op, key string, v []byte, ttl time.Duration) error {
	if err := s.begin(ctx, op); err != nil {
		return err
	}
	if ttl < 0 {
		return invalidTTL(op, ttl)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[key] = &entry{val: slices.Clone(v), expires: s.expiryLocked(ttl)}
	return nil
}

func (s *Store) del(ctx context.Context, op, key string) error {
	if err := s.begin(ctx, op); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.keys, key)
	return nil
}

// KV.

// KVGet returns an account's value, or store.ErrNotFound.
func (s *Store) KVGet(ctx context.Context, accountSID, key string) (string, error) {
	b, err := s.getBytes(ctx, "kv get", kvKey(accountSID, key))
	return string(b), err
}

// KVSet stores an account's value for ttl (0: no expiry).
func (s *Store) KVSet(ctx context.Context, accountSID, key, value string, ttl time.Duration) error {
	return s.setBytes(ctx, "kv set", kvKey(accountSID, key), []byte(value), ttl)
}

// KVDelete removes an account's value; a missing key is not an error.
func (s *Store) KVDelete(ctx context.Context, accountSID, key string) error {
	return s.del(ctx, "kv delete", kvKey(accountSID, key))
}

// Locker.

// lockToken marks a lock key's value: who holds it.
type lockToken string

// TryLock takes the lock name for ttl, unless another holder has it.
func (s *Store) TryLock(ctx context.Context, name string, ttl time.Duration) (func(context.Context) error, bool, error) {
	if err := s.begin(ctx, "try lock"); err != nil {
		return nil, false, err
	}
	if ttl <= 0 {
		return nil, false, fmt.Errorf("store/memory: try lock %q: lease %v: %w", name, ttl, store.ErrInvalid)
	}
	key := lockKey(name)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.getLocked(key) != nil {
		return nil, false, nil
	}
	s.token++
	tok := lockToken(strconv.FormatUint(s.token, 10))
	s.keys[key] = &entry{val: tok, expires: s.expiryLocked(ttl)}
	unlock := func(ctx context.Context) error {
		if err := s.begin(ctx, "unlock"); err != nil {
			return err
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if e := s.getLocked(key); e != nil && e.val == tok {
			delete(s.keys, key)
		}
		return nil
	}
	return unlock, true, nil
}

// Len reports how many keys the store holds, expired or not: what the
// janitor has not yet swept. It is for tests and metrics.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.keys)
}
