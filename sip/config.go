package sip

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/voxrun/voxrun/sip/admission"
)

// Defaults for Config's zero values.
const (
	DefaultAddr              = ":5060"
	DefaultTLSAddr           = ":5061"
	DefaultUDPReadBuffer     = 8 << 20
	DefaultMaxMessageSize    = 16384
	DefaultTCPIdleTimeout    = 10 * time.Minute
	DefaultTCPMessageTimeout = 10 * time.Second
	DefaultUserAgent         = "voxrun"
	maxMessageSizeLimit      = 32000 // sipgo reads datagrams into 32 KiB buffers
)

// Config configures a Server. The zero value serves on :5060 with the
// defaults below.
type Config struct {
	// Addr is the host:port on which SIP is served over both UDP and TCP.
	// Port 0 picks a free port (the same number for both when it can).
	// Default ":5060".
	Addr string
	// UDPReadBuffer is the receive buffer, in bytes, requested for the UDP
	// socket. The kernel grants at most net.core.rmem_max unless the
	// process may raise it (root or CAP_NET_ADMIN: SO_RCVBUFFORCE); what was
	// granted is logged at start. Without those privileges, raise the cap:
	// sysctl -w net.core.rmem_max=8388608. Default 8 MiB.
	UDPReadBuffer int
	// MaxMessageSize is the largest SIP message accepted, in bytes; larger
	// requests get 513 or are dropped. Default 16384, at most 32000.
	MaxMessageSize int
	// TLS, when set, serves SIP over TLS (RFC 3261 §26.2) on TLSAddr with
	// this configuration (certificates included). Nil: no TLS.
	TLS *tls.Config
	// TLSAddr is the host:port for SIP over TLS. Default ":5061"; port 0
	// picks a free port.
	TLSAddr string
	// WSAddr, when set, serves SIP over WebSocket (RFC 7118, subprotocol
	// "sip") on this host:port: for browsers behind a proxy that ends TLS.
	// Port 0 picks a free port. Empty: no WebSocket.
	WSAddr string
	// WSSAddr, when set, serves SIP over secure WebSocket with TLS's
	// certificate (TLS is then required). Empty: no WSS.
	WSSAddr string
	// TCPIdleTimeout closes a TCP connection that sends nothing for this
	// long. Default 10 minutes.
	TCPIdleTimeout time.Duration
	// TCPMessageTimeout is how long a TCP peer has to send the rest of a
	// message once its first byte arrived. Default 10 seconds.
	TCPMessageTimeout time.Duration
	// UserAgent is the Server header of the responses intake sends.
	// Default "voxrun".
	UserAgent string
	// Supported lists the SIP option tags the handlers support; a request
	// that requires any other gets 420 Bad Extension.
	Supported []string
	// Pike limits messages per source address, with temporary bans.
	Pike admission.PikeConfig
	// Budget limits new calls per second and calls in progress; beyond it
	// INVITEs get 503 with Retry-After.
	Budget admission.BudgetConfig
	// Clock is the time source of admission control; nil means time.Now.
	Clock admission.Clock
	// Logger receives the server's logs; nil means slog.Default().
	Logger *slog.Logger
}

func (c Config) withDefaults() (Config, error) {
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return c, fmt.Errorf("%w: addr %q: %v", ErrConfig, c.Addr, err)
	}
	if c.UDPReadBuffer <= 0 {
		c.UDPReadBuffer = DefaultUDPReadBuffer
	}
	if c.MaxMessageSize <= 0 {
		c.MaxMessageSize = DefaultMaxMessageSize
	}
	if c.MaxMessageSize > maxMessageSizeLimit {
		return c, fmt.Errorf("%w: max message size %d above %d", ErrConfig, c.MaxMessageSize, maxMessageSizeLimit)
	}
	if c.TCPIdleTimeout <= 0 {
		c.TCPIdleTimeout = DefaultTCPIdleTimeout
	}
	if c.TLS != nil {
		if c.TLSAddr == "" {
			c.TLSAddr = DefaultTLSAddr
		}
		if _, _, err := net.SplitHostPort(c.TLSAddr); err != nil {
			return c, fmt.Errorf("%w: tls addr %q: %v", ErrConfig, c.TLSAddr, err)
		}
		if len(c.TLS.Certificates) == 0 && c.TLS.GetCertificate == nil && c.TLS.GetConfigForClient == nil {
			return c, fmt.Errorf("%w: tls without a certificate", ErrConfig)
		}
	}
	for _, a := range []string{c.WSAddr, c.WSSAddr} {
		if a == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(a); err != nil {
			return c, fmt.Errorf("%w: websocket addr %q: %v", ErrConfig, a, err)
		}
	}
	if c.WSSAddr != "" && c.TLS == nil {
		return c, fmt.Errorf("%w: wss needs a TLS configuration", ErrConfig)
	}
	if c.TCPMessageTimeout <= 0 {
		c.TCPMessageTimeout = DefaultTCPMessageTimeout
	}
	if c.UserAgent == "" {
		c.UserAgent = DefaultUserAgent
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}
