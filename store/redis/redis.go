package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/voxrun/voxrun/store"
)

// PurgeLockName is store.PurgeLockName, kept here for callers of this package.
const PurgeLockName = store.PurgeLockName

// purgeLease bounds how long a purge may hold its lock.
const purgeLease = time.Minute

// scanCount is the COUNT hint of SCAN and ZSCAN, and the size of the
// pipelines that follow them.
const scanCount = 500

var _ store.Live = (*Store)(nil)

// Store is the live state on Redis. It is safe for concurrent use.
type Store struct {
	client redis.UniversalClient
	now    func() time.Time

	mu     sync.Mutex
	subs   map[*subscription]struct{}
	closed atomic.Bool
	once   sync.Once
	err    error
}

// New returns a store on client, which it owns: Close closes it. Most callers
// want Open; New serves tests and callers that build their own client.
func New(client redis.UniversalClient, opts ...Option) *Store {
	c := config{now: time.Now}
	for _, o := range opts {
		o(&c)
	}
	if c.now == nil {
		c.now = time.Now
	}
	return &Store{client: client, now: c.now, subs: map[*subscription]struct{}{}}
}

// Client returns the underlying client, for tests and diagnostics.
func (s *Store) Client() redis.UniversalClient { return s.client }

// Close ends every subscription and closes the client. It is idempotent.
func (s *Store) Close() error {
	s.once.Do(func() {
		s.closed.Store(true)
		s.mu.Lock()
		subs := make([]*subscription, 0, len(s.subs))
		for sub := range s.subs {
			subs = append(subs, sub)
		}
		s.mu.Unlock()
		for _, sub := range subs {
			_ = sub.Close()
		}
		if err := s.client.Close(); err != nil {
			s.err = wrap("close", err)
		}
	})
	return s.err
}

// Ping checks that Redis answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.begin(ctx, "ping"); err != nil {
		return err
	}
	return wrap("ping", s.client.Ping(ctx).Err())
}

// begin checks the context and that the store is open, before an operation.
func (s *Store) begin(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store/redis: %s: %w", op, err)
	}
	if s.closed.Load() {
		return fmt.Errorf("store/redis: %s: %w", op, ErrClosed)
	}
	return nil
}

// Keys beyond the helpers in package store.

func ttsKey(key string) string            { return store.TTSKey(key) }
func kvKey(accountSID, key string) string { return store.KVKey(accountSID, key) }
func lockKey(name string) string          { return store.LockKey(name) }

// globEscape quotes the characters that SCAN's MATCH treats as a pattern, so
// that a SID or a domain matches only itself.
func globEscape(s string) string {
	if !strings.ContainsAny(s, `*?[]\`) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// scanKeys returns the keys that match the pattern, on every master of a
// cluster. SCAN may return a key twice; the result has each once.
func (s *Store) scanKeys(ctx context.Context, match string) ([]string, error) {
	var (
		mu   sync.Mutex
		seen = map[string]struct{}{}
		keys []string
	)
	scan := func(ctx context.Context, c redis.Cmdable) error {
		var cursor uint64
		for {
			batch, next, err := c.Scan(ctx, cursor, match, scanCount).Result()
			if err != nil {
				return err
			}
			mu.Lock()
			for _, k := range batch {
				if _, dup := seen[k]; !dup {
					seen[k] = struct{}{}
					keys = append(keys, k)
				}
			}
			mu.Unlock()
			if cursor = next; cursor == 0 {
				return nil
			}
		}
	}
	var err error
	if cc, ok := s.client.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return scan(ctx, c) })
	} else {
		err = scan(ctx, s.client)
	}
	return keys, err
}

// Inspector (storetest).

// KeyTTL returns the key's remaining time to live (PTTL), -1 when it has none,
// or store.ErrNotFound. It implements storetest.Inspector.
func (s *Store) KeyTTL(ctx context.Context, key string) (time.Duration, error) {
	if err := s.begin(ctx, "key ttl"); err != nil {
		return 0, err
	}
	d, err := s.client.PTTL(ctx, key).Result()
	switch {
	case err != nil:
		return 0, wrap("key ttl", err)
	case d == -2:
		return 0, fmt.Errorf("store/redis: key ttl %q: %w", key, store.ErrNotFound)
	case d < 0:
		return -1, nil
	}
	return d, nil
}

// ExpireKey sets the key's time to live (PEXPIRE); ttl <= 0 removes it at
// once. It implements storetest.Inspector.
func (s *Store) ExpireKey(ctx context.Context, key string, ttl time.Duration) error {
	if err := s.begin(ctx, "expire key"); err != nil {
		return err
	}
	var (
		ok  bool
		err error
	)
	if ttl <= 0 {
		var n int64
		n, err = s.client.Del(ctx, key).Result()
		ok = n > 0
	} else {
		ok, err = s.client.PExpire(ctx, key, ttl).Result()
	}
	if err != nil {
		return wrap("expire key", err)
	}
	if !ok {
		return fmt.Errorf("store/redis: expire key %q: %w", key, store.ErrNotFound)
	}
	return nil
}

func invalidTTL(op string, ttl time.Duration) error {
	return fmt.Errorf("store/redis: %s: negative ttl %v: %w", op, ttl, store.ErrInvalid)
}

// TTS cache.

// GetTTS returns cached audio, or store.ErrNotFound.
func (s *Store) GetTTS(ctx context.Context, key string) ([]byte, error) {
	return s.get(ctx, "get tts", ttsKey(key))
}

// PutTTS caches audio for ttl (0: no expiry).
func (s *Store) PutTTS(ctx context.Context, key string, audio []byte, ttl time.Duration) error {
	return s.set(ctx, "put tts", ttsKey(key), audio, ttl)
}

// KV.

// KVGet returns an account's value, or store.ErrNotFound.
func (s *Store) KVGet(ctx context.Context, accountSID, key string) (string, error) {
	b, err := s.get(ctx, "kv get", kvKey(accountSID, key))
	return string(b), err
}

// KVSet stores an account's value for ttl (0: no expiry).
func (s *Store) KVSet(ctx context.Context, accountSID, key, value string, ttl time.Duration) error {
	return s.set(ctx, "kv set", kvKey(accountSID, key), value, ttl)
}

// KVDelete removes an account's value; a missing key is not an error.
func (s *Store) KVDelete(ctx context.Context, accountSID, key string) error {
	return s.del(ctx, "kv delete", kvKey(accountSID, key))
}

// Values.

// GetValue returns the value of a plain key, or store.ErrNotFound.
func (s *Store) GetValue(ctx context.Context, key string) ([]byte, error) {
	return s.get(ctx, "get value", key)
}

// SetValue stores v under key for ttl (0: no expiry).
func (s *Store) SetValue(ctx context.Context, key string, v []byte, ttl time.Duration) error {
	return s.set(ctx, "set value", key, v, ttl)
}

// SetValueNX stores v only when key is absent (SET NX) and reports whether it did.
func (s *Store) SetValueNX(ctx context.Context, key string, v []byte, ttl time.Duration) (bool, error) {
	if err := s.begin(ctx, "set value nx"); err != nil {
		return false, err
	}
	if ttl < 0 {
		return false, invalidTTL("set value nx", ttl)
	}
	ok, err := s.client.SetNX(ctx, key, v, ttl).Result()
	return ok, wrap("set value nx", err)
}

// DeleteValue removes key; a missing key is not an error.
func (s *Store) DeleteValue(ctx context.Context, key string) error {
	return s.del(ctx, "delete value", key)
}

func (s *Store) get(ctx context.Context, op, key string) ([]byte, error) {
	if err := s.begin(ctx, op); err != nil {
		return nil, err
	}
	b, err := s.client.Get(ctx, key).Bytes()
	if err != nil {
		return nil, wrap(op, err)
	}
	return b, nil
}

func (s *Store) set(ctx context.Context, op, key string, v any, ttl time.Duration) error {
	if err := s.begin(ctx, op); err != nil {
		return err
	}
	if ttl < 0 {
		return invalidTTL(op, ttl)
	}
	// Expiration 0 is a plain SET, which also clears an earlier TTL.
	return wrap(op, s.client.Set(ctx, key, v, ttl).Err())
}

func (s *Store) del(ctx context.Context, op, key string) error {
	if err := s.begin(ctx, op); err != nil {
		return err
	}
	return wrap(op, s.client.Del(ctx, key).Err())
}

// Locker.

// unlockScript deletes the lock only if it still holds this holder's token.
var unlockScript = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
	return redis.call("DEL", KEYS[1])
end
return 0`)

// TryLock takes lock:{name} with SET NX PX ttl and a random token; unlock
// deletes it only while it still holds that token. Unlocking twice, or after
// the lease ran out, is not an error.
func (s *Store) TryLock(ctx context.Context, name string, ttl time.Duration) (func(context.Context) error, bool, error) {
	if err := s.begin(ctx, "try lock"); err != nil {
		return nil, false, err
	}
	if ttl <= 0 {
		return nil, false, fmt.Errorf("store/redis: try lock %q: lease %v: %w", name, ttl, store.ErrInvalid)
	}
	var raw [16]byte
	_, _ = rand.Read(raw[:]) // crypto/rand.Read never fails
	token := hex.EncodeToString(raw[:])
	key := lockKey(name)
	ok, err := s.client.SetNX(ctx, key, token, ttl).Result()
	if err != nil || !ok {
		return nil, false, wrap("try lock", err)
	}
	unlock := func(ctx context.Context) error {
		if err := s.begin(ctx, "unlock"); err != nil {
			return err
		}
		return wrap("unlock", unlockScript.Run(ctx, s.client, []string{key}, token).Err())
	}
	return unlock, true, nil
}
