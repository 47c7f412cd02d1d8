package leg_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	sipgosip "github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"
	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/media"
	"github.com/voxrun/voxrun/sip/leg"
)

func answer(ctx context.Context, l *leg.Leg) {
	_ = l.Ring(ctx, map[string]string{"X-Test": "ringing"})
	_ = l.Answer(ctx)
}

// ringThenAnswer rings, waits until the caller saw the 180, then answers.
func ringThenAnswer(saw <-chan struct{}) behaviour {
	return func(ctx context.Context, l *leg.Leg) {
		_ = l.Ring(ctx, map[string]string{"X-Test": "ringing"})
		select {
		case <-saw:
		case <-ctx.Done():
		}
		_ = l.Answer(ctx)
	}
}

func TestAnswerThenCallerBye(t *testing.T) {
	saw := make(chan struct{})
	h := newHarness(t, leg.Config{}, ringThenAnswer(saw))
	u := h.newUAC(t)
	ctx := ctxTimeout(t, 10*time.Second)
	rec := &recorder{}
	sess, err := u.dc.Invite(ctx, h.uri("+15551234567"), u.pcmuOffer(), sipgosip.NewHeader("Content-Type", "application/sdp"))
	require.NoError(t, err)
	defer sess.Close()
	require.NoError(t, sess.WaitAnswer(ctx, sipgo.AnswerOptions{OnResponse: func(res *sipgosip.Response) error {
		if res.StatusCode == 180 {
			close(saw)
		}
		return rec.onResponse(res)
	}}))
	l := h.leg(t)

	ok := sess.InviteResponse
	require.EqualValues(t, 200, ok.StatusCode)
	require.Equal(t, "application/sdp", ok.ContentType().Value())
	require.Contains(t, string(ok.Body()), "a=rtpmap:0 PCMU/8000")
	require.Contains(t, string(ok.Body()), "a=rtpmap:101 telephone-event/8000")
	require.NotNil(t, ok.Contact())
	ringing := rec.status(180)
	require.NotNil(t, ringing, "180 Ringing")
	require.Equal(t, "ringing", ringing.GetHeader("X-Test").Value())
	require.NotNil(t, rec.status(100), "100 Trying")
	require.NoError(t, sess.Ack(ctx))

	// Once answered, the leg sends RTP (comfort silence) to the offer's port.
	_ = u.rtp.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 1500)
	n, err := u.rtp.Read(buf)
	require.NoError(t, err)
	var p rtp.Packet
	require.NoError(t, p.Unmarshal(buf[:n]))
	require.EqualValues(t, 0, p.PayloadType)

	d := l.Dialog()
	require.Equal(t, sess.InviteRequest.CallID().Value(), d.CallID)
	toTag, _ := ok.To().Params.Get("tag")
	fromTag, _ := sess.InviteRequest.From().Params.Get("tag")
	require.Equal(t, toTag, d.LocalTag)
	require.Equal(t, fromTag, d.RemoteTag)
	require.Equal(t, "UDP", d.Transport)
	require.Contains(t, d.LocalSDP, "PCMU")
	require.Contains(t, d.RemoteSDP, "o=uac")
	require.Contains(t, d.RemoteTarget, "127.0.0.1")

	require.NoError(t, sess.Bye(ctx))
	require.True(t, closed(l.Ended(), 5*time.Second), "BYE ends the leg")
	require.Equal(t, leg.CauseBye, l.Cause())
	require.ErrorIs(t, l.Hangup(ctx, nil), leg.ErrEnded)
}

func TestHangupSendsByeWithHeaders(t *testing.T) {
	h := newHarness(t, leg.Config{}, answer)
	u := h.newUAC(t)
	ctx := ctxTimeout(t, 10*time.Second)
	sess, err := u.dc.Invite(ctx, h.uri("100"), u.pcmuOffer(), sipgosip.NewHeader("Content-Type", "application/sdp"))
	require.NoError(t, err)
	defer sess.Close()
	require.NoError(t, sess.WaitAnswer(ctx, sipgo.AnswerOptions{}))
	require.NoError(t, sess.Ack(ctx))
	l := h.leg(t)

	require.NoError(t, l.Hangup(ctx, map[string]string{"X-Reason": "app hung up"}))
	select {
	case bye := <-u.byes:
		require.Equal(t, "app hung up", bye.GetHeader("X-Reason").Value())
		require.Equal(t, sess.InviteRequest.CallID().Value(), bye.CallID().Value())
	case <-time.After(5 * time.Second):
		t.Fatal("no BYE reached the caller")
	}
	require.True(t, closed(l.Done(), time.Second))
	require.False(t, closed(l.Ended(), 10*time.Millisecond), "Ended is for the far end only")
	require.Equal(t, leg.CauseHangup, l.Cause())
	require.EqualValues(t, 1, l.Dialog().LocalCSeq)
}

func TestCancelBeforeAnswer(t *testing.T) {
	h := newHarness(t, leg.Config{}, func(ctx context.Context, l *leg.Leg) { _ = l.Ring(ctx, nil) })
	u := h.newUAC(t)
	ctx := ctxTimeout(t, 10*time.Second)
	sess, err := u.dc.Invite(ctx, h.uri("100"), u.pcmuOffer(), sipgosip.NewHeader("Content-Type", "application/sdp"))
	require.NoError(t, err)
	defer sess.Close()
	wctx, cancel := context.WithCancel(ctx)
	rec := &recorder{}
	err = sess.WaitAnswer(wctx, sipgo.AnswerOptions{OnResponse: func(res *sipgosip.Response) error {
		_ = rec.onResponse(res)
		if res.StatusCode == 180 {
			cancel() // sipgo sends CANCEL
		}
		return nil
	}})
	require.Error(t, err)
	l := h.leg(t)
	require.True(t, closed(l.Ended(), 5*time.Second), "CANCEL ends the leg")
	require.Equal(t, leg.CauseCancel, l.Cause())
	require.ErrorIs(t, l.Answer(ctx), leg.ErrEnded)
}

func TestRejectWithReason(t *testing.T) {
	h := newHarness(t, leg.Config{}, func(ctx context.Context, l *leg.Leg) {
		_ = l.Reject(ctx, 480, "Temporarily Unavailable", map[string]string{"X-Reason": "no configured application"})
	})
	u := h.newUAC(t)
	ctx := ctxTimeout(t, 10*time.Second)
	sess, err := u.dc.Invite(ctx, h.uri("100"), u.pcmuOffer(), sipgosip.NewHeader("Content-Type", "application/sdp"))
	require.NoError(t, err)
	defer sess.Close()
	err = sess.WaitAnswer(ctx, sipgo.AnswerOptions{})
	var de *sipgo.ErrDialogResponse
	require.ErrorAs(t, err, &de)
	require.EqualValues(t, 480, de.Res.StatusCode)
	require.Equal(t, "no configured application", de.Res.GetHeader("X-Reason").Value())
	l := h.leg(t)
	require.True(t, closed(l.Done(), time.Second))
	require.Equal(t, leg.CauseRejected, l.Cause())
}

func TestNoCommonCodecIs488(t *testing.T) {
	h := newHarness(t, leg.Config{}, answer)
	u := h.newUAC(t)
	ctx := ctxTimeout(t, 10*time.Second)
	sess, err := u.dc.Invite(ctx, h.uri("100"), u.offer("18", "rtpmap:18 G729/8000"), sipgosip.NewHeader("Content-Type", "application/sdp"))
	require.NoError(t, err)
	defer sess.Close()
	err = sess.WaitAnswer(ctx, sipgo.AnswerOptions{})
	var de *sipgo.ErrDialogResponse
	require.ErrorAs(t, err, &de)
	require.EqualValues(t, 488, de.Res.StatusCode)
	require.Zero(t, h.alloc.InUse())
}

func TestNoACKEndsTheCallWithBye(t *testing.T) {
	h := newHarness(t, leg.Config{T1: 10 * time.Millisecond, T2: 40 * time.Millisecond}, answer)
	u := h.newUAC(t)
	ctx := ctxTimeout(t, 10*time.Second)
	sess, err := u.dc.Invite(ctx, h.uri("100"), u.pcmuOffer(), sipgosip.NewHeader("Content-Type", "application/sdp"))
	require.NoError(t, err)
	defer sess.Close()
	require.NoError(t, sess.WaitAnswer(ctx, sipgo.AnswerOptions{}))
	l := h.leg(t)
	// No ACK: after 64*T1 the leg gives up (RFC 3261 §13.3.1.4).
	require.True(t, closed(l.Ended(), 5*time.Second))
	require.Equal(t, leg.CauseACKTimeout, l.Cause())
	select {
	case <-u.byes:
	case <-time.After(5 * time.Second):
		t.Fatal("no BYE after the ACK timeout")
	}
}

func TestInfoDigitsReachTheDigitSink(t *testing.T) {
	digits := make(chan media.Digit, 4)
	h := newHarness(t, leg.Config{}, func(ctx context.Context, l *leg.Leg) {
		l.Endpoint().OnDigit(media.DigitSinkFunc(func(d media.Digit) { digits <- d }))
		answer(ctx, l)
	})
	u := h.newUAC(t)
	ctx := ctxTimeout(t, 10*time.Second)
	sess, err := u.dc.Invite(ctx, h.uri("100"), u.pcmuOffer(), sipgosip.NewHeader("Content-Type", "application/sdp"))
	require.NoError(t, err)
	defer sess.Close()
	require.NoError(t, sess.WaitAnswer(ctx, sipgo.AnswerOptions{}))
	require.NoError(t, sess.Ack(ctx))
	l := h.leg(t)

	cases := []struct {
		name, ctype, body string
		status            int
		want              *media.Digit
	}{
		{"dtmf-relay", "application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", 200, &media.Digit{Key: '5', Duration: 160 * time.Millisecond, Origin: media.DigitSIPInfo}},
		{"event code 11 is #", "application/dtmf-relay", "Signal=11\r\nDuration=100\r\n", 200, &media.Digit{Key: '#', Duration: 100 * time.Millisecond, Origin: media.DigitSIPInfo}},
		{"application/dtmf", "application/dtmf", "*", 200, &media.Digit{Key: '*', Origin: media.DigitSIPInfo}},
		{"bad signal", "application/dtmf-relay", "Signal=x\r\n", 400, nil},
		{"unknown type", "text/plain", "hello", 415, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := sipgosip.NewRequest(sipgosip.INFO, sess.InviteResponse.Contact().Address)
			req.AppendHeader(sipgosip.NewHeader("Content-Type", c.ctype))
			req.SetBody([]byte(c.body))
			res, err := sess.Do(ctx, req)
			require.NoError(t, err)
			require.EqualValues(t, c.status, res.StatusCode)
			if c.want == nil {
				return
			}
			select {
			case d := <-digits:
				require.Equal(t, *c.want, d)
			case <-time.After(2 * time.Second):
				t.Fatal("no digit")
			}
		})
	}
	require.NoError(t, sess.Bye(ctx))
	require.True(t, closed(l.Ended(), 5*time.Second))
}

func TestReinviteHold(t *testing.T) {
	h := newHarness(t, leg.Config{}, answer)
	u := h.newUAC(t)
	ctx := ctxTimeout(t, 10*time.Second)
	sess, err := u.dc.Invite(ctx, h.uri("100"), u.pcmuOffer(), sipgosip.NewHeader("Content-Type", "application/sdp"))
	require.NoError(t, err)
	defer sess.Close()
	require.NoError(t, sess.WaitAnswer(ctx, sipgo.AnswerOptions{}))
	require.NoError(t, sess.Ack(ctx))
	l := h.leg(t)

	cases := []struct {
		offer, answer string
	}{
		{"sendonly", "a=recvonly"},
		{"inactive", "a=inactive"},
		{"sendrecv", "a=sendrecv"},
	}
	for _, c := range cases {
		req := sipgosip.NewRequest(sipgosip.INVITE, sess.InviteResponse.Contact().Address)
		req.AppendHeader(sipgosip.NewHeader("Content-Type", "application/sdp"))
		req.SetBody(u.offer("0 101", "rtpmap:0 PCMU/8000", "rtpmap:101 telephone-event/8000", c.offer))
		res, err := doRetrying(ctx, sess, req)
		require.NoError(t, err)
		require.EqualValues(t, 200, res.StatusCode, c.offer)
		require.Contains(t, string(res.Body()), c.answer, c.offer)
		ack := sipgosip.NewRequest(sipgosip.ACK, sess.InviteResponse.Contact().Address)
		require.NoError(t, sess.WriteRequest(ack))
	}
	require.Equal(t, "sendrecv", l.Media().Direction.String())

	// An offer without the call's codec is refused; the call goes on.
	req := sipgosip.NewRequest(sipgosip.INVITE, sess.InviteResponse.Contact().Address)
	req.AppendHeader(sipgosip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(u.offer("8", "rtpmap:8 PCMA/8000"))
	res, err := doRetrying(ctx, sess, req)
	require.NoError(t, err)
	require.EqualValues(t, 488, res.StatusCode)
	require.Equal(t, "PCMU", l.Media().Codec.Name)

	require.NoError(t, sess.Bye(ctx))
	require.True(t, closed(l.Ended(), 5*time.Second))
}

func TestUnknownDialogIs481(t *testing.T) {
	h := newHarness(t, leg.Config{}, answer)
	u := h.newUAC(t)
	ctx := ctxTimeout(t, 5*time.Second)
	req := sipgosip.NewRequest(sipgosip.BYE, h.uri("100"))
	to := &sipgosip.ToHeader{Address: h.uri("100"), Params: sipgosip.NewParams()}
	to.Params.Add("tag", "nosuchtag")
	req.AppendHeader(to)
	res, err := u.cli.Do(ctx, req)
	require.NoError(t, err)
	require.EqualValues(t, 481, res.StatusCode)
}

func TestHeaderRules(t *testing.T) {
	h := newHarness(t, leg.Config{}, func(ctx context.Context, l *leg.Leg) {
		err := l.Ring(ctx, map[string]string{"Via": "SIP/2.0/UDP evil"})
		if !errors.Is(err, leg.ErrHeader) {
			panic("Via accepted")
		}
		_ = l.Reject(ctx, 603, "Decline", map[string]string{"X-Reason": "line1\r\nInjected: yes"})
	})
	u := h.newUAC(t)
	ctx := ctxTimeout(t, 5*time.Second)
	sess, err := u.dc.Invite(ctx, h.uri("100"), u.pcmuOffer(), sipgosip.NewHeader("Content-Type", "application/sdp"))
	require.NoError(t, err)
	defer sess.Close()
	err = sess.WaitAnswer(ctx, sipgo.AnswerOptions{})
	var de *sipgo.ErrDialogResponse
	require.ErrorAs(t, err, &de)
	require.EqualValues(t, 603, de.Res.StatusCode)
	require.Equal(t, "line1  Injected: yes", de.Res.GetHeader("X-Reason").Value())
	require.Nil(t, de.Res.GetHeader("Injected"))
	h.leg(t)
}

// doRetrying sends an in-dialog request and sends it again after a 500 with
// Retry-After (RFC 3261 §14.2: the previous ACK may not have arrived yet).
func doRetrying(ctx context.Context, sess *sipgo.DialogClientSession, req *sipgosip.Request) (*sipgosip.Response, error) {
	for i := 0; ; i++ {
		res, err := sess.Do(ctx, req.Clone())
		if err != nil || res.StatusCode != 500 || res.GetHeader("Retry-After") == nil || i == 20 {
			return res, err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestDelayedOfferACKWithoutAnswerEndsTheCall(t *testing.T) {
	h := newHarness(t, leg.Config{}, func(ctx context.Context, l *leg.Leg) {
		if !errors.Is(l.Progress(ctx), leg.ErrNoEarlyMedia) {
			panic("early media without an offer")
		}
		answer(ctx, l)
	})
	u := h.newUAC(t)
	ctx := ctxTimeout(t, 10*time.Second)
	sess, err := u.dc.Invite(ctx, h.uri("100"), nil)
	require.NoError(t, err)
	defer sess.Close()
	require.NoError(t, sess.WaitAnswer(ctx, sipgo.AnswerOptions{}))
	body := string(sess.InviteResponse.Body())
	require.Contains(t, body, "RTP/AVP 0 101", "voxrun offers in the 2xx")
	require.NotContains(t, body, "PCMA")
	require.NoError(t, sess.Ack(ctx)) // no answer in the ACK
	l := h.leg(t)
	select {
	case bye := <-u.byes:
		require.Contains(t, bye.GetHeader("Reason").Value(), "cause=488")
	case <-time.After(5 * time.Second):
		t.Fatal("no BYE after an ACK without answer")
	}
	require.True(t, closed(l.Ended(), time.Second))
	require.Equal(t, leg.CauseBadAnswer, l.Cause())
}

func TestInDialogOptionsAndCSeqOrder(t *testing.T) {
	h := newHarness(t, leg.Config{}, answer)
	u := h.newUAC(t)
	ctx := ctxTimeout(t, 10*time.Second)
	sess, err := u.dc.Invite(ctx, h.uri("100"), u.pcmuOffer(), sipgosip.NewHeader("Content-Type", "application/sdp"))
	require.NoError(t, err)
	defer sess.Close()
	require.NoError(t, sess.WaitAnswer(ctx, sipgo.AnswerOptions{}))
	require.NoError(t, sess.Ack(ctx))
	l := h.leg(t)

	res, err := sess.Do(ctx, sipgosip.NewRequest(sipgosip.OPTIONS, sess.InviteResponse.Contact().Address))
	require.NoError(t, err)
	require.EqualValues(t, 200, res.StatusCode)

	// RFC 3261 §12.2.2: a CSeq lower than the last one gets 500.
	stale := sipgosip.NewRequest(sipgosip.INFO, sess.InviteResponse.Contact().Address)
	stale.AppendHeader(sipgosip.HeaderClone(sess.InviteRequest.From()))
	stale.AppendHeader(sipgosip.HeaderClone(sess.InviteResponse.To()))
	stale.AppendHeader(sipgosip.HeaderClone(sess.InviteRequest.CallID()))
	stale.AppendHeader(&sipgosip.CSeqHeader{SeqNo: 1, MethodName: sipgosip.INFO})
	res, err = u.cli.Do(ctx, stale)
	require.NoError(t, err)
	require.EqualValues(t, 500, res.StatusCode)

	// Methods a leg does not take get 405 with Allow.
	res, err = sess.Do(ctx, sipgosip.NewRequest(sipgosip.MESSAGE, sess.InviteResponse.Contact().Address))
	require.NoError(t, err)
	require.EqualValues(t, 405, res.StatusCode)
	require.NotNil(t, res.GetHeader("Allow"))

	require.NoError(t, sess.Bye(ctx))
	require.True(t, closed(l.Ended(), 5*time.Second))
}

// TestRecordRouteIsTheRouteSet: the INVITE's Record-Route, in order, is
// the route set (RFC 3261 §12.1.1) and voxrun's BYE carries it as Route.
func TestRecordRouteIsTheRouteSet(t *testing.T) {
	h := newHarness(t, leg.Config{}, answer)
	u := h.newUAC(t)
	ctx := ctxTimeout(t, 10*time.Second)
	// Both "proxies" are the server itself, so that the caller's ACK,
	// routed through them, still arrives.
	self := h.srv.UDPAddr().String()
	rr := []string{"<sip:" + self + ";lr;n=1>", "<sip:" + self + ";lr;n=2>"}
	sess, err := u.dc.Invite(ctx, h.uri("100"), u.pcmuOffer(), sipgosip.NewHeader("Content-Type", "application/sdp"),
		sipgosip.NewHeader("Record-Route", rr[0]), sipgosip.NewHeader("Record-Route", rr[1]))
	require.NoError(t, err)
	defer sess.Close()
	require.NoError(t, sess.WaitAnswer(ctx, sipgo.AnswerOptions{}))
	require.NoError(t, sess.Ack(ctx))
	l := h.leg(t)
	require.Equal(t, rr, l.Dialog().RouteSet)

	require.NoError(t, l.Hangup(ctx, nil))
	select {
	case bye := <-u.byes:
		var routes []string
		for _, r := range bye.GetHeaders("Route") {
			routes = append(routes, r.Value())
		}
		require.Equal(t, rr, routes)
	case <-time.After(5 * time.Second):
		t.Fatal("no BYE")
	}
}
