package leg_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/media"
	"github.com/voxrun/voxrun/sip/leg"
	"github.com/voxrun/voxrun/sip/siptest"
)

// runSipp runs one call of scenario against the harness's server, on
// 127.0.0.1 only, bounded in time, and fails the test with sipp's error log
// when the call fails.
func runSipp(t *testing.T, h *harness, scenario string) {
	t.Helper()
	runSippOver(t, h, scenario, "u1", "-m", "1", "-l", "1")
}

// runSippOver runs scenario over sipp transport mode "u1" (UDP) or "t1"
// (one TCP connection).
func runSippOver(t *testing.T, h *harness, scenario, transport string, calls ...string) {
	t.Helper()
	sipp := siptest.Tool(t, "sipp", "sip-tester")
	abs, err := filepath.Abs(filepath.Join("testdata", "sipp", scenario))
	require.NoError(t, err)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if len(calls) == 0 {
		calls = []string{"-m", "1", "-l", "1"}
	}
	args := append([]string{"-sf", abs, "-t", transport}, calls...)
	cmd := exec.CommandContext(ctx, sipp, append(args,
		"-i", "127.0.0.1", "-p", strconv.Itoa(siptest.FreeUDPPort(t)),
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(siptest.FreeUDPPort(t)),
		"-s", "15551234567",
		"-timeout", "20s", "-timeout_error",
		"-nostdin", "-trace_err", "-error_file", filepath.Join(dir, "errors.log"),
		"-trace_msg", "-message_file", filepath.Join(dir, "messages.log"),
		h.srv.UDPAddr().String(),
	)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		errs, _ := os.ReadFile(filepath.Join(dir, "errors.log"))
		msgs, _ := os.ReadFile(filepath.Join(dir, "messages.log"))
		t.Fatalf("sipp %s failed: %v\n--- output\n%s\n--- errors\n%s\n--- messages\n%s", scenario, err, siptest.Tail(out), errs, msgs)
	}
}

func TestSippInviteAckBye(t *testing.T) {
	h := newHarness(t, leg.Config{}, answer)
	runSipp(t, h, "uac_invite_bye.xml")
	l := h.leg(t)
	require.True(t, closed(l.Ended(), 5*time.Second))
	require.Equal(t, leg.CauseBye, l.Cause())
}

func TestSippVoxrunHangsUp(t *testing.T) {
	for _, transport := range []string{"u1", "t1"} {
		t.Run(transport, func(t *testing.T) {
			h := newHarness(t, leg.Config{}, func(ctx context.Context, l *leg.Leg) {
				answer(ctx, l)
				hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				defer cancel()
				_ = l.Hangup(hctx, map[string]string{"X-Reason": "sipp test"})
			})
			runSippOver(t, h, "uac_invite_remote_bye.xml", transport)
			l := h.leg(t)
			require.True(t, closed(l.Done(), 5*time.Second))
			require.Equal(t, leg.CauseHangup, l.Cause())
		})
	}
}

func TestSippInviteAckByeOverTCP(t *testing.T) {
	h := newHarness(t, leg.Config{}, answer)
	runSippOver(t, h, "uac_invite_bye.xml", "t1")
	l := h.leg(t)
	require.True(t, closed(l.Ended(), 5*time.Second))
	require.Equal(t, "TCP", l.Dialog().Transport)
}

func TestSippCancel(t *testing.T) {
	h := newHarness(t, leg.Config{}, func(ctx context.Context, l *leg.Leg) { _ = l.Ring(ctx, nil) })
	runSipp(t, h, "uac_cancel.xml")
	l := h.leg(t)
	require.True(t, closed(l.Ended(), 5*time.Second))
	require.Equal(t, leg.CauseCancel, l.Cause())
}

func TestSippReinviteHold(t *testing.T) {
	h := newHarness(t, leg.Config{}, answer)
	runSipp(t, h, "uac_reinvite_hold.xml")
	l := h.leg(t)
	require.True(t, closed(l.Ended(), 5*time.Second))
	require.Equal(t, "sendrecv", l.Media().Direction.String(), "resumed after the hold")
	require.EqualValues(t, 4, l.Dialog().RemoteCSeq)
}

func TestSippInfoDTMF(t *testing.T) {
	digits := make(chan media.Digit, 8)
	h := newHarness(t, leg.Config{}, func(ctx context.Context, l *leg.Leg) {
		l.Endpoint().OnDigit(media.DigitSinkFunc(func(d media.Digit) { digits <- d }))
		answer(ctx, l)
	})
	runSipp(t, h, "uac_info_dtmf.xml")
	l := h.leg(t)
	require.True(t, closed(l.Ended(), 5*time.Second))
	var got []media.Digit
	for len(digits) > 0 {
		got = append(got, <-digits)
	}
	require.Equal(t, []media.Digit{
		{Key: '1', Duration: 160 * time.Millisecond, Origin: media.DigitSIPInfo},
		{Key: '#', Duration: 160 * time.Millisecond, Origin: media.DigitSIPInfo},
	}, got)
}

func TestSippDelayedOffer(t *testing.T) {
	h := newHarness(t, leg.Config{}, answer)
	runSipp(t, h, "uac_delayed_offer.xml")
	l := h.leg(t)
	require.True(t, closed(l.Ended(), 5*time.Second))
	require.Equal(t, leg.CauseBye, l.Cause())
	require.True(t, l.Media().Remote.IsValid(), "the ACK's answer gave the peer's RTP address")
	require.Contains(t, l.Dialog().RemoteSDP, "o=sipp")
}

// TestSippManyCalls runs 40 calls, up to 10 at a time: every one succeeds,
// and the harness's cleanup checks that no RTP port, dialog or goroutine is
// left behind.
func TestSippManyCalls(t *testing.T) {
	h := newHarness(t, leg.Config{}, answer)
	runSippOver(t, h, "uac_invite_bye.xml", "u1", "-m", "40", "-l", "10", "-r", "40")
	require.Eventually(t, func() bool { return h.agent.Len() == 0 && h.alloc.InUse() == 0 }, 5*time.Second, 10*time.Millisecond)
}
