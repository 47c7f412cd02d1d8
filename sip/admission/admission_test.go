package admission_test

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/sip/admission"
	"github.com/voxrun/voxrun/sip/siptest"
)

var (
	attacker = netip.MustParseAddr("203.0.113.7")
	carrier  = netip.MustParseAddr("198.51.100.20")
	phone    = netip.MustParseAddr("192.0.2.44")
)

func TestPike(t *testing.T) {
	clock := siptest.NewClock(time.Unix(1_700_000_000, 0))
	p := admission.NewPike(admission.PikeConfig{
		Rate: 10, Burst: 20, Ban: time.Minute,
		Exempt: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")},
	}, clock.Now)

	// A burst is allowed, the message after it bans the source once.
	for i := 0; i < 20; i++ {
		require.Equal(t, admission.Allow, p.Check(attacker), "message %d", i)
	}
	require.Equal(t, admission.NewBan, p.Check(attacker))
	require.Equal(t, admission.Banned, p.Check(attacker))
	require.True(t, p.Banned(attacker))
	// Another source is not affected; an exempt one is never limited.
	require.Equal(t, admission.Allow, p.Check(phone))
	for i := 0; i < 1000; i++ {
		require.Equal(t, admission.Allow, p.Check(carrier))
	}
	// The ban holds for its duration even though tokens refill, then lifts.
	clock.Advance(59 * time.Second)
	require.Equal(t, admission.Banned, p.Check(attacker))
	clock.Advance(2 * time.Second)
	require.False(t, p.Banned(attacker))
	require.Equal(t, admission.Allow, p.Check(attacker))
	// At the sustained rate a source is never banned.
	for i := 0; i < 100; i++ {
		clock.Advance(100 * time.Millisecond)
		require.Equal(t, admission.Allow, p.Check(phone), "message %d", i)
	}
}

func TestPikeIPv4MappedIsOneSource(t *testing.T) {
	clock := siptest.NewClock(time.Unix(0, 0))
	p := admission.NewPike(admission.PikeConfig{Rate: 1, Burst: 1}, clock.Now)
	require.Equal(t, admission.Allow, p.Check(attacker))
	require.Equal(t, admission.NewBan, p.Check(netip.AddrFrom16(attacker.As16())))
}

func TestPikeDisabled(t *testing.T) {
	p := admission.NewPike(admission.PikeConfig{Disabled: true, Rate: 1, Burst: 1}, nil)
	for i := 0; i < 100; i++ {
		require.Equal(t, admission.Allow, p.Check(attacker))
	}
	require.False(t, p.Banned(attacker))
}

func TestPikeSweepsIdleSources(t *testing.T) {
	clock := siptest.NewClock(time.Unix(0, 0))
	p := admission.NewPike(admission.PikeConfig{Rate: 10, Burst: 10, MaxSources: 100}, clock.Now)
	for i := 0; i < 100; i++ {
		p.Check(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}))
	}
	require.Equal(t, 100, p.Len())
	// Once their buckets have refilled, idle sources make room for new ones.
	clock.Advance(2 * time.Second)
	require.Equal(t, admission.Allow, p.Check(phone))
	require.Equal(t, 1, p.Len())
}

func TestBudget(t *testing.T) {
	cases := []struct {
		name  string
		cfg   admission.BudgetConfig
		steps []string // "acquire", "refused:<reason>", "release", "tick"
	}{
		{
			name:  "unlimited",
			cfg:   admission.BudgetConfig{},
			steps: []string{"acquire", "acquire", "acquire"},
		},
		{
			name:  "concurrency",
			cfg:   admission.BudgetConfig{MaxConcurrent: 2},
			steps: []string{"acquire", "acquire", "refused:concurrent calls", "release", "acquire"},
		},
		{
			name:  "calls per second",
			cfg:   admission.BudgetConfig{CallsPerSecond: 2},
			steps: []string{"acquire", "acquire", "refused:calls per second", "tick", "acquire", "acquire", "refused:calls per second"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clock := siptest.NewClock(time.Unix(0, 0))
			b := admission.NewBudget(tc.cfg, clock.Now)
			var releases []func()
			for i, step := range tc.steps {
				switch {
				case step == "acquire":
					release, err := b.Acquire()
					require.NoError(t, err, "step %d", i)
					releases = append(releases, release)
				case step == "release":
					releases[0]()
					releases[0]() // idempotent
					releases = releases[1:]
				case step == "tick":
					clock.Advance(time.Second)
				default:
					_, err := b.Acquire()
					var oe *admission.OverloadError
					require.True(t, errors.As(err, &oe), "step %d", i)
					require.ErrorIs(t, err, admission.ErrOverload)
					require.Equal(t, 503, oe.Status)
					require.Equal(t, 5*time.Second, oe.RetryAfter)
					require.Equal(t, step[len("refused:"):], oe.Reason)
				}
			}
			require.Equal(t, len(releases), b.Active())
		})
	}
}
