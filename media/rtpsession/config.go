package rtpsession

import (
	"io"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/voxrun/voxrun/media/clock"
	"github.com/voxrun/voxrun/media/g711"
	"github.com/voxrun/voxrun/media/netpoll"
	"github.com/voxrun/voxrun/media/sdp"
)

// Pacer is the shared clock a session registers with (*clock.Clock).
type Pacer interface {
	Register(t clock.Ticker) (unregister func(), err error)
}

// Config is what a session runs with. Conn and Clock are required; the
// zero value of every other field is a sensible default.
type Config struct {
	// Conn is the leg's RTP socket (a media/ports Lease's RTP), read by a
	// goroutine of the session's own. Exactly one of Conn and Socket is set.
	Conn *net.UDPConn
	// Socket is the leg's RTP socket when the allocator has a poller (a
	// media/ports Lease's Socket): the poller's shards read it, with no
	// goroutine per session.
	Socket *netpoll.Conn
	// RTCPSocket goes with Socket as RTCPConn goes with Conn.
	RTCPSocket *netpoll.Conn
	// Closer is closed by Session.Close after the receiver stops (the
	// media/ports Lease, which closes the socket and frees the port); nil
	// means Close closes Conn.
	Closer io.Closer
	// Clock paces the sending.
	Clock Pacer
	// Remote is the peer's RTP address from its SDP. It may be the zero
	// value (the peer holds, or its address is not known); with latching the
	// session then sends once the peer has sent.
	Remote netip.AddrPort
	// Codec is the law used both ways.
	Codec g711.Codec
	// G722 says the negotiated codec is G.722 at 64 kbit/s instead (Codec
	// is then unused; PayloadType zero means G.722's static 9).
	G722 bool
	// PayloadType is the codec's negotiated payload type (normally the
	// static 0 or 8; zero means Codec's static type).
	PayloadType uint8
	// TelephoneEvent is the negotiated RFC 4733 payload type; zero means
	// none (zero is PCMU's static type, never a telephone-event).
	TelephoneEvent uint8
	// PTime is the packetisation time: 20, 40 or 60 ms (zero means 20).
	PTime time.Duration
	// NoSend and NoReceive express the negotiated direction: sendonly is
	// NoReceive, recvonly is NoSend, inactive is both.
	NoSend, NoReceive bool
	// LooseSource re-latches to any new source address instead of dropping
	// its packets (for peers that move; it lets others inject audio).
	LooseSource bool
	// NoLatch keeps sending to Remote whatever address the peer sends from.
	NoLatch bool
	// ReorderWindow is how many packets may wait for a missing one (4 if
	// zero, at most 8).
	ReorderWindow int
	// SSRC is the leg's outbound SSRC (random if zero).
	SSRC uint32
	// RTCPMux sends and receives RTCP on Conn (RFC 5761).
	RTCPMux bool
	// RTCPConn is the RTCP socket when RTCP is not multiplexed (a
	// media/ports Lease's RTCP); nil and no RTCPMux means no RTCP at all.
	RTCPConn *net.UDPConn
	// RemoteRTCP is where RTCP goes when not multiplexed (from the SDP);
	// zero means Remote's port plus one. RTCP from the peer re-latches it.
	RemoteRTCP netip.AddrPort
	// RTCPInterval is the mean report interval (5 s, RFC 3550 §6.2); each
	// interval is drawn from 0.5 to 1.5 times it.
	RTCPInterval time.Duration
	// CNAME is the SDES canonical name in reports ("voxrun" if empty).
	CNAME string
	// InbandDTMF runs the in-band tone detector on received audio, for
	// peers that did not negotiate telephone-event. FromSDP sets it then.
	InbandDTMF bool
}

// FromSDP returns the parts of a Config that a negotiation decides; the
// caller adds Conn, Closer and Clock.
func FromSDP(s sdp.Session) Config {
	c := Config{
		Remote:      s.Remote,
		Codec:       g711.PCMU,
		PayloadType: s.Codec.PayloadType,
		PTime:       s.PTime,
		NoSend:      !s.Direction.Sends(),
		RTCPMux:     s.RTCPMux,
		RemoteRTCP:  s.RemoteRTCP,
		NoReceive:   !s.Direction.Receives(),
	}
	if strings.EqualFold(s.Codec.Name, "G722") {
		c.G722 = true
	}
	if strings.EqualFold(s.Codec.Name, "PCMA") {
		c.Codec = g711.PCMA
	}
	if s.HasTelephoneEvent() {
		c.TelephoneEvent = s.TelephoneEvent.PayloadType
	} else {
		c.InbandDTMF = true
	}
	return c
}
