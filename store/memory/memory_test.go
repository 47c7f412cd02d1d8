package memory_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/voxrun/voxrun/store"
	"github.com/voxrun/voxrun/store/memory"
	"github.com/voxrun/voxrun/store/storetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newStore(t *testing.T) store.Live {
	s := memory.New()
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

func TestConformance(t *testing.T) { storetest.RunLive(t, newStore) }

func TestPurgeLockName(t *testing.T) {
	require.Equal(t, storetest.PurgeLockName, memory.PurgeLockName)
}

var (
	_ store.Live          = (*memory.Store)(nil)
	_ storetest.Inspector = (*memory.Store)(nil)
)

// fakeClock is a clock that tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newClocked(t *testing.T, opts ...memory.Option) (*memory.Store, *fakeClock) {
	clock := &fakeClock{t: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)}
	s := memory.New(append([]memory.Option{memory.WithClock(clock.Now)}, opts...)...)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s, clock
}

// TestCallTTLByClock follows a call's hash through the TTLs of seed 000 on
// the injected clock: exactly 12 h while up, exactly 1 h once ended.
func TestCallTTLByClock(t *testing.T) {
	ctx := context.Background()
	s, clock := newClocked(t)
	key := store.CallKey("acct-a", "c1")
	require.NoError(t, s.PutCall(ctx, "acct-a", "c1", map[string]string{"call_status": "trying"}))
	ttl, err := s.KeyTTL(ctx, key)
	require.NoError(t, err)
	require.Equal(t, store.CallTTL, ttl)

	clock.Advance(3 * time.Hour)
	require.NoError(t, s.PutCall(ctx, "acct-a", "c1", map[string]string{"call_status": "in-progress"}))
	ttl, err = s.KeyTTL(ctx, key)
	require.NoError(t, err)
	require.Equal(t, store.CallTTL-3*time.Hour, ttl, "a merge keeps the TTL")

	require.NoError(t, s.EndCall(ctx, "acct-a", "c1"))
	ttl, err = s.KeyTTL(ctx, key)
	require.NoError(t, err)
	require.Equal(t, store.EndedCallTTL, ttl)

	clock.Advance(store.EndedCallTTL - time.Millisecond)
	_, err = s.GetCall(ctx, "acct-a", "c1")
	require.NoError(t, err, "alive a millisecond before its end")
	clock.Advance(time.Millisecond)
	_, err = s.GetCall(ctx, "acct-a", "c1")
	require.ErrorIs(t, err, store.ErrNotFound)

	n, err := s.PurgeCalls(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
}

// TestLazyExpiry checks that every kind of key stops being visible at its
// expiry on the injected clock, with no janitor run in between.
func TestLazyExpiry(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name string
		put  func(s *memory.Store) error
		get  func(s *memory.Store) error
	}{
		{"registration",
			func(s *memory.Store) error {
				return s.Register(ctx, store.Registration{Name: "alice", Domain: "d", Contact: "sip:alice@d"}, store.NATRegistrationTTL)
			},
			func(s *memory.Store) error { _, err := s.Registration(ctx, "alice", "d"); return err }},
		{"kv",
			func(s *memory.Store) error { return s.KVSet(ctx, "a", "k", "v", store.NATRegistrationTTL) },
			func(s *memory.Store) error { _, err := s.KVGet(ctx, "a", "k"); return err }},
		{"value",
			func(s *memory.Store) error { return s.SetValue(ctx, "k", []byte("v"), store.NATRegistrationTTL) },
			func(s *memory.Store) error { _, err := s.GetValue(ctx, "k"); return err }},
		{"tts",
			func(s *memory.Store) error { return s.PutTTS(ctx, "k", []byte("v"), store.NATRegistrationTTL) },
			func(s *memory.Store) error { _, err := s.GetTTS(ctx, "k"); return err }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, clock := newClocked(t, memory.WithSweepInterval(time.Hour))
			require.NoError(t, tc.put(s))
			clock.Advance(store.NATRegistrationTTL - time.Millisecond)
			require.NoError(t, tc.get(s))
			clock.Advance(time.Millisecond)
			require.ErrorIs(t, tc.get(s), store.ErrNotFound)
		})
	}
}

// TestJanitorSweeps checks that expired keys are removed without being read.
func TestJanitorSweeps(t *testing.T) {
	ctx := context.Background()
	s, clock := newClocked(t, memory.WithSweepInterval(5*time.Millisecond))
	require.NoError(t, s.SetValue(ctx, "short", []byte("v"), time.Second))
	require.NoError(t, s.SetValue(ctx, "long", []byte("v"), time.Hour))
	require.Equal(t, 2, s.Len())
	clock.Advance(time.Minute)
	require.Eventually(t, func() bool { return s.Len() == 1 }, 2*time.Second, 5*time.Millisecond)
	_, err := s.GetValue(ctx, "long")
	require.NoError(t, err)
}

// TestLockLeaseByClock checks that a lock's lease runs on the injected clock.
func TestLockLeaseByClock(t *testing.T) {
	ctx := context.Background()
	s, clock := newClocked(t)
	_, ok, err := s.TryLock(ctx, "job", time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	clock.Advance(59 * time.Second)
	_, ok, err = s.TryLock(ctx, "job", time.Minute)
	require.NoError(t, err)
	require.False(t, ok)
	clock.Advance(time.Second)
	_, ok, err = s.TryLock(ctx, "job", time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
}

func TestClosedStore(t *testing.T) {
	ctx := context.Background()
	s := memory.New()
	require.NoError(t, s.Close())
	require.NoError(t, s.Close())
	require.ErrorIs(t, s.Ping(ctx), memory.ErrClosed)
	_, err := s.Subscribe(ctx, "ch")
	require.ErrorIs(t, err, memory.ErrClosed)
}

// TestCloseWhileSubscribing races Subscribe against Close: every subscription
// either fails with ErrClosed or ends with the store, and goleak (TestMain)
// proves that no goroutine outlives Close.
func TestCloseWhileSubscribing(t *testing.T) {
	ctx := context.Background()
	s := memory.New()
	const n = 50
	var (
		wg   sync.WaitGroup
		subs = make([]store.Subscription, n)
		errs = make([]error, n)
	)
	for i := range n {
		wg.Go(func() { subs[i], errs[i] = s.Subscribe(ctx, "ch") })
	}
	require.NoError(t, s.Close())
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			require.ErrorIs(t, errs[i], memory.ErrClosed)
			continue
		}
		require.NoError(t, subs[i].Close())
		_, ok := <-subs[i].Messages()
		require.False(t, ok)
	}
}
