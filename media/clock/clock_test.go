package clock

import (
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type recorder struct {
	mu    sync.Mutex
	times []time.Time
	work  time.Duration
}

func (r *recorder) Tick(now time.Time) {
	r.mu.Lock()
	r.times = append(r.times, now)
	r.mu.Unlock()
	if r.work > 0 {
		time.Sleep(r.work) // a slow round (fake time under synctest)
	}
}

func (r *recorder) snapshot() []time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Time(nil), r.times...)
}

func TestTicksEvery20msWithoutDrift(t *testing.T) {
	cases := []struct {
		name string
		work time.Duration
	}{
		{"idle tickers", 0},
		{"each round takes 7 ms", 7 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				start := time.Now()
				c := New(Config{Shards: 1, GoTimers: true})
				defer c.Close()
				r := &recorder{work: tc.work}
				unregister, err := c.Register(r)
				require.NoError(t, err)
				time.Sleep(10*time.Second + 10*time.Millisecond)
				unregister()
				got := r.snapshot()
				require.Len(t, got, 501, "ticks at 0, 20 ms, ..., 10 s")
				for k, at := range got {
					require.Equal(t, start.Add(time.Duration(k)*20*time.Millisecond), at, "tick %d", k)
				}
				late, skipped := c.Late()
				require.Zero(t, late)
				require.Zero(t, skipped)
			})
		})
	}
}

func TestShardsSpreadAndEveryTickerTicks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := New(Config{Shards: 4, GoTimers: true})
		defer c.Close()
		var rs []*recorder
		for range 10 {
			r := &recorder{}
			_, err := c.Register(r)
			require.NoError(t, err)
			rs = append(rs, r)
		}
		require.Equal(t, 10, c.Len())
		time.Sleep(time.Second)
		for i, r := range rs {
			n := len(r.snapshot())
			require.InDelta(t, 50, n, 1, "ticker %d ticked %d times", i, n)
		}
	})
}

func TestUnregisterStopsTicks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := New(Config{Shards: 2, GoTimers: true})
		defer c.Close()
		r := &recorder{}
		unregister, err := c.Register(r)
		require.NoError(t, err)
		time.Sleep(100 * time.Millisecond)
		unregister()
		unregister() // idempotent
		n := len(r.snapshot())
		time.Sleep(time.Second)
		require.Equal(t, n, len(r.snapshot()))
		require.Zero(t, c.Len())
	})
}

func TestCatchUpIsBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		c := New(Config{Shards: 1, MaxCatchUp: 3, GoTimers: true})
		defer c.Close()
		// One round stalls for 100 ms (five periods).
		var once sync.Once
		r := &recorder{}
		_, err := c.Register(TickerFunc(func(now time.Time) {
			r.Tick(now)
			if now.Sub(start) >= 40*time.Millisecond {
				once.Do(func() { time.Sleep(100 * time.Millisecond) })
			}
		}))
		require.NoError(t, err)
		time.Sleep(300 * time.Millisecond)
		got := r.snapshot()
		late, skipped := c.Late()
		require.Equal(t, uint64(2), late, "a burst of at most MaxCatchUp ticks")
		require.Equal(t, uint64(2), skipped)
		// The schedule stays on the 20 ms grid.
		for _, at := range got {
			require.Zero(t, at.Sub(start)%(20*time.Millisecond))
		}
	})
}

func TestCloseJoinsGoroutines(t *testing.T) {
	c := New(Config{Shards: 3})
	_, err := c.Register(TickerFunc(func(time.Time) {}))
	require.NoError(t, err)
	require.NoError(t, c.Close())
	require.NoError(t, c.Close())
	_, err = c.Register(TickerFunc(func(time.Time) {}))
	require.ErrorIs(t, err, ErrClosed)
	goleak.VerifyNone(t)
}

// TestUnregisterFromInsideTick: a leg closed from its own tick (or another
// leg's) neither deadlocks nor is ticked again.
func TestUnregisterFromInsideTick(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := New(Config{Shards: 1, GoTimers: true})
		defer c.Close()
		var (
			mu       sync.Mutex
			selfN    int
			victimN  int
			atRemove int
			unSelf   func()
			unVictim func()
		)
		var err error
		mu.Lock() // the tickers read unSelf and unVictim under mu
		unSelf, err = c.Register(TickerFunc(func(time.Time) {
			mu.Lock()
			defer mu.Unlock()
			selfN++
			if selfN == 3 {
				unSelf()
				unVictim()
				atRemove = victimN
				_, err := c.Register(TickerFunc(func(time.Time) {}))
				if err != nil {
					panic(err)
				}
			}
		}))
		require.NoError(t, err)
		unVictim, err = c.Register(TickerFunc(func(time.Time) {
			mu.Lock()
			defer mu.Unlock()
			victimN++
		}))
		mu.Unlock()
		require.NoError(t, err)
		time.Sleep(time.Second)
		mu.Lock()
		defer mu.Unlock()
		require.Equal(t, 3, selfN)
		require.Equal(t, atRemove, victimN, "never ticked once removed, not even later in that round")
		require.Equal(t, 1, c.Len())
	})
}

// TestPreciseSleepWakesCloserToTheDueTime runs, side by side in real time,
// a clock on the precise sleep and one on Go's timers: the precise one's
// ticks start closer to their due time (the median lateness, over 100 ticks
// of 5 ms, is lower), which is what every leg's send jitter is made of.
func TestPreciseSleepWakesCloserToTheDueTime(t *testing.T) {
	lateness := func(goTimers bool, out *[]time.Duration, done *sync.WaitGroup) *Clock {
		c := New(Config{Shards: 1, Period: 5 * time.Millisecond, GoTimers: goTimers})
		var mu sync.Mutex
		_, err := c.Register(TickerFunc(func(now time.Time) {
			mu.Lock()
			defer mu.Unlock()
			if len(*out) < 100 {
				*out = append(*out, time.Since(now))
				if len(*out) == 100 {
					done.Done()
				}
			}
		}))
		require.NoError(t, err)
		return c
	}
	var precise, timers []time.Duration
	var done sync.WaitGroup
	done.Add(2)
	cp := lateness(false, &precise, &done)
	ct := lateness(true, &timers, &done)
	done.Wait()
	require.NoError(t, cp.Close())
	require.NoError(t, ct.Close())
	median := func(d []time.Duration) time.Duration {
		d = append([]time.Duration(nil), d...)
		slices.Sort(d)
		return d[len(d)/2]
	}
	t.Logf("median lateness: precise sleep %v, Go timers %v", median(precise), median(timers))
	require.Less(t, median(precise), median(timers))
}
