package leg_test

import (
	"context"
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
	goleak.VerifyTestMain(m)
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
	ua   *sipgo.UserAgent
	srv  *sipgo.Server
	cli  *sipgo.Client
	dc   *sipgo.DialogClientCache
	byes chan *sipgosip.Request
	rtp  *net.UDPConn
}

func newUAC(t *testing.T) *uac {
	t.Helper()
	log := quietLogger(t)
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("uac"),
		sipgo.WithUserAgentTransportLayerOptions(sipgosip.WithTransportLayerLogger(log)),
		sipgo.WithUserAgentTransactionLayerOptions(sipgosip.WithTransactionLayerLogger(log)))
	require.NoError(t, err)
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(log))
	require.NoError(t, err)
	cli, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientLogger(log))
	require.NoError(t, err)
	rtp, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	u := &uac{ua: ua, srv: srv, cli: cli, byes: make(chan *sipgosip.Request, 4), rtp: rtp,
		dc: sipgo.NewDialogClientCache(cli, sipgosip.ContactHeader{Address: sipgosip.Uri{Scheme: "sip", User: "uac", Host: "127.0.0.1"}})}
	srv.OnBye(func(req *sipgosip.Request, tx sipgosip.ServerTransaction) {
		u.byes <- req
		if err := u.dc.ReadBye(req, tx); err != nil {
			_ = tx.Respond(sipgosip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		}
	})
	t.Cleanup(func() {
		_ = cli.Close()
		_ = ua.Close()
		_ = rtp.Close()
	})
	return u
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
