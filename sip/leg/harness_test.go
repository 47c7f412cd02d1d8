package leg_test

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	sipgosip "github.com/emiago/sipgo/sip"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/voxrun/voxrun/media/clock"
	"github.com/voxrun/voxrun/media/ports"
	"github.com/voxrun/voxrun/sip"
	"github.com/voxrun/voxrun/sip/leg"
)

func TestMain(m *testing.M) {
	flag.Parse()
	if !testing.Verbose() {
		// sipgo logs some things (its UDP connection references, responses
		// that arrive after their transaction) through slog's default.
		slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	}
	goleak.VerifyTestMain(m,
		// sip.Server.Close closes sipgo's transport layer while sipgo may
		// still be handling a message it read just before (an ACK for a
		// non-2xx, typically); sipgo then opens a fresh UDP "server
		// connection" on the closed layer and its reader is never stopped.
		// That is in package sip and sipgo, not in the legs (which never
		// open connections), and is reported to package sip's owner.
		goleak.IgnoreAnyFunction("github.com/emiago/sipgo/sip.(*TransportUDP).readUDPConnection"))
}

var loopback = netip.MustParseAddr("127.0.0.1")

func quietLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

// harness is a sip.Server on 127.0.0.1 whose INVITE handler builds a leg
// with the Agent and runs behave on it, then waits for the leg.
type harness struct {
	srv   *sip.Server
	agent *leg.Agent
	alloc *ports.Allocator
	legs  chan *leg.Leg
	uacs  []*uac
}

// behaviour is what the INVITE handler does with a new leg (answer, ring,
// reject, ...). It runs on the handler's goroutine.
type behaviour func(ctx context.Context, l *leg.Leg)

func newHarness(t *testing.T, cfg leg.Config, behave behaviour) *harness {
	t.Helper()
	alloc, err := ports.New(ports.Config{Min: 47000, Max: 47999})
	require.NoError(t, err)
	clk := clock.New(clock.Config{Shards: 1})
	cfg.Ports, cfg.Clock, cfg.MediaAddr = alloc, clk, loopback
	if cfg.Logger == nil {
		cfg.Logger = quietLogger(t)
	}
	agent, err := leg.NewAgent(cfg)
	require.NoError(t, err)
	h := &harness{agent: agent, alloc: alloc, legs: make(chan *leg.Leg, 16)}
	srv, err := sip.New(sip.Config{Addr: "127.0.0.1:0", Logger: cfg.Logger})
	require.NoError(t, err)
	srv.Handle("INVITE", agent.InviteHandler(func(ctx context.Context, req *sip.Request, tx sip.ServerTransaction) {
		l, err := agent.Accept(ctx, req, tx)
		if err != nil {
			return
		}
		defer l.Close()
		select {
		case h.legs <- l:
		default: // tests with many calls do not look at every leg
		}
		if behave != nil {
			behave(ctx, l)
		}
		_ = l.Wait(ctx)
	}))
	for _, m := range leg.DialogMethods {
		srv.Handle(m, agent.ServeDialog)
	}
	require.NoError(t, srv.Start(context.Background()))
	h.srv = srv
	t.Cleanup(func() {
		require.NoError(t, srv.Close())
		require.NoError(t, agent.Close())
		// The callers close once nothing can reach them any more: a late
		// 2xx retransmission would make sipgo open a connection for its ACK
		// on a closed user agent, and leak its reader.
		for _, u := range h.uacs {
			u.close()
		}
		require.NoError(t, clk.Close())
		require.Zero(t, alloc.InUse(), "every RTP port is released")
		require.Zero(t, agent.Len(), "no leg is left in the dialog table")
	})
	return h
}

// leg returns the next leg the handler built.
func (h *harness) leg(t *testing.T) *leg.Leg {
	t.Helper()
	select {
	case l := <-h.legs:
		return l
	case <-time.After(5 * time.Second):
		t.Fatal("no leg was built")
		return nil
	}
}

func (h *harness) uri(user string) sipgosip.Uri {
	a := h.srv.UDPAddr()
	return sipgosip.Uri{Scheme: "sip", User: user, Host: a.Addr().String(), Port: int(a.Port())}
}

// uac is a sipgo user agent that places calls and records the requests it
// receives within them (BYE).
type uac struct {
	serving sync.WaitGroup
	sock    net.PacketConn
	ua      *sipgo.UserAgent
	srv     *sipgo.Server
	cli     *sipgo.Client
	dc      *sipgo.DialogClientCache
	byes    chan *sipgosip.Request
	rtp     *net.UDPConn
}

// newUAC returns a caller that the harness closes after its server.
func (h *harness) newUAC(t *testing.T) *uac {
	t.Helper()
	u := newUAC(t)
	h.uacs = append(h.uacs, u)
	return u
}

// newUAC returns a caller; its owner calls close. It sends and receives
// on one UDP socket of its own (as a phone does), so that sipgo opens no
// connection per request.
func newUAC(t *testing.T) *uac {
	t.Helper()
	log := quietLogger(t)
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("uac"),
		sipgo.WithUserAgentTransportLayerOptions(sipgosip.WithTransportLayerLogger(log)),
		sipgo.WithUserAgentTransactionLayerOptions(sipgosip.WithTransactionLayerLogger(log)))
	require.NoError(t, err)
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(log))
	require.NoError(t, err)
	sock, err := net.ListenPacket("udp4", "127.0.0.1:0")
	require.NoError(t, err)
	addr := sock.LocalAddr().String()
	cli, err := sipgo.NewClient(ua, sipgo.WithClientAddr(addr), sipgo.WithClientConnectionAddr(addr), sipgo.WithClientLogger(log))
	require.NoError(t, err)
	rtp, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	u := &uac{ua: ua, srv: srv, cli: cli, sock: sock, byes: make(chan *sipgosip.Request, 4), rtp: rtp,
		dc: sipgo.NewDialogClientCache(cli, sipgosip.ContactHeader{Address: sipgosip.Uri{Scheme: "sip", User: "uac", Host: "127.0.0.1", Port: sock.LocalAddr().(*net.UDPAddr).Port}})}
	srv.OnBye(func(req *sipgosip.Request, tx sipgosip.ServerTransaction) {
		u.byes <- req
		if err := u.dc.ReadBye(req, tx); err != nil {
			_ = tx.Respond(sipgosip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		}
	})
	u.serving.Go(func() { _ = srv.ServeUDP(sock) })
	require.Eventually(t, func() bool {
		c, err := ua.TransportLayer().GetConnection("udp", addr)
		return err == nil && c != nil
	}, 2*time.Second, time.Millisecond, "the caller's socket is served")
	return u
}

func (u *uac) close() {
	_ = u.cli.Close()
	_ = u.ua.Close()
	_ = u.sock.Close()
	u.serving.Wait()
	_ = u.rtp.Close()
}

// offer is an SDP offer for the uac's RTP socket with the given formats.
func (u *uac) offer(formats string, rtpmaps ...string) []byte {
	port := u.rtp.LocalAddr().(*net.UDPAddr).Port
	s := "v=0\r\no=uac 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
		fmt.Sprintf("m=audio %d RTP/AVP %s\r\n", port, formats)
	for _, r := range rtpmaps {
		s += "a=" + r + "\r\n"
	}
	return []byte(s)
}

func (u *uac) pcmuOffer() []byte {
	return u.offer("0 101", "rtpmap:0 PCMU/8000", "rtpmap:101 telephone-event/8000", "fmtp:101 0-16", "sendrecv")
}

// recorder keeps the responses a call receives.
type recorder struct {
	mu  sync.Mutex
	got []*sipgosip.Response
}

func (r *recorder) onResponse(res *sipgosip.Response) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, res)
	return nil
}

func (r *recorder) status(code int) *sipgosip.Response {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, res := range r.got {
		if int(res.StatusCode) == code {
			return res
		}
	}
	return nil
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func closed(ch <-chan struct{}, within time.Duration) bool {
	select {
	case <-ch:
		return true
	case <-time.After(within):
		return false
	}
}
