package leg_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/sip/leg"
)

// Session timers (RFC 4028) against sipp, with a 2 s Min-SE so that the
// intervals are seconds.

func TestSippSessionTimerRefresh(t *testing.T) {
	h := newHarness(t, leg.Config{MinSE: 2 * time.Second}, answer)
	runSipp(t, h, "uac_session_timer_refresh.xml")
	l := h.leg(t)
	require.True(t, closed(l.Ended(), 5*time.Second))
	require.Equal(t, leg.CauseBye, l.Cause(), "sipp hung up after voxrun's refresh")
}

func TestSippSessionTimerExpires(t *testing.T) {
	h := newHarness(t, leg.Config{MinSE: 2 * time.Second}, answer)
	start := time.Now()
	runSipp(t, h, "uac_session_timer_expire.xml")
	l := h.leg(t)
	require.True(t, closed(l.Done(), 5*time.Second))
	require.Equal(t, leg.CauseSessionExpired, l.Cause())
	require.Less(t, time.Since(start), 3*time.Second, "the BYE came before the interval ran out")
}

func TestSippSessionTimerTooSmall(t *testing.T) {
	h := newHarness(t, leg.Config{MinSE: 2 * time.Second}, answer)
	runSipp(t, h, "uac_session_timer_small.xml")
	select {
	case <-h.legs:
		t.Fatal("a leg was built for an INVITE refused with 422")
	default:
	}
}

// TestSippReferReceived: sipp transfers the call; the leg's OnRefer
// accepts, voxrun NOTIFYs 100 then the outcome.
func TestSippReferReceived(t *testing.T) {
	refers := make(chan leg.Refer, 1)
	h := newHarness(t, leg.Config{}, func(ctx context.Context, l *leg.Leg) {
		l.OnRefer(func(r leg.Refer) int { refers <- r; return 202 })
		answer(ctx, l)
		select {
		case <-refers:
			refers <- leg.Refer{} // seen: hand it back to the test
		case <-l.Done():
			return
		}
		// The transfer "succeeded".
		_ = l.NotifyRefer(ctx, 200, "OK")
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		runSipp(t, h, "uac_refer.xml")
	}()
	l := h.leg(t)
	<-done
	require.True(t, closed(l.Ended(), 5*time.Second))
	require.Equal(t, leg.CauseBye, l.Cause())
}

// TestSippReferSent: voxrun transfers the far end with REFER and follows
// its NOTIFYs to the final 200.
func TestSippReferSent(t *testing.T) {
	s := startSippUAS(t, "uas_refer.xml")
	c := newCaller(t)
	ctx := ctxTimeout(t, 15*time.Second)
	out, err := c.agent.Dial(ctx, leg.DialRequest{Target: s.target, From: leg.Party{User: "alice"}})
	require.NoError(t, err)
	defer out.Close()
	var progress []int
	status, err := out.Refer(ctx, "sip:carol@example.com", map[string]string{"X-Why": "transfer"}, func(st int) { progress = append(progress, st) })
	require.NoError(t, err)
	require.Equal(t, 200, status)
	require.Equal(t, []int{100, 200}, progress)
	require.NoError(t, out.Hangup(ctx, nil))
	s.wait(t)
}

// TestSippSessionTimer422: the far end wants a longer interval; Dial asks
// again with its Min-SE and the call is up.
func TestSippSessionTimer422(t *testing.T) {
	s := startSippUAS(t, "uas_session_422.xml")
	c := newCaller(t)
	ctx := ctxTimeout(t, 15*time.Second)
	out, err := c.agent.Dial(ctx, leg.DialRequest{Target: s.target, From: leg.Party{User: "alice"}})
	require.NoError(t, err)
	defer out.Close()
	require.Contains(t, out.Request().GetHeader("Session-Expires").Value(), "3600")
	require.NoError(t, out.Hangup(ctx, nil))
	s.wait(t)
}
