package admission_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/sip/admission"
	"github.com/voxrun/voxrun/sip/siptest"
)

func TestLockout(t *testing.T) {
	clock := siptest.NewClock(time.Unix(1_700_000_000, 0))
	l := admission.NewLockout(admission.LockoutConfig{MaxFailures: 3, Window: time.Minute, LockFor: 10 * time.Minute}, clock.Now)
	const key = "user:alice@acme.example.com"

	require.False(t, l.Fail(key))
	require.False(t, l.Fail(key))
	require.True(t, l.Fail(key), "the third failure locks")
	require.True(t, l.Locked(key))
	require.False(t, l.Fail(key), "locking is reported once")
	l.Succeed(key)
	require.True(t, l.Locked(key), "a success does not lift a lockout")
	require.False(t, l.Locked("user:bob@acme.example.com"))

	clock.Advance(10 * time.Minute)
	require.False(t, l.Locked(key))

	// Failures spread wider than the window never lock.
	for i := 0; i < 10; i++ {
		require.False(t, l.Fail("src:192.0.2.1"), "failure %d", i)
		clock.Advance(31 * time.Second)
	}
	// A success forgets earlier failures.
	require.False(t, l.Fail("src:192.0.2.2"))
	require.False(t, l.Fail("src:192.0.2.2"))
	l.Succeed("src:192.0.2.2")
	require.False(t, l.Fail("src:192.0.2.2"))
	require.False(t, l.Fail("src:192.0.2.2"))
	require.True(t, l.Fail("src:192.0.2.2"))
}
