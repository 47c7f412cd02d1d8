package sip

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/emiago/sipgo"
	sipgosip "github.com/emiago/sipgo/sip"

	"github.com/voxrun/voxrun/sip/admission"
)

// Request and ServerTransaction are sipgo's types, named here so that
// integrators write handlers without importing sipgo's package under its
// clashing name.
type (
	Request           = sipgosip.Request
	Response          = sipgosip.Response
	ServerTransaction = sipgosip.ServerTransaction
)

// Handler serves one request that passed intake and admission. It runs on a
// goroutine of its own; ctx is cancelled when the server closes, and Close
// waits for every handler to return. An initial INVITE holds a slot of the
// concurrent-call budget until its handler returns, so an INVITE handler
// returns when its call ends.
type Handler func(ctx context.Context, req *Request, tx ServerTransaction)

// Stats counts what intake and admission did since the server started.
type Stats struct {
	// Passed is the number of messages handed on to the transaction layer.
	Passed uint64
	// Rejected is the number of messages answered statelessly by intake.
	Rejected uint64
	// Dropped is the number of messages ignored (malformed responses, no
	// usable Via, keep-alives not counted).
	Dropped uint64
	// Limited is the number of messages ignored because their source is banned.
	Limited uint64
	// Overloaded is the number of new calls refused with 503.
	Overloaded uint64
	// ClosedConns is the number of TCP connections closed for a framing error.
	ClosedConns uint64
}

type counters struct {
	passed, rejected, dropped, limited, overloaded, closedConns atomic.Uint64
}

// Server is a SIP server for UDP and TCP. Build it with New, plug handlers
// in with Handle, then Start; Close stops it and waits for everything it
// started.
type Server struct {
	cfg    Config
	log    *slog.Logger
	ua     *sipgo.UserAgent
	srv    *sipgo.Server
	pike   *admission.Pike
	budget *admission.Budget
	stats  counters

	handlers map[string]Handler

	mu      sync.Mutex
	started bool
	closed  bool
	cancel  context.CancelFunc
	udp     *net.UDPConn
	tcp     *net.TCPListener
	tlsLn   *net.TCPListener // nil without TLS
	wsLn    *net.TCPListener // nil without WebSocket
	wssLn   *net.TCPListener // nil without secure WebSocket
	conns   map[*streamConn]struct{}
	rcvbuf  int // the UDP receive buffer granted, -1 when unknown

	done     chan struct{}  // closed when Close begins
	serving  sync.WaitGroup // the UDP and TCP serve loops
	inflight sync.WaitGroup // handlers and TCP connection readers

	closeOnce sync.Once
	closeErr  error
}

// New builds a server from cfg. It opens nothing until Start.
func New(cfg Config) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	log := cfg.Logger.With("component", "sip")
	ua, err := sipgo.NewUA(
		sipgo.WithUserAgent(cfg.UserAgent),
		sipgo.WithUserAgentTransportLayerOptions(sipgosip.WithTransportLayerLogger(log)),
		sipgo.WithUserAgentTransactionLayerOptions(sipgosip.WithTransactionLayerLogger(log)),
	)
	if err != nil {
		return nil, fmt.Errorf("sip: user agent: %w", err)
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(log))
	if err != nil {
		_ = ua.Close()
		return nil, fmt.Errorf("sip: server: %w", err)
	}
	return &Server{
		cfg:      cfg,
		log:      log,
		ua:       ua,
		srv:      srv,
		pike:     admission.NewPike(cfg.Pike, cfg.Clock),
		budget:   admission.NewBudget(cfg.Budget, cfg.Clock),
		handlers: make(map[string]Handler),
		conns:    make(map[*streamConn]struct{}),
		done:     make(chan struct{}),
	}, nil
}

// Handle plugs in the handler of a method ("INVITE", "REGISTER", ...). It
// must be called before Start. OPTIONS is answered 200 unless a handler is
// plugged in for it; a method without a handler gets 405 (a method SIP
// defines) or 501 (any other), with Allow.
func (s *Server) Handle(method string, h Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		panic("sip: Handle after Start")
	}
	s.handlers[method] = h
}

// Start binds the UDP socket and the TCP listener on cfg.Addr and serves
// them until Close. It returns once both are listening. ctx bounds the
// binding only; the handlers' context inherits its values and is cancelled
// by Close.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if s.started {
		return ErrStarted
	}
	udp, tcp, err := s.listen(ctx)
	if err != nil {
		return err
	}
	var tlsLn *net.TCPListener
	if s.cfg.TLS != nil {
		var lc net.ListenConfig
		ln, err := lc.Listen(ctx, "tcp", s.cfg.TLSAddr)
		if err != nil {
			_ = udp.Close()
			_ = tcp.Close()
			return fmt.Errorf("sip: listen tls %s: %w", s.cfg.TLSAddr, err)
		}
		tlsLn = ln.(*net.TCPListener)
	}
	var wsLn, wssLn *net.TCPListener
	for _, l := range []struct {
		addr string
		ln   **net.TCPListener
	}{{s.cfg.WSAddr, &wsLn}, {s.cfg.WSSAddr, &wssLn}} {
		if l.addr == "" {
			continue
		}
		var lc net.ListenConfig
		ln, err := lc.Listen(ctx, "tcp", l.addr)
		if err != nil {
			for _, c := range []io.Closer{udp, tcp, tlsLn, wsLn} {
				if c != nil && c != (*net.TCPListener)(nil) {
					_ = c.Close()
				}
			}
			return fmt.Errorf("sip: listen websocket %s: %w", l.addr, err)
		}
		*l.ln = ln.(*net.TCPListener)
	}
	s.started = true
	s.udp, s.tcp, s.tlsLn, s.wsLn, s.wssLn = udp, tcp, tlsLn, wsLn, wssLn
	hctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	s.route(hctx)

	s.serving.Add(2)
	go func() {
		defer s.serving.Done()
		// sipgo returns when the socket is closed.
		if err := s.srv.ServeUDP(&intakePacketConn{UDPConn: udp, s: s}); err != nil && !s.isClosed() {
			s.log.Error("sip: udp serve stopped", "error", err)
		}
	}()
	go func() {
		defer s.serving.Done()
		if err := s.srv.ServeTCP(&intakeListener{TCPListener: tcp, s: s}); err != nil && !s.isClosed() && !errors.Is(err, net.ErrClosed) {
			s.log.Error("sip: tcp serve stopped", "error", err)
		}
	}()
	if tlsLn != nil {
		s.serving.Add(1)
		go func() {
			defer s.serving.Done()
			if err := s.srv.ServeTLS(&intakeListener{TCPListener: tlsLn, s: s, tls: s.cfg.TLS}); err != nil && !s.isClosed() && !errors.Is(err, net.ErrClosed) {
				s.log.Error("sip: tls serve stopped", "error", err)
			}
		}()
		s.log.Info("sip: serving tls", "tls", tlsLn.Addr().String())
	}
	if wsLn != nil {
		s.serving.Add(1)
		go func() {
			defer s.serving.Done()
			// sipgo reads WebSocket frames itself: intake's stream framing
			// does not apply, the per-source bans and sipgo's parser do.
			if err := s.srv.ServeWS(&bannedListener{TCPListener: wsLn, s: s}); err != nil && !s.isClosed() && !errors.Is(err, net.ErrClosed) {
				s.log.Error("sip: ws serve stopped", "error", err)
			}
		}()
		s.log.Info("sip: serving ws", "ws", wsLn.Addr().String())
	}
	if wssLn != nil {
		s.serving.Add(1)
		go func() {
			defer s.serving.Done()
			if err := s.srv.ServeWSS(tls.NewListener(&bannedListener{TCPListener: wssLn, s: s}, s.cfg.TLS)); err != nil && !s.isClosed() && !errors.Is(err, net.ErrClosed) {
				s.log.Error("sip: wss serve stopped", "error", err)
			}
		}()
		s.log.Info("sip: serving wss", "wss", wssLn.Addr().String())
	}
	s.log.Info("sip: serving", "udp", udp.LocalAddr().String(), "tcp", tcp.Addr().String())
	return nil
}

// listen opens the UDP socket (with its large receive buffer) and the TCP
// listener. With port 0 it looks for a port free on both.
func (s *Server) listen(ctx context.Context) (*net.UDPConn, *net.TCPListener, error) {
	var lc net.ListenConfig
	host, port, _ := net.SplitHostPort(s.cfg.Addr)
	for attempt := 0; ; attempt++ {
		pc, err := lc.ListenPacket(ctx, "udp", s.cfg.Addr)
		if err != nil {
			return nil, nil, fmt.Errorf("sip: listen udp %s: %w", s.cfg.Addr, err)
		}
		udp := pc.(*net.UDPConn)
		tcpAddr := s.cfg.Addr
		if port == "0" {
			tcpAddr = net.JoinHostPort(host, strconv.Itoa(udp.LocalAddr().(*net.UDPAddr).Port))
		}
		ln, err := lc.Listen(ctx, "tcp", tcpAddr)
		if err != nil {
			_ = udp.Close()
			if port == "0" && attempt < 10 {
				continue
			}
			return nil, nil, fmt.Errorf("sip: listen tcp %s: %w", tcpAddr, err)
		}
		granted, forced, err := tuneReadBuffer(udp, s.cfg.UDPReadBuffer)
		s.rcvbuf = granted
		if err != nil {
			s.rcvbuf = -1
			s.log.Warn("sip: udp receive buffer not set", "requested", s.cfg.UDPReadBuffer, "error", err)
		} else {
			level := slog.LevelInfo
			if granted >= 0 && granted < s.cfg.UDPReadBuffer {
				level = slog.LevelWarn
			}
			s.log.Log(ctx, level, "sip: udp receive buffer",
				"requested", s.cfg.UDPReadBuffer, "granted", granted, "forced", forced,
				"hint", "raise net.core.rmem_max or run with CAP_NET_ADMIN if granted is below requested")
		}
		return udp, ln.(*net.TCPListener), nil
	}
}

// UDPAddr is the address the UDP socket is bound to (valid after Start).
func (s *Server) UDPAddr() netip.AddrPort {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.udp == nil {
		return netip.AddrPort{}
	}
	return s.udp.LocalAddr().(*net.UDPAddr).AddrPort()
}

// TCPAddr is the address the TCP listener is bound to (valid after Start).
func (s *Server) TCPAddr() netip.AddrPort {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tcp == nil {
		return netip.AddrPort{}
	}
	return s.tcp.Addr().(*net.TCPAddr).AddrPort()
}

// UDPReadBuffer is the receive buffer the kernel granted to the UDP socket,
// in bytes (-1 when the system does not say).
func (s *Server) UDPReadBuffer() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rcvbuf
}

// WSAddr is the address the WebSocket listener is bound to (valid after
// Start with WSAddr configured).
func (s *Server) WSAddr() netip.AddrPort { return s.lnAddr(&s.wsLn) }

// WSSAddr is the address the secure WebSocket listener is bound to.
func (s *Server) WSSAddr() netip.AddrPort { return s.lnAddr(&s.wssLn) }

func (s *Server) lnAddr(ln **net.TCPListener) netip.AddrPort {
	s.mu.Lock()
	defer s.mu.Unlock()
	if *ln == nil {
		return netip.AddrPort{}
	}
	return (*ln).Addr().(*net.TCPAddr).AddrPort()
}

// bannedListener refuses connections from banned sources (WebSocket:
// sipgo frames the messages).
type bannedListener struct {
	*net.TCPListener
	s *Server
}

func (l *bannedListener) Accept() (net.Conn, error) {
	for {
		conn, err := l.TCPListener.AcceptTCP()
		if err != nil {
			return nil, err
		}
		if l.s.pike.Banned(conn.RemoteAddr().(*net.TCPAddr).AddrPort().Addr()) || l.s.isClosed() {
			_ = conn.Close()
			continue
		}
		return conn, nil
	}
}

// TLSAddr is the address the TLS listener is bound to (valid after Start
// with TLS configured).
func (s *Server) TLSAddr() netip.AddrPort {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tlsLn == nil {
		return netip.AddrPort{}
	}
	return s.tlsLn.Addr().(*net.TCPAddr).AddrPort()
}

// Stats returns the intake and admission counters.
func (s *Server) Stats() Stats {
	return Stats{
		Passed:      s.stats.passed.Load(),
		Rejected:    s.stats.rejected.Load(),
		Dropped:     s.stats.dropped.Load(),
		Limited:     s.stats.limited.Load(),
		Overloaded:  s.stats.overloaded.Load(),
		ClosedConns: s.stats.closedConns.Load(),
	}
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Close stops serving: it closes the sockets and every TCP connection,
// cancels the handlers' context and waits for the serve loops, the
// connection readers and the handlers to return. It is safe to call more
// than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		close(s.done)
		udp, tcp, tlsLn, wsLn, wssLn, cancel := s.udp, s.tcp, s.tlsLn, s.wsLn, s.wssLn, s.cancel
		conns := make([]*streamConn, 0, len(s.conns))
		for c := range s.conns {
			conns = append(conns, c)
		}
		s.mu.Unlock()

		if cancel != nil {
			cancel()
		}
		var errs []error
		if udp != nil {
			if err := udp.Close(); err != nil {
				errs = append(errs, err)
			}
		}
		for _, ln := range []*net.TCPListener{tcp, tlsLn, wsLn, wssLn} {
			if ln == nil {
				continue
			}
			if err := ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
				errs = append(errs, err)
			}
		}
		for _, c := range conns {
			_ = c.Close()
		}
		s.serving.Wait()
		if err := s.ua.Close(); err != nil {
			errs = append(errs, err)
		}
		s.inflight.Wait()
		if len(errs) > 0 {
			s.closeErr = fmt.Errorf("sip: close: %w", errors.Join(errs...))
		}
	})
	return s.closeErr
}

// enter registers a handler or connection reader that Close must wait for.
// It fails once the server is closing.
func (s *Server) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.inflight.Add(1)
	return true
}

// TransactionLayer is sipgo's transaction layer of this server, for the
// requests legs originate (BYE, re-INVITE, INFO) in client transactions on the
// server's own transports, so that they are retransmitted and their answers
// seen.
func (s *Server) TransactionLayer() *sipgosip.TransactionLayer {
	return s.ua.TransactionLayer()
}
