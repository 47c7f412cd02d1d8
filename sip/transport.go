package sip

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/voxrun/voxrun/sip/admission"
	"github.com/voxrun/voxrun/sip/intake"
)

// verdict is what the server does with one message off the wire.
type verdict struct {
	pass  []byte // bytes to hand to sipgo, nil for none
	reply []byte // stateless answer to send back, nil for none
	close bool   // close the stream connection
}

// inspect runs one message through admission and intake.
func (s *Server) inspect(raw []byte, src netip.AddrPort, stream bool) verdict {
	switch s.pike.Check(src.Addr()) {
	case admission.Banned:
		s.stats.limited.Add(1)
		return verdict{close: stream}
	case admission.NewBan:
		s.stats.limited.Add(1)
		s.log.Warn("sip: source banned for flooding", "security", true, "source", src.Addr().String(), "ban", s.cfg.Pike.Ban)
		return verdict{close: stream}
	}
	m, err := intake.Validate(raw, intake.Options{Stream: stream, MaxSize: s.cfg.MaxMessageSize, Supported: s.cfg.Supported})
	if err == nil {
		if m.Request && m.Method == "INVITE" && !m.HasToTag() {
			// Over budget: answer 503 here, statelessly, before sipgo
			// parses the INVITE and builds its transaction, so that an
			// overloaded node sheds calls cheaply (RFC 3261 §21.5.4).
			// Its retransmissions get the same answer; the ACK is dropped
			// by the transaction layer.
			if full, retry := s.budget.Full(); full {
				s.stats.overloaded.Add(1)
				secs := max(int(retry.Seconds()), 1)
				return verdict{reply: m.Response(503, "Service Unavailable", "Retry-After: "+strconv.Itoa(secs), "Server: "+s.cfg.UserAgent), close: false}
			}
		}
		s.stats.passed.Add(1)
		if !stream && m.Request {
			// Answer to the packet's source port (RFC 3581 §4), NAT or not.
			return verdict{pass: m.WithRport()}
		}
		return verdict{pass: m.Raw}
	}
	var ie *intake.Error
	if !errors.As(err, &ie) {
		s.stats.dropped.Add(1)
		return verdict{}
	}
	if errors.Is(err, intake.ErrKeepAlive) {
		return verdict{}
	}
	closeConn := stream && (errors.Is(err, intake.ErrFraming) || errors.Is(err, intake.ErrTooLarge))
	if ie.Status == 0 || m == nil {
		s.stats.dropped.Add(1)
		s.log.Debug("sip: message dropped", "source", src.String(), "reason", err.Error())
		return verdict{close: closeConn}
	}
	s.stats.rejected.Add(1)
	s.log.Debug("sip: request rejected", "source", src.String(), "status", ie.Status, "reason", err.Error())
	extra := append([]string{"Server: " + s.cfg.UserAgent}, ie.Headers...)
	return verdict{reply: m.Response(ie.Status, ie.Reason, extra...), close: closeConn}
}

// intakePacketConn is the UDP socket as sipgo sees it: ReadFrom returns only
// datagrams that passed intake; the others are answered or dropped here.
type intakePacketConn struct {
	*net.UDPConn
	s   *Server
	buf []byte
}

// ReadFrom reads the next datagram that passes intake into p.
func (c *intakePacketConn) ReadFrom(p []byte) (int, net.Addr, error) {
	if c.buf == nil {
		c.buf = make([]byte, 65536)
	}
	for {
		n, src, err := c.UDPConn.ReadFromUDPAddrPort(c.buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) || c.s.isClosed() {
				return 0, nil, net.ErrClosed
			}
			// sipgo stops serving on any other error: absorb transient ones
			// (ICMP errors reported on the socket, say), without spinning.
			c.s.log.Debug("sip: udp read", "error", err)
			t := time.NewTimer(10 * time.Millisecond)
			select {
			case <-t.C:
			case <-c.s.done:
				t.Stop()
			}
			continue
		}
		v := c.s.inspect(c.buf[:n], src, false)
		if v.reply != nil {
			if _, err := c.UDPConn.WriteToUDPAddrPort(v.reply, src); err != nil {
				c.s.log.Debug("sip: udp write", "error", err)
			}
		}
		if v.pass == nil {
			continue
		}
		if len(v.pass) > len(p) {
			c.s.stats.dropped.Add(1)
			continue
		}
		return copy(p, v.pass), net.UDPAddrFromAddrPort(src), nil
	}
}

// intakeListener hands sipgo TCP (or TLS) connections whose reads pass
// intake.
type intakeListener struct {
	*net.TCPListener
	s   *Server
	tls *tls.Config // nil for plain TCP
}

// Accept returns the next connection from a source that is not banned.
func (l *intakeListener) Accept() (net.Conn, error) {
	for {
		conn, err := l.TCPListener.AcceptTCP()
		if err != nil {
			return nil, err
		}
		src := conn.RemoteAddr().(*net.TCPAddr).AddrPort()
		if l.s.pike.Banned(src.Addr()) {
			_ = conn.Close()
			continue
		}
		var nc net.Conn = conn
		if l.tls != nil {
			// The handshake runs on the first Read, on sipgo's reader.
			nc = tls.Server(conn, l.tls)
		}
		c, ok := l.s.track(nc, src)
		if !ok {
			_ = conn.Close()
			return nil, net.ErrClosed
		}
		return c, nil
	}
}

// track wraps a TCP connection and registers it so that Close closes it and
// waits for its reader.
func (s *Server) track(conn net.Conn, src netip.AddrPort) (*streamConn, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, false
	}
	c := &streamConn{Conn: conn, s: s, src: src, framer: intake.NewFramer(conn, s.cfg.MaxMessageSize)}
	c.framer.OnMessageStart = func() {
		_ = conn.SetReadDeadline(time.Now().Add(s.cfg.TCPMessageTimeout))
	}
	s.conns[c] = struct{}{}
	s.inflight.Add(1) // done when sipgo's reader sees the connection end
	return c, true
}

// streamConn is a TCP connection as sipgo sees it: Read returns only the
// messages that passed intake, framed by intake.Framer.
type streamConn struct {
	net.Conn
	s       *Server
	src     netip.AddrPort
	framer  *intake.Framer
	pending []byte

	readDone   sync.Once
	closeOnce  sync.Once
	handshaken bool
}

// Read returns bytes of messages that passed intake. On a framing error it
// answers if it can, closes the connection and returns io.EOF.
func (c *streamConn) Read(p []byte) (int, error) {
	if tc, ok := c.Conn.(*tls.Conn); ok && !c.handshaken {
		// The handshake, too, has TCPMessageTimeout to complete.
		_ = c.Conn.SetDeadline(time.Now().Add(c.s.cfg.TCPMessageTimeout))
		if err := tc.Handshake(); err != nil {
			c.s.log.Debug("sip: tls handshake", "source", c.src.String(), "error", err)
			return 0, c.end(err)
		}
		_ = c.Conn.SetWriteDeadline(time.Time{})
		c.handshaken = true
	}
	for len(c.pending) == 0 {
		// Idle between messages; OnMessageStart tightens the deadline once
		// a message begins.
		if c.framer.Buffered() == 0 {
			_ = c.Conn.SetReadDeadline(time.Now().Add(c.s.cfg.TCPIdleTimeout))
		}
		fr, err := c.framer.Next()
		if err != nil {
			var ie *intake.Error
			if errors.As(err, &ie) {
				c.s.stats.closedConns.Add(1)
				c.answerFramingError(fr.Message, ie)
				c.linger()
			}
			return 0, c.end(err)
		}
		if fr.Ping {
			// RFC 5626 §3.5.1: a double CRLF is answered with one CRLF.
			if _, err := c.Conn.Write([]byte("\r\n")); err != nil {
				return 0, c.end(err)
			}
			continue
		}
		v := c.s.inspect(fr.Message, c.src, true)
		if v.reply != nil {
			if _, err := c.Conn.Write(v.reply); err != nil {
				return 0, c.end(err)
			}
		}
		if v.close {
			c.s.stats.closedConns.Add(1)
			c.linger()
			return 0, c.end(io.EOF)
		}
		c.pending = v.pass
	}
	n := copy(p, c.pending)
	c.pending = c.pending[n:]
	return n, nil
}

// framingLinger is how long a connection that broke framing stays open for
// writing, so that the answers to the requests before the break (handled on
// other goroutines) still reach the peer; sipgo forgets the connection as
// soon as its reader stops.
const framingLinger = 500 * time.Millisecond

// linger stops reading from the peer and waits, for framingLinger or until
// the server closes, before the reader reports the end.
func (c *streamConn) linger() {
	if tc, plain := c.Conn.(*net.TCPConn); plain {
		_ = tc.CloseRead()
	}
	t := time.NewTimer(framingLinger)
	defer t.Stop()
	select {
	case <-t.C:
	case <-c.s.done:
	}
}

// answerFramingError answers a message the framer gave up on, when what was
// read of it names a Via to answer.
func (c *streamConn) answerFramingError(head []byte, ie *intake.Error) {
	if ie.Status == 0 || len(head) == 0 {
		return
	}
	// Validate returns the message whenever it can be answered (valid, or
	// rejected with a status); never for responses, ACKs or no usable Via.
	m, _ := intake.Validate(head, intake.Options{MaxSize: 1 << 30})
	if m == nil || !m.Request {
		return
	}
	_, _ = c.Conn.Write(m.Response(ie.Status, ie.Reason, "Server: "+c.s.cfg.UserAgent))
}

// end closes the connection after a read error and reports the end of the
// reader to Close (once). Timeouts and resets end quietly.
func (c *streamConn) end(err error) error {
	_ = c.Close()
	if errors.Is(err, os.ErrDeadlineExceeded) || !errors.Is(err, net.ErrClosed) {
		return io.EOF
	}
	return err
}

// Close closes the connection and forgets it. sipgo closes a connection
// after its reader stops (also when its own parser gives up), so this, too,
// ends the reader for Close's accounting.
func (c *streamConn) Close() error {
	var err error
	c.closeOnce.Do(func() {
		c.s.mu.Lock()
		delete(c.s.conns, c)
		c.s.mu.Unlock()
		err = c.Conn.Close()
	})
	c.readDone.Do(c.s.inflight.Done)
	return err
}
