package siptest

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// DialWS opens a raw SIP client over WebSocket (RFC 7118, subprotocol
// "sip") to server: ws:// without cfg, wss:// with it. Each Send is one
// text frame, each Read one frame.
func DialWS(ctx context.Context, server netip.AddrPort, cfg *tls.Config) (Conn, error) {
	scheme, transport := "ws", "WS"
	if cfg != nil {
		scheme, transport = "wss", "WSS"
	}
	d := ws.Dialer{Protocols: []string{"sip"}, TLSConfig: cfg}
	c, _, _, err := d.Dial(ctx, fmt.Sprintf("%s://%s/", scheme, server))
	if err != nil {
		return nil, fmt.Errorf("siptest: dial %s %s: %w", scheme, server, err)
	}
	return &wsConn{c: c, transport: transport}, nil
}

type wsConn struct {
	c         net.Conn
	transport string
}

func (w *wsConn) Send(ctx context.Context, b []byte) error {
	if d, ok := ctx.Deadline(); ok {
		_ = w.c.SetWriteDeadline(d)
	}
	return wsutil.WriteClientText(w.c, b)
}

func (w *wsConn) Read(ctx context.Context) ([]byte, error) {
	d, ok := ctx.Deadline()
	if !ok {
		d = time.Now().Add(5 * time.Second)
	}
	_ = w.c.SetReadDeadline(d)
	b, err := wsutil.ReadServerText(w.c)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return nil, ErrNoReply
	}
	return b, err
}

func (w *wsConn) LocalAddr() netip.AddrPort {
	return w.c.LocalAddr().(interface{ AddrPort() netip.AddrPort }).AddrPort()
}
func (w *wsConn) Transport() string { return w.transport }
func (w *wsConn) Close() error      { return w.c.Close() }
