package sip_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/voxrun/voxrun/sip"
	"github.com/voxrun/voxrun/sip/admission"
	"github.com/voxrun/voxrun/sip/siptest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// quietLogger discards logs unless the test runs with -v.
func quietLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(&testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return discardLogger()
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

type testWriter struct{ t *testing.T }

func (w *testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

// startServer starts a server on 127.0.0.1 with an ephemeral port and closes
// it when the test ends.
func startServer(t *testing.T, cfg sip.Config, handlers map[string]sip.Handler) *sip.Server {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	if cfg.Logger == nil {
		cfg.Logger = quietLogger(t)
	}
	srv, err := sip.New(cfg)
	require.NoError(t, err)
	for m, h := range handlers {
		srv.Handle(m, h)
	}
	require.NoError(t, srv.Start(context.Background()))
	t.Cleanup(func() { require.NoError(t, srv.Close()) })
	return srv
}

func dial(t *testing.T, network string, addr netip.AddrPort) siptest.Conn {
	t.Helper()
	c, err := siptest.Dial(context.Background(), network, addr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func timeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestOptionsAnswered200(t *testing.T) {
	srv := startServer(t, sip.Config{}, nil)
	for _, network := range []string{"udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			c := dial(t, network, srv.UDPAddr())
			status, err := siptest.Ping(timeout(t, 5*time.Second), c, srv.UDPAddr(), "opt-"+network)
			require.NoError(t, err)
			require.Equal(t, 200, status)
		})
	}
	require.Equal(t, srv.UDPAddr().Port(), srv.TCPAddr().Port())
}

func TestUDPReceiveBuffer(t *testing.T) {
	srv := startServer(t, sip.Config{UDPReadBuffer: 8 << 20}, nil)
	got := srv.UDPReadBuffer()
	t.Logf("udp receive buffer: requested %d, granted %d", 8<<20, got)
	require.Greater(t, got, 0)
	if os.Geteuid() == 0 {
		require.GreaterOrEqual(t, got, 8<<20, "root may force the buffer past rmem_max")
	}
}

func TestStartCloseLifecycle(t *testing.T) {
	srv, err := sip.New(sip.Config{Addr: "127.0.0.1:0", Logger: quietLogger(t)})
	require.NoError(t, err)
	require.NoError(t, srv.Start(context.Background()))
	require.ErrorIs(t, srv.Start(context.Background()), sip.ErrStarted)
	// An open TCP connection is closed by Close.
	c := dial(t, "tcp", srv.TCPAddr())
	status, err := siptest.Ping(timeout(t, 5*time.Second), c, srv.TCPAddr(), "life")
	require.NoError(t, err)
	require.Equal(t, 200, status)
	require.NoError(t, srv.Close())
	require.NoError(t, srv.Close(), "Close is idempotent")
	require.ErrorIs(t, srv.Start(context.Background()), sip.ErrClosed)
	_, err = c.Read(timeout(t, 2*time.Second))
	require.Error(t, err)
}

func TestConfigErrors(t *testing.T) {
	cases := []struct {
		name string
		cfg  sip.Config
	}{
		{"bad address", sip.Config{Addr: "nowhere"}},
		{"message size above sipgo's buffer", sip.Config{MaxMessageSize: 1 << 20}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := sip.New(c.cfg)
			require.ErrorIs(t, err, sip.ErrConfig)
		})
	}
}

func TestMethodsWithoutHandler(t *testing.T) {
	srv := startServer(t, sip.Config{}, nil)
	cases := []struct {
		name   string
		method string
		status int
	}{
		{"known method gets 405", "SUBSCRIBE", 405},
		{"unknown method gets 501", "FROBNICATE", 501},
		{"stray CANCEL gets 481", "CANCEL", 481},
	}
	for _, network := range []string{"udp", "tcp"} {
		for i, tc := range cases {
			t.Run(network+"/"+tc.name, func(t *testing.T) {
				c := dial(t, network, srv.UDPAddr())
				ctx := timeout(t, 5*time.Second)
				require.NoError(t, c.Send(ctx, siptest.Request(tc.method, c, srv.UDPAddr(), fmt.Sprintf("m%d-%s", i, network))))
				msg, err := siptest.ReadFinal(ctx, c)
				require.NoError(t, err)
				require.Equal(t, tc.status, siptest.Status(msg))
				if tc.status != 481 {
					require.Contains(t, siptest.Header(msg, "Allow"), "OPTIONS")
				}
			})
		}
	}
}

func TestInviteBudget(t *testing.T) {
	clock := siptest.NewClock(time.Unix(1_700_000_000, 0))
	release := make(chan struct{})
	started := make(chan struct{}, 8)
	invite := func(ctx context.Context, req *sip.Request, tx sip.ServerTransaction) {
		started <- struct{}{}
		select { // the call lasts until the test lets it end
		case <-release:
		case <-ctx.Done():
		}
		_ = tx.Respond(sip.NewResponse(req, 486, "Busy Here"))
	}
	srv := startServer(t, sip.Config{
		Budget: admission.BudgetConfig{CallsPerSecond: 2, MaxConcurrent: 1, RetryAfter: 7 * time.Second},
		Clock:  clock.Now,
	}, map[string]sip.Handler{"INVITE": invite})
	c := dial(t, "udp", srv.UDPAddr())
	ctx := timeout(t, 10*time.Second)

	require.NoError(t, c.Send(ctx, siptest.Request("INVITE", c, srv.UDPAddr(), "call-1")))
	<-started
	// The second call finds the one slot taken.
	require.NoError(t, c.Send(ctx, siptest.Request("INVITE", c, srv.UDPAddr(), "call-2")))
	msg := readFor(t, ctx, c, "call-2")
	require.Equal(t, 503, siptest.Status(msg))
	require.Equal(t, "7", siptest.Header(msg, "Retry-After"))

	close(release)
	msg = readFor(t, ctx, c, "call-1")
	require.Equal(t, 486, siptest.Status(msg))

	// The bucket holds two calls a second: call-1 took one (call-2 was
	// refused for concurrency, which takes no token), call-3 takes the
	// other, call-4 is refused for rate until the clock moves. call-1's
	// handler releases its slot just after its 486 is sent, so call-3 may
	// still find the slot taken (503, no token spent): it tries again.
	for try := 0; ; try++ {
		id := fmt.Sprintf("call-3-%d", try)
		require.NoError(t, c.Send(ctx, siptest.Request("INVITE", c, srv.UDPAddr(), id)))
		st := siptest.Status(readFor(t, ctx, c, id))
		if st == 486 {
			break
		}
		require.Equal(t, 503, st)
		require.Less(t, try, 100, "the slot of call-1 was never released")
		time.Sleep(5 * time.Millisecond)
	}
	require.NoError(t, c.Send(ctx, siptest.Request("INVITE", c, srv.UDPAddr(), "call-4")))
	require.Equal(t, 503, siptest.Status(readFor(t, ctx, c, "call-4")), "call-4")
	clock.Advance(time.Second)
	require.NoError(t, c.Send(ctx, siptest.Request("INVITE", c, srv.UDPAddr(), "call-5")))
	require.Equal(t, 486, siptest.Status(readFor(t, ctx, c, "call-5")))
	require.GreaterOrEqual(t, srv.Stats().Overloaded, uint64(2))
}

// readFor reads final responses until one for callID arrives.
func readFor(t *testing.T, ctx context.Context, c siptest.Conn, callID string) []byte {
	t.Helper()
	for {
		msg, err := siptest.ReadFinal(ctx, c)
		require.NoError(t, err)
		if siptest.Header(msg, "Call-ID") == callID {
			return msg
		}
	}
}

func TestPikeBansFloodingSource(t *testing.T) {
	clock := siptest.NewClock(time.Unix(1_700_000_000, 0))
	srv := startServer(t, sip.Config{
		Pike:  admission.PikeConfig{Rate: 5, Burst: 10, Ban: time.Minute},
		Clock: clock.Now,
	}, nil)
	addr := srv.UDPAddr()
	c := dial(t, "udp", addr)
	ctx := timeout(t, 10*time.Second)
	for i := 0; i < 10; i++ { // the burst is answered
		status, err := siptest.Ping(ctx, c, addr, fmt.Sprintf("flood-%d", i))
		require.NoError(t, err)
		require.Equal(t, 200, status)
	}
	// The eleventh message bans the source: nothing is answered, over UDP or
	// TCP, until the ban ends.
	_, err := siptest.Ping(timeout(t, 300*time.Millisecond), c, addr, "flood-banned")
	require.ErrorIs(t, err, siptest.ErrNoReply)
	tcp := dial(t, "tcp", addr)
	_, err = siptest.Ping(timeout(t, 2*time.Second), tcp, addr, "flood-tcp")
	require.Error(t, err, "a banned source's connections are closed")
	clock.Advance(61 * time.Second)
	status, err := siptest.Ping(timeout(t, 5*time.Second), c, addr, "after-ban")
	require.NoError(t, err)
	require.Equal(t, 200, status)
	require.NotZero(t, srv.Stats().Limited)
}

func TestOversizedMessages(t *testing.T) {
	srv := startServer(t, sip.Config{MaxMessageSize: 2048}, nil)
	addr := srv.UDPAddr()
	pad := "X-Pad: " + strings.Repeat("a", 3000)
	for _, network := range []string{"udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			c := dial(t, network, addr)
			ctx := timeout(t, 5*time.Second)
			require.NoError(t, c.Send(ctx, siptest.Request("OPTIONS", c, addr, "big-"+network, pad)))
			msg, err := siptest.ReadFinal(ctx, c)
			if network == "tcp" {
				// The header section alone is over the limit: no way to frame
				// the message, the connection is closed without an answer.
				requireClosed(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, 513, siptest.Status(msg))
		})
	}
	t.Run("tcp body over the limit", func(t *testing.T) {
		c := dial(t, "tcp", addr)
		ctx := timeout(t, 5*time.Second)
		req := strings.Replace(string(siptest.Request("MESSAGE", c, addr, "bigbody")), "Content-Length: 0", "Content-Type: text/plain\r\nContent-Length: 4000", 1)
		require.NoError(t, c.Send(ctx, []byte(req+strings.Repeat("b", 4000))))
		msg, err := siptest.ReadFinal(ctx, c)
		require.NoError(t, err)
		require.Equal(t, 513, siptest.Status(msg))
		_, err = c.Read(ctx)
		requireClosed(t, err)
	})
}

// requireClosed checks that a read failed because the server closed the
// connection: EOF, or a reset when unread bytes were left behind.
func requireClosed(t *testing.T, err error) {
	t.Helper()
	require.True(t, errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET), "want a closed connection, got %v", err)
}

func TestTCPSlowMessageIsCut(t *testing.T) {
	srv := startServer(t, sip.Config{TCPMessageTimeout: 200 * time.Millisecond}, nil)
	c := dial(t, "tcp", srv.TCPAddr())
	ctx := timeout(t, 5*time.Second)
	// Half a request, then nothing: the connection is closed once the
	// message timeout passes, although the idle timeout has not.
	require.NoError(t, c.Send(ctx, []byte("OPTIONS sip:voxrun@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP")))
	start := time.Now()
	_, err := c.Read(ctx)
	requireClosed(t, err)
	require.Less(t, time.Since(start), 3*time.Second)
	// A fresh connection is served.
	fresh := dial(t, "tcp", srv.TCPAddr())
	status, err := siptest.Ping(ctx, fresh, srv.TCPAddr(), "after-slow")
	require.NoError(t, err)
	require.Equal(t, 200, status)
}

func TestTLS(t *testing.T) {
	serverTLS, clientTLS, err := siptest.SelfSignedTLS()
	require.NoError(t, err)
	srv := startServer(t, sip.Config{TLS: serverTLS, TLSAddr: "127.0.0.1:0", TCPMessageTimeout: 300 * time.Millisecond}, nil)
	require.True(t, srv.TLSAddr().IsValid())
	ctx := timeout(t, 5*time.Second)
	c, err := siptest.DialTLS(ctx, srv.TLSAddr(), clientTLS)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	status, err := siptest.Ping(ctx, c, srv.TLSAddr(), "tls-1")
	require.NoError(t, err)
	require.Equal(t, 200, status)
	// Intake guards TLS as it guards TCP.
	require.NoError(t, c.Send(ctx, []byte(strings.Replace(string(siptest.Request("OPTIONS", c, srv.TLSAddr(), "tls-2")), "CSeq: 1 OPTIONS", "CSeq: 1 INVITE", 1))))
	msg, err := siptest.ReadFinal(ctx, c)
	require.NoError(t, err)
	require.Equal(t, 400, siptest.Status(msg))
	// A peer that never completes the handshake is cut after the message timeout.
	raw := dial(t, "tcp", srv.TLSAddr())
	_, err = raw.Read(ctx)
	requireClosed(t, err)
}

func TestTLSNeedsCertificate(t *testing.T) {
	_, err := sip.New(sip.Config{TLS: &tls.Config{}})
	require.ErrorIs(t, err, sip.ErrConfig)
}

// TestWebSocket: SIP over ws:// and wss:// (RFC 7118) answers OPTIONS.
func TestWebSocket(t *testing.T) {
	serverTLS, clientTLS, err := siptest.SelfSignedTLS()
	require.NoError(t, err)
	srv := startServer(t, sip.Config{TLS: serverTLS, TLSAddr: "127.0.0.1:0", WSAddr: "127.0.0.1:0", WSSAddr: "127.0.0.1:0"}, nil)
	for name, tc := range map[string]struct {
		addr netip.AddrPort
		cfg  *tls.Config
	}{"ws": {srv.WSAddr(), nil}, "wss": {srv.WSSAddr(), clientTLS}} {
		t.Run(name, func(t *testing.T) {
			require.True(t, tc.addr.IsValid())
			ctx := timeout(t, 5*time.Second)
			c, err := siptest.DialWS(ctx, tc.addr, tc.cfg)
			require.NoError(t, err)
			defer c.Close()
			status, err := siptest.Ping(ctx, c, tc.addr, name+"-1")
			require.NoError(t, err)
			require.Equal(t, 200, status)
		})
	}
}

func TestWSSNeedsTLS(t *testing.T) {
	_, err := sip.New(sip.Config{WSSAddr: "127.0.0.1:0"})
	require.ErrorIs(t, err, sip.ErrConfig)
}

// TestInviteShedStatelessly: over the budget, an initial INVITE is answered
// 503 by intake, before the transaction layer (it is not counted as passed).
func TestInviteShedStatelessly(t *testing.T) {
	clock := siptest.NewClock(time.Unix(1_700_000_000, 0))
	srv := startServer(t, sip.Config{
		Budget: admission.BudgetConfig{CallsPerSecond: 1, RetryAfter: 3 * time.Second},
		Clock:  clock.Now,
	}, map[string]sip.Handler{"INVITE": func(ctx context.Context, req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponse(req, 486, "Busy Here"))
	}})
	c := dial(t, "udp", srv.UDPAddr())
	ctx := timeout(t, 5*time.Second)
	require.NoError(t, c.Send(ctx, siptest.Request("INVITE", c, srv.UDPAddr(), "shed-1")))
	require.Equal(t, 486, siptest.Status(readFor(t, ctx, c, "shed-1")))
	passed := srv.Stats().Passed
	require.NoError(t, c.Send(ctx, siptest.Request("INVITE", c, srv.UDPAddr(), "shed-2")))
	msg := readFor(t, ctx, c, "shed-2")
	require.Equal(t, 503, siptest.Status(msg))
	require.Equal(t, "3", siptest.Header(msg, "Retry-After"))
	require.Contains(t, siptest.Header(msg, "To"), ";tag=")
	require.Equal(t, passed, srv.Stats().Passed, "shed before the transaction layer")
	require.EqualValues(t, 1, srv.Stats().Overloaded)
}
