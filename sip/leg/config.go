package leg

import (
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/voxrun/voxrun/media/ports"
	"github.com/voxrun/voxrun/media/rtpsession"
	"github.com/voxrun/voxrun/media/sdp"
)

// Defaults for Config's zero values (RFC 3261 §17.1.1.1).
const (
	DefaultT1        = 500 * time.Millisecond
	DefaultT2        = 4 * time.Second
	DefaultUserAgent = "voxrun"
)

// Config configures an Agent and every leg it builds.
type Config struct {
	// Ports hands out the RTP ports of the legs. Required.
	Ports *ports.Allocator
	// Clock paces the RTP sending of every leg (a *clock.Clock). Required.
	Clock rtpsession.Pacer
	// MediaAddr is the address RTP is bound to and advertised in SDP (the
	// c= line). Required; it must not be unspecified (0.0.0.0).
	MediaAddr netip.Addr
	// Codecs are the codecs accepted, PCMU and PCMA when empty. Answers
	// follow the offerer's order of preference.
	Codecs []sdp.Codec
	// Requester sends the requests a leg originates (BYE, later re-INVITE
	// and INFO) in sipgo client transactions on the server's transports, so
	// that their responses are seen. Without one, a leg writes them once over
	// the connection its INVITE came in on and does not wait for an answer
	// (see the package's report: package sip does not expose its user agent
	// yet).
	Requester Requester
	// LocalAddr returns the address the SIP server listens on for a
	// transport ("UDP", "TCP"): sip.Server's UDPAddr and TCPAddr. Outbound
	// calls (Agent.Dial) need it: over UDP they leave from that socket, and
	// it is their Via and Contact. Inbound legs do not use it.
	LocalAddr func(transport string) netip.AddrPort
	// Host is the host written in Contact and Via; empty means the local
	// address the INVITE arrived on (or its Request-URI host when the server
	// listens on an unspecified address).
	Host string
	// UserAgent is the Server and User-Agent header value. Default "voxrun".
	UserAgent string
	// T1 is the round-trip estimate of RFC 3261 §17.1.1.1: the first 2xx
	// retransmission interval; 64*T1 without ACK ends the call. Default 500 ms.
	T1 time.Duration
	// T2 caps the 2xx retransmission interval. Default 4 s.
	T2 time.Duration
	// MinSE is the smallest session interval accepted (RFC 4028): an
	// INVITE asking for less gets 422 with Min-SE. Default 90 s.
	MinSE time.Duration
	// SessionExpires is the session interval asked for in outbound INVITEs
	// (Session-Expires, Supported: timer); the far end's 2xx decides who
	// refreshes. Default 1800 s; negative asks for no session timer.
	SessionExpires time.Duration
	// Logger receives the legs' logs; nil means slog.Default().
	Logger *slog.Logger
}

func (c Config) withDefaults() (Config, error) {
	if c.Ports == nil || c.Clock == nil {
		return c, fmt.Errorf("%w: Ports and Clock are required", ErrConfig)
	}
	if !c.MediaAddr.IsValid() || c.MediaAddr.IsUnspecified() {
		return c, fmt.Errorf("%w: media address %v", ErrConfig, c.MediaAddr)
	}
	if c.UserAgent == "" {
		c.UserAgent = DefaultUserAgent
	}
	if c.T1 <= 0 {
		c.T1 = DefaultT1
	}
	if c.T2 <= 0 {
		c.T2 = DefaultT2
	}
	if c.T2 < c.T1 {
		c.T2 = c.T1
	}
	if c.MinSE <= 0 {
		c.MinSE = DefaultMinSE
	}
	if c.SessionExpires == 0 {
		c.SessionExpires = DefaultSessionExpires
	}
	if c.SessionExpires > 0 && c.SessionExpires < c.MinSE {
		c.SessionExpires = c.MinSE
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}
