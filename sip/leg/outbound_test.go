package leg_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/media"
	"github.com/voxrun/voxrun/media/clock"
	"github.com/voxrun/voxrun/media/ports"
	"github.com/voxrun/voxrun/sip"
	"github.com/voxrun/voxrun/sip/leg"
)

// caller is a second voxrun SIP server whose Agent places outbound calls.
// Its INVITE handler refuses calls (it only dials).
type caller struct {
	srv   *sip.Server
	agent *leg.Agent
	alloc *ports.Allocator
}

func newCaller(t *testing.T) *caller {
	t.Helper()
	alloc, err := ports.New(ports.Config{Min: 48000, Max: 48999})
	require.NoError(t, err)
	clk := clock.New(clock.Config{Shards: 1})
	log := quietLogger(t)
	srv, err := sip.New(sip.Config{Addr: "127.0.0.1:0", Logger: log})
	require.NoError(t, err)
	agent, err := leg.NewAgent(leg.Config{
		Ports: alloc, Clock: clk, MediaAddr: loopback, Logger: log,
		Requester: leg.TransactionLayer(srv.TransactionLayer()),
		LocalAddr: func(transport string) netip.AddrPort {
			if transport == "TCP" {
				return srv.TCPAddr()
			}
			return srv.UDPAddr()
		},
	})
	require.NoError(t, err)
	srv.Handle("INVITE", agent.InviteHandler(func(ctx context.Context, req *sip.Request, tx sip.ServerTransaction) {
		_ = leg.Respond(req, tx, 403, "Forbidden", nil)
	}))
	for _, m := range leg.DialogMethods {
		srv.Handle(m, agent.ServeDialog)
	}
	require.NoError(t, srv.Start(context.Background()))
	// Over UDP, outbound requests leave from the server's socket, which
	// sipgo knows once its serve loop has begun.
	require.Eventually(t, func() bool {
		c, err := srv.TransactionLayer().Transport().GetConnection("udp", srv.UDPAddr().String())
		return err == nil && c != nil
	}, 2*time.Second, time.Millisecond, "the caller's UDP socket is served")
	t.Cleanup(func() {
		require.NoError(t, agent.Close())
		require.NoError(t, srv.Close())
		require.NoError(t, clk.Close())
		require.Zero(t, alloc.InUse(), "every RTP port of the caller is released")
		require.Zero(t, agent.Len(), "no outbound leg is left in the dialog table")
	})
	return &caller{srv: srv, agent: agent, alloc: alloc}
}

// target is a SIP URI of h's server.
func (h *harness) target(user, transport string) string {
	a := h.srv.UDPAddr()
	return fmt.Sprintf("sip:%s@%s;transport=%s", user, a, transport)
}

// level is a source of frames of one sample value.
func level(v int16) media.Source {
	return media.SourceFunc(func(f []int16) error {
		for i := range f {
			f[i] = v
		}
		return nil
	})
}

// heard counts the received frames whose first sample is near v (G.711
// is lossy).
func heard(ep media.Endpoint, v int16) (*atomic.Int64, func()) {
	var n atomic.Int64
	remove := ep.AddSink(media.SinkFunc(func(f []int16) error {
		if d := int(f[0]) - int(v); d*d < int(v)*int(v)/64 {
			n.Add(1)
		}
		return nil
	}))
	return &n, remove
}

// TestDialTwoVoxrunServers: an outbound leg of one voxrun server calls an
// inbound leg of another; both exchange RTP both ways; the caller hangs up.
func TestDialTwoVoxrunServers(t *testing.T) {
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			// sipgo handles responses concurrently: the callee answers once
			// the 180 has been seen, so that the 200 cannot overtake it.
			saw := make(chan struct{})
			h := newHarness(t, leg.Config{}, ringThenAnswer(saw))
			c := newCaller(t)
			ctx := ctxTimeout(t, 10*time.Second)
			var provisional []int
			out, err := c.agent.Dial(ctx, leg.DialRequest{
				Target:  h.target("+15551230000", transport),
				From:    leg.Party{User: "+15550001111", DisplayName: "Alice"},
				Headers: map[string]string{"X-Test": "dial"},
				Timeout: 5 * time.Second,
				OnProvisional: func(status int) {
					if status == 180 && len(provisional) == 0 {
						close(saw)
					}
					provisional = append(provisional, status)
				},
			})
			require.NoError(t, err)
			defer out.Close()
			in := h.leg(t)
			defer in.Close()

			require.Equal(t, leg.Outbound, out.Direction())
			require.Equal(t, leg.Inbound, in.Direction())
			require.Contains(t, provisional, 180)
			require.Equal(t, "dial", in.Request().GetHeader("X-Test").Value())
			require.Equal(t, "Alice", in.Request().From().DisplayName)

			// The UAC's view of the dialog mirrors the UAS's.
			od, id := out.Dialog(), in.Dialog()
			require.Equal(t, id.CallID, od.CallID)
			require.Equal(t, id.LocalTag, od.RemoteTag)
			require.Equal(t, id.RemoteTag, od.LocalTag)
			require.Equal(t, id.RemoteCSeq, od.LocalCSeq)
			require.Equal(t, od.LocalSDP, id.RemoteSDP)
			require.Equal(t, id.LocalSDP, od.RemoteSDP)
			require.Equal(t, h.srv.UDPAddr().Port(), uint16(mustURIPort(t, od.RemoteTarget)), "remote target from the 2xx Contact")
			require.Equal(t, transport, strings.ToLower(od.Transport))

			// RTP both ways.
			out.Endpoint().SetSource(level(4000))
			in.Endpoint().SetSource(level(-6000))
			outHeard, rm1 := heard(out.Endpoint(), -6000)
			defer rm1()
			inHeard, rm2 := heard(in.Endpoint(), 4000)
			defer rm2()
			require.Eventually(t, func() bool { return outHeard.Load() > 5 && inHeard.Load() > 5 },
				3*time.Second, 10*time.Millisecond, "each side hears the other")

			require.NoError(t, out.Hangup(ctx, map[string]string{"X-Reason": "done"}))
			require.True(t, closed(in.Ended(), 5*time.Second), "the callee saw the BYE")
			require.Equal(t, leg.CauseBye, in.Cause())
			require.Equal(t, leg.CauseHangup, out.Cause())
		})
	}
}

// TestDialFarEndHangsUp: the callee's BYE reaches the outbound leg
// through the caller's ServeDialog (dialog lookup for the UAC side).
func TestDialFarEndHangsUp(t *testing.T) {
	h := newHarness(t, leg.Config{}, func(ctx context.Context, l *leg.Leg) {
		answer(ctx, l)
		hctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_ = l.Hangup(hctx, nil)
	})
	c := newCaller(t)
	ctx := ctxTimeout(t, 10*time.Second)
	out, err := c.agent.Dial(ctx, leg.DialRequest{Target: h.target("100", "udp"), From: leg.Party{User: "200"}})
	require.NoError(t, err)
	defer out.Close()
	require.True(t, closed(out.Ended(), 5*time.Second))
	require.Equal(t, leg.CauseBye, out.Cause())
	require.Zero(t, c.agent.Len())
}

func TestDialRejected(t *testing.T) {
	h := newHarness(t, leg.Config{}, func(ctx context.Context, l *leg.Leg) {
		_ = l.Reject(ctx, 486, "Busy Here", nil)
	})
	c := newCaller(t)
	ctx := ctxTimeout(t, 10*time.Second)
	_, err := c.agent.Dial(ctx, leg.DialRequest{Target: h.target("100", "udp"), From: leg.Party{User: "200"}})
	var se *leg.StatusError
	require.ErrorAs(t, err, &se)
	require.Equal(t, 486, se.Status)
	require.Equal(t, "Busy Here", se.Reason)
}

// TestDialTimeoutCancels: the callee rings forever; the dial's timeout
// sends CANCEL, the callee's leg ends with CauseCancel, and the error is
// 487 wrapping ErrNoAnswer.
func TestDialTimeoutCancels(t *testing.T) {
	h := newHarness(t, leg.Config{}, func(ctx context.Context, l *leg.Leg) { _ = l.Ring(ctx, nil) })
	c := newCaller(t)
	ctx := ctxTimeout(t, 10*time.Second)
	start := time.Now()
	_, err := c.agent.Dial(ctx, leg.DialRequest{Target: h.target("100", "udp"), From: leg.Party{User: "200"}, Timeout: 300 * time.Millisecond})
	require.Less(t, time.Since(start), 5*time.Second)
	require.Equal(t, 487, leg.StatusOf(err))
	require.ErrorIs(t, err, leg.ErrNoAnswer)
	in := h.leg(t)
	require.True(t, closed(in.Ended(), 5*time.Second))
	require.Equal(t, leg.CauseCancel, in.Cause())
}

// TestDialContextCancels: cancelling the dial's context cancels the call.
func TestDialContextCancels(t *testing.T) {
	h := newHarness(t, leg.Config{}, func(ctx context.Context, l *leg.Leg) { _ = l.Ring(ctx, nil) })
	c := newCaller(t)
	why := errors.New("caller hung up")
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	go func() {
		time.Sleep(200 * time.Millisecond)
		cancel(why)
	}()
	_, err := c.agent.Dial(ctx, leg.DialRequest{Target: h.target("100", "udp"), From: leg.Party{User: "200"},
		OnProvisional: func(int) {}})
	require.Equal(t, 487, leg.StatusOf(err))
	require.ErrorIs(t, err, why)
	require.True(t, closed(h.leg(t).Ended(), 5*time.Second))
}

func TestDialNeedsRequesterAndLocalAddr(t *testing.T) {
	alloc, err := ports.New(ports.Config{Min: 49000, Max: 49009})
	require.NoError(t, err)
	clk := clock.New(clock.Config{Shards: 1})
	defer clk.Close()
	agent, err := leg.NewAgent(leg.Config{Ports: alloc, Clock: clk, MediaAddr: loopback, Logger: quietLogger(t)})
	require.NoError(t, err)
	_, err = agent.Dial(context.Background(), leg.DialRequest{Target: "sip:1@127.0.0.1:5060"})
	require.ErrorIs(t, err, leg.ErrConfig)
	require.Zero(t, alloc.InUse())
}

func TestDialBadRequests(t *testing.T) {
	c := newCaller(t)
	ctx := ctxTimeout(t, 5*time.Second)
	for _, tc := range []struct {
		name string
		req  leg.DialRequest
	}{
		{name: "not a uri", req: leg.DialRequest{Target: "not a uri"}},
		{name: "tel uri", req: leg.DialRequest{Target: "tel:+15551234567"}},
		{name: "unsupported transport", req: leg.DialRequest{Target: "sip:1@127.0.0.1:5060;transport=sctp"}},
		{name: "reserved header", req: leg.DialRequest{Target: "sip:1@127.0.0.1:5060", Headers: map[string]string{"Call-ID": "x"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.agent.Dial(ctx, tc.req)
			require.Error(t, err)
			require.Zero(t, leg.StatusOf(err), "refused before any INVITE")
			require.Zero(t, c.alloc.InUse())
		})
	}
	require.NoError(t, c.agent.Close())
	_, err := c.agent.Dial(ctx, leg.DialRequest{Target: "sip:1@127.0.0.1:5060"})
	require.ErrorIs(t, err, leg.ErrClosed)
}

func mustURIPort(t *testing.T, uri string) int {
	t.Helper()
	a, err := netip.ParseAddrPort(trimURI(uri))
	require.NoError(t, err, uri)
	return int(a.Port())
}

// trimURI keeps host:port of sip:user@host:port;params.
func trimURI(uri string) string {
	for i := len(uri) - 1; i >= 0; i-- {
		if uri[i] == '@' || uri[i] == ':' && i < 4 {
			uri = uri[i+1:]
			break
		}
	}
	for i := 0; i < len(uri); i++ {
		if uri[i] == ';' || uri[i] == '>' {
			return uri[:i]
		}
	}
	return uri
}
