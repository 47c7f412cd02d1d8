package siptest

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/voxrun/voxrun/sip/intake"
)

// ErrNoReply is returned when nothing arrived before the context ended.
var ErrNoReply = errors.New("siptest: no reply")

// Conn is a raw SIP client connection.
type Conn interface {
	// Send writes b as it is.
	Send(ctx context.Context, b []byte) error
	// Read returns the next message received, or ErrNoReply when ctx ends
	// first, or io.EOF when a stream was closed by the server.
	Read(ctx context.Context) ([]byte, error)
	// LocalAddr is the client's address.
	LocalAddr() netip.AddrPort
	// Transport is "UDP", "TCP" or "TLS".
	Transport() string
	Close() error
}

// Dial opens a raw client to server over network "udp" or "tcp".
func Dial(ctx context.Context, network string, server netip.AddrPort) (Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, network, server.String())
	if err != nil {
		return nil, fmt.Errorf("siptest: dial %s %s: %w", network, server, err)
	}
	if network == "udp" {
		return &udpConn{c: c.(*net.UDPConn)}, nil
	}
	return &tcpConn{c: c, f: intake.NewFramer(c, 1<<20), transport: "TCP"}, nil
}

// DialTLS opens a raw client to server over TLS with cfg.
func DialTLS(ctx context.Context, server netip.AddrPort, cfg *tls.Config) (Conn, error) {
	d := tls.Dialer{Config: cfg}
	c, err := d.DialContext(ctx, "tcp", server.String())
	if err != nil {
		return nil, fmt.Errorf("siptest: dial tls %s: %w", server, err)
	}
	return &tcpConn{c: c, f: intake.NewFramer(c, 1<<20), transport: "TLS"}, nil
}

type udpConn struct{ c *net.UDPConn }

func (u *udpConn) Send(ctx context.Context, b []byte) error {
	if dl, ok := ctx.Deadline(); ok {
		_ = u.c.SetWriteDeadline(dl)
	}
	_, err := u.c.Write(b)
	return err
}

func (u *udpConn) Read(ctx context.Context) ([]byte, error) {
	dl, ok := ctx.Deadline()
	if !ok {
		dl = time.Now().Add(5 * time.Second)
	}
	_ = u.c.SetReadDeadline(dl)
	buf := make([]byte, 65536)
	n, err := u.c.Read(buf)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil, ErrNoReply
		}
		return nil, err
	}
	return buf[:n], nil
}

func (u *udpConn) LocalAddr() netip.AddrPort { return u.c.LocalAddr().(*net.UDPAddr).AddrPort() }
func (u *udpConn) Transport() string         { return "UDP" }
func (u *udpConn) Close() error              { return u.c.Close() }

type tcpConn struct {
	c         net.Conn
	f         *intake.Framer
	transport string
}

func (t *tcpConn) Send(ctx context.Context, b []byte) error {
	if dl, ok := ctx.Deadline(); ok {
		_ = t.c.SetWriteDeadline(dl)
	}
	_, err := t.c.Write(b)
	return err
}

func (t *tcpConn) Read(ctx context.Context) ([]byte, error) {
	dl, ok := ctx.Deadline()
	if !ok {
		dl = time.Now().Add(5 * time.Second)
	}
	_ = t.c.SetReadDeadline(dl)
	for {
		fr, err := t.f.Next()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return nil, ErrNoReply
			}
			return nil, err
		}
		if fr.Ping {
			continue
		}
		return append([]byte(nil), fr.Message...), nil
	}
}

func (t *tcpConn) LocalAddr() netip.AddrPort { return t.c.LocalAddr().(*net.TCPAddr).AddrPort() }
func (t *tcpConn) Transport() string         { return t.transport }
func (t *tcpConn) Close() error              { return t.c.Close() }

// Status returns the status code of a response, or 0 for anything else.
func Status(msg []byte) int {
	line, _, _ := strings.Cut(string(msg), "\r\n")
	if !strings.HasPrefix(line, "SIP/2.0 ") || len(line) < 11 {
		return 0
	}
	n, err := strconv.Atoi(line[8:11])
	if err != nil {
		return 0
	}
	return n
}

// Header returns the first value of header name in msg ("" when absent).
func Header(msg []byte, name string) string {
	sc := bufio.NewScanner(strings.NewReader(string(msg)))
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			break
		}
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// ReadFinal reads until a final response (status ≥ 200) arrives and returns
// it, skipping provisional ones.
func ReadFinal(ctx context.Context, c Conn) ([]byte, error) {
	for {
		msg, err := c.Read(ctx)
		if err != nil {
			return nil, err
		}
		if Status(msg) >= 200 {
			return msg, nil
		}
	}
}

// Request builds a well-formed request from c's address to target, with
// rport, Max-Forwards 70 and no body. extra are more header lines.
func Request(method string, c Conn, target netip.AddrPort, callID string, extra ...string) []byte {
	var b strings.Builder
	local := c.LocalAddr()
	fmt.Fprintf(&b, "%s sip:voxrun@%s SIP/2.0\r\n", method, target)
	fmt.Fprintf(&b, "Via: SIP/2.0/%s %s;rport;branch=z9hG4bK-%s\r\n", c.Transport(), local, callID)
	fmt.Fprintf(&b, "Max-Forwards: 70\r\n")
	fmt.Fprintf(&b, "From: <sip:test@%s>;tag=t-%s\r\n", local, callID)
	fmt.Fprintf(&b, "To: <sip:voxrun@%s>\r\n", target)
	fmt.Fprintf(&b, "Call-ID: %s\r\n", callID)
	fmt.Fprintf(&b, "CSeq: 1 %s\r\n", method)
	fmt.Fprintf(&b, "Contact: <sip:test@%s>\r\n", local)
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	return []byte(b.String())
}

// Ping sends an OPTIONS over c and reports the final status it gets.
func Ping(ctx context.Context, c Conn, target netip.AddrPort, callID string) (int, error) {
	if err := c.Send(ctx, Request("OPTIONS", c, target, callID)); err != nil {
		return 0, err
	}
	for {
		msg, err := ReadFinal(ctx, c)
		if err != nil {
			return 0, err
		}
		// Stray answers to earlier messages may come first.
		if strings.Contains(Header(msg, "Call-ID"), callID) {
			return Status(msg), nil
		}
	}
}
