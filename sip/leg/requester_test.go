package leg_test

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	sipgosip "github.com/emiago/sipgo/sip"
	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/media/clock"
	"github.com/voxrun/voxrun/media/ports"
	"github.com/voxrun/voxrun/sip/leg"
)

// TestHangupThroughRequester runs a leg on a plain sipgo server whose
// transaction layer is the leg's Requester (what cmd does once package sip
// exposes its user agent): the BYE's final response reaches Hangup.
func TestHangupThroughRequester(t *testing.T) {
	u := newUAC(t)
	t.Cleanup(u.close) // after the server's cleanup below
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("voxrun-test"))
	require.NoError(t, err)
	srv, err := sipgo.NewServer(ua)
	require.NoError(t, err)
	alloc, err := ports.New(ports.Config{Min: 48000, Max: 48999})
	require.NoError(t, err)
	clk := clock.New(clock.Config{Shards: 1})
	agent, err := leg.NewAgent(leg.Config{Ports: alloc, Clock: clk, MediaAddr: loopback,
		Requester: leg.TransactionLayer(ua.TransactionLayer()), Logger: quietLogger(t)})
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(context.Background())
	var handlers sync.WaitGroup
	legs := make(chan *leg.Leg, 1)
	invite := agent.InviteHandler(func(ctx context.Context, req *sipgosip.Request, tx sipgosip.ServerTransaction) {
		l, err := agent.Accept(ctx, req, tx)
		if err != nil {
			return
		}
		defer l.Close()
		_ = l.Answer(ctx)
		legs <- l
		_ = l.Wait(ctx)
	})
	srv.OnInvite(func(req *sipgosip.Request, tx sipgosip.ServerTransaction) {
		handlers.Add(1)
		defer handlers.Done()
		invite(ctx, req, tx)
	})
	srv.OnAck(func(req *sipgosip.Request, tx sipgosip.ServerTransaction) { agent.ServeDialog(ctx, req, tx) })
	srv.OnBye(func(req *sipgosip.Request, tx sipgosip.ServerTransaction) { agent.ServeDialog(ctx, req, tx) })
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	require.NoError(t, err)
	var serving sync.WaitGroup
	serving.Go(func() { _ = srv.ServeUDP(conn) })
	t.Cleanup(func() {
		cancel()
		handlers.Wait()
		require.NoError(t, agent.Close())
		_ = ua.Close()
		_ = conn.Close()
		serving.Wait()
		require.NoError(t, clk.Close())
		require.Zero(t, alloc.InUse())
	})

	// This caller refuses the BYE, so that its answer is visible to Hangup.
	u.srv.OnBye(func(req *sipgosip.Request, tx sipgosip.ServerTransaction) {
		_ = tx.Respond(sipgosip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
	})
	addr := conn.LocalAddr().(*net.UDPAddr)
	tctx := ctxTimeout(t, 10*time.Second)
	sess, err := u.dc.Invite(tctx, sipgosip.Uri{Scheme: "sip", User: "100", Host: "127.0.0.1", Port: addr.Port},
		u.pcmuOffer(), sipgosip.NewHeader("Content-Type", "application/sdp"))
	require.NoError(t, err)
	defer sess.Close()
	require.NoError(t, sess.WaitAnswer(tctx, sipgo.AnswerOptions{}))
	require.NoError(t, sess.Ack(tctx))
	var l *leg.Leg
	select {
	case l = <-legs:
	case <-time.After(5 * time.Second):
		t.Fatal("no leg")
	}
	err = l.Hangup(tctx, map[string]string{"X-Reason": "done"})
	var se *leg.StatusError
	require.ErrorAs(t, err, &se)
	require.Equal(t, 481, se.Status)
	require.True(t, closed(l.Done(), time.Second))
}
