package leg_test

import (
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/sip/leg"
	"github.com/voxrun/voxrun/sip/siptest"
)

// sippUAS is sipp running one call of a UAS scenario on 127.0.0.1
// (siptest.SippUAS with this package's testdata/sipp).
type sippUAS struct {
	*siptest.SippUAS
	target string // the SIP URI voxrun dials
	port   string // sipp's SIP port
}

// startSippUAS starts sipp with scenario (testdata/sipp) as the called
// party for one call over UDP.
func startSippUAS(t *testing.T, scenario string, extra ...string) *sippUAS {
	t.Helper()
	return startSippUASOver(t, "u1", scenario, extra...)
}

// startSippUASOver is startSippUAS over sipp transport mode "u1" (UDP) or
// "t1" (TCP).
func startSippUASOver(t *testing.T, transport, scenario string, extra ...string) *sippUAS {
	t.Helper()
	s := siptest.StartSippUAS(t, filepath.Join("testdata", "sipp", scenario), transport, extra...)
	return &sippUAS{SippUAS: s, target: s.Target, port: strconv.Itoa(s.Port)}
}

// wait waits for sipp to end its call and fails the test with its logs
// when the call failed.
func (s *sippUAS) wait(t *testing.T) { t.Helper(); s.Wait(t) }

// TestSippUASAnswer: voxrun dials sipp, which rings and answers; RTP
// that voxrun sends comes back from sipp's echo; voxrun hangs up.
func TestSippUASAnswer(t *testing.T) {
	s := startSippUAS(t, "uas_answer.xml", "-rtp_echo")
	c := newCaller(t)
	ctx := ctxTimeout(t, 15*time.Second)
	var provisional []int
	out, err := c.agent.Dial(ctx, leg.DialRequest{
		Target: s.target, From: leg.Party{User: "+15550001111"},
		Headers:       map[string]string{"X-Test": "dial-test"},
		Timeout:       10 * time.Second,
		OnProvisional: func(status int) { provisional = append(provisional, status) },
	})
	require.NoError(t, err)
	defer out.Close()
	require.Contains(t, provisional, 180)
	d := out.Dialog()
	require.Contains(t, d.RemoteTag, "SIPpTag01")
	require.Contains(t, d.RemoteTarget, "callee@127.0.0.1")
	require.Contains(t, d.RemoteSDP, "o=sipp")
	require.EqualValues(t, 1, d.LocalCSeq)
	// RFC 3261 §12.1.2: the UAC's route set is the Record-Route reversed.
	require.Equal(t, []string{"<sip:127.0.0.1:" + s.port + ";lr>", "<sip:p2.example.invalid;lr>"}, d.RouteSet)

	out.Endpoint().SetSource(level(5000))
	echoed, remove := heard(out.Endpoint(), 5000)
	defer remove()
	require.Eventually(t, func() bool { return echoed.Load() > 5 }, 3*time.Second, 10*time.Millisecond, "sipp echoes voxrun's RTP")

	require.NoError(t, out.Hangup(ctx, map[string]string{"X-Reason": "sipp test"}))
	s.wait(t)
	require.Equal(t, leg.CauseHangup, out.Cause())
}

func TestSippUASBusy(t *testing.T) {
	s := startSippUAS(t, "uas_busy.xml")
	c := newCaller(t)
	ctx := ctxTimeout(t, 15*time.Second)
	_, err := c.agent.Dial(ctx, leg.DialRequest{Target: s.target, From: leg.Party{User: "200"}})
	require.Equal(t, 486, leg.StatusOf(err), "%v", err)
	s.wait(t)
}

func TestSippUASChallenge(t *testing.T) {
	s := startSippUAS(t, "uas_challenge.xml")
	c := newCaller(t)
	ctx := ctxTimeout(t, 15*time.Second)
	out, err := c.agent.Dial(ctx, leg.DialRequest{Target: s.target, From: leg.Party{User: "alice"},
		Auth: &leg.Credentials{Username: "alice", Password: "secret"}})
	require.NoError(t, err)
	defer out.Close()
	require.EqualValues(t, 2, out.Dialog().LocalCSeq, "the authenticated INVITE is a new transaction")
	require.Contains(t, out.Request().GetHeader("Authorization").Value(), `username="alice"`)
	require.NoError(t, out.Hangup(ctx, nil))
	s.wait(t)
}

// TestSippUASChallengeWrongPassword: sipp's verifyauth refuses the
// credentials with 403, which Dial returns.
func TestSippUASChallengeWrongPassword(t *testing.T) {
	s := startSippUAS(t, "uas_challenge.xml")
	c := newCaller(t)
	ctx := ctxTimeout(t, 15*time.Second)
	_, err := c.agent.Dial(ctx, leg.DialRequest{Target: s.target, From: leg.Party{User: "alice"},
		Auth: &leg.Credentials{Username: "alice", Password: "wrong"}})
	require.Equal(t, 403, leg.StatusOf(err), "%v", err)
	s.wait(t)
}

// TestSippUASChallengeWithoutCredentials: without Auth the 401 is the
// dial's result (sipp, left waiting for a second INVITE, is stopped).
func TestSippUASChallengeWithoutCredentials(t *testing.T) {
	s := startSippUAS(t, "uas_challenge.xml")
	c := newCaller(t)
	ctx := ctxTimeout(t, 15*time.Second)
	_, err := c.agent.Dial(ctx, leg.DialRequest{Target: s.target, From: leg.Party{User: "alice"}})
	require.Equal(t, 401, leg.StatusOf(err), "%v", err)
}

// TestSippUASNoAnswer: sipp rings forever; the dial timeout sends CANCEL,
// sipp answers it 200 and the INVITE 487.
func TestSippUASNoAnswer(t *testing.T) {
	s := startSippUAS(t, "uas_no_answer.xml")
	c := newCaller(t)
	ctx := ctxTimeout(t, 15*time.Second)
	var rang bool
	_, err := c.agent.Dial(ctx, leg.DialRequest{Target: s.target, From: leg.Party{User: "200"},
		Timeout: 500 * time.Millisecond, OnProvisional: func(status int) { rang = rang || status == 180 }})
	require.Equal(t, 487, leg.StatusOf(err), "%v", err)
	require.ErrorIs(t, err, leg.ErrNoAnswer)
	require.True(t, rang)
	s.wait(t)
}

// TestSippUASHangsUp: sipp answers, then sends BYE: the Agent's
// ServeDialog routes it to the outbound leg, which ends with CauseBye.
func TestSippUASHangsUp(t *testing.T) {
	s := startSippUAS(t, "uas_hangs_up.xml")
	c := newCaller(t)
	ctx := ctxTimeout(t, 15*time.Second)
	out, err := c.agent.Dial(ctx, leg.DialRequest{Target: s.target, From: leg.Party{User: "200"}})
	require.NoError(t, err)
	defer out.Close()
	require.True(t, closed(out.Ended(), 10*time.Second), "sipp's BYE ended the leg")
	require.Equal(t, leg.CauseBye, out.Cause())
	s.wait(t)
}

// TestSippUASAnswerCrossesCancel: sipp's 200 crosses voxrun's CANCEL;
// voxrun ACKs it and hangs up with BYE, and the dial still fails with 487.
func TestSippUASAnswerCrossesCancel(t *testing.T) {
	s := startSippUAS(t, "uas_cancel_crossed.xml")
	c := newCaller(t)
	ctx := ctxTimeout(t, 15*time.Second)
	_, err := c.agent.Dial(ctx, leg.DialRequest{Target: s.target, From: leg.Party{User: "200"}, Timeout: 300 * time.Millisecond})
	require.Equal(t, 487, leg.StatusOf(err), "%v", err)
	require.ErrorIs(t, err, leg.ErrNoAnswer)
	s.wait(t) // sipp received the ACK and the BYE
}

// TestSippUASEarlyMedia: a 183 with SDP starts the RTP session; the 2xx's
// answer keeps it (same codec) or replaces it (another codec), and RTP
// flows either way.
func TestSippUASEarlyMedia(t *testing.T) {
	for _, tc := range []struct {
		name, pt, codec string
	}{
		{name: "same codec", pt: "0", codec: "PCMU"},
		{name: "codec changed by the 2xx", pt: "8", codec: "PCMA"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startSippUAS(t, "uas_early_media.xml", "-rtp_echo", "-set", "answer_pt", tc.pt)
			c := newCaller(t)
			ctx := ctxTimeout(t, 15*time.Second)
			var provisional []int
			out, err := c.agent.Dial(ctx, leg.DialRequest{Target: s.target, From: leg.Party{User: "200"},
				OnProvisional: func(status int) { provisional = append(provisional, status) }})
			require.NoError(t, err)
			defer out.Close()
			require.Equal(t, []int{183}, provisional)
			require.Equal(t, tc.codec, out.Media().Codec.Name)
			out.Endpoint().SetSource(level(5000))
			echoed, remove := heard(out.Endpoint(), 5000)
			defer remove()
			require.Eventually(t, func() bool { return echoed.Load() > 5 }, 3*time.Second, 10*time.Millisecond, "sipp echoes voxrun's RTP")
			require.NoError(t, out.Hangup(ctx, nil))
			s.wait(t)
		})
	}
}

// TestSippUASOverTCP: the answered call and the far end's BYE over one
// TCP connection.
func TestSippUASOverTCP(t *testing.T) {
	t.Run("voxrun hangs up", func(t *testing.T) {
		s := startSippUASOver(t, "t1", "uas_answer.xml", "-rtp_echo")
		c := newCaller(t)
		ctx := ctxTimeout(t, 15*time.Second)
		out, err := c.agent.Dial(ctx, leg.DialRequest{Target: s.target, From: leg.Party{User: "200"},
			Headers: map[string]string{"X-Test": "dial-test"}})
		require.NoError(t, err)
		defer out.Close()
		require.Equal(t, "TCP", out.Dialog().Transport)
		require.NoError(t, out.Hangup(ctx, map[string]string{"X-Reason": "sipp test"}))
		s.wait(t)
	})
	t.Run("sipp hangs up", func(t *testing.T) {
		s := startSippUASOver(t, "t1", "uas_hangs_up.xml")
		c := newCaller(t)
		ctx := ctxTimeout(t, 15*time.Second)
		out, err := c.agent.Dial(ctx, leg.DialRequest{Target: s.target, From: leg.Party{User: "200"}})
		require.NoError(t, err)
		defer out.Close()
		require.True(t, closed(out.Ended(), 10*time.Second), "sipp's BYE ended the leg")
		s.wait(t)
	})
}
