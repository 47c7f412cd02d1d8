package media

import (
	"context"
	"time"
)

// DigitOrigin says how a digit reached voxrun.
type DigitOrigin uint8

// Digit origins.
const (
	// DigitRFC4733 is a telephone-event in the RTP stream (RFC 4733).
	DigitRFC4733 DigitOrigin = iota + 1
	// DigitInband is a tone detected in the audio.
	DigitInband
	// DigitSIPInfo is a SIP INFO request (application/dtmf-relay).
	DigitSIPInfo
	// DigitVirtual is a digit injected into a virtual endpoint.
	DigitVirtual
)

// Digit is one DTMF key press, reported once however many packets carried it.
type Digit struct {
	// Key is one of "0123456789*#ABCD".
	Key byte
	// Duration is how long the key was held.
	Duration time.Duration
	// Origin says how the digit arrived.
	Origin DigitOrigin
}

// DigitSink receives digits. Digit must not block.
type DigitSink interface {
	Digit(d Digit)
}

// DigitSinkFunc adapts a function to a DigitSink.
type DigitSinkFunc func(d Digit)

// Digit calls f.
func (f DigitSinkFunc) Digit(d Digit) { f(d) }

// Stats are the figures of one leg's media, for the CDR and metrics. An
// endpoint's Stats stay readable after Close: they are the call's final
// figures.
type Stats struct {
	PacketsSent     uint64
	PacketsReceived uint64
	// OctetsSent and OctetsReceived count RTP payload bytes (RFC 3550
	// §6.4.1's sender octet count), headers excluded; duplicates are not
	// counted as received.
	OctetsSent     uint64
	OctetsReceived uint64
	// PacketsLost is the RFC 3550 A.3 cumulative loss (expected - received).
	PacketsLost int64
	// Duplicates and Late count packets dropped by the reorder window.
	Duplicates uint64
	Late       uint64
	// Foreign counts packets dropped because they came from another source
	// than the latched one (strict-source mode).
	Foreign uint64
	// Jitter is the RFC 3550 A.8 interarrival jitter (its current value).
	Jitter time.Duration
	// MaxJitter is the highest Jitter reached during the call.
	MaxJitter time.Duration
	// RTT is the round-trip time from RTCP (RFC 3550 §6.4.1), zero until
	// the peer has reported on one of our sender reports.
	RTT time.Duration
	// RemoteLost and RemoteJitter are what the peer last reported about
	// the packets we send (RTCP reception report).
	RemoteLost   int64
	RemoteJitter time.Duration
	// RTCPSent and RTCPReceived count RTCP compound packets.
	RTCPSent, RTCPReceived uint64
}

// MOS estimates the mean opinion score (1 to 4.5) of what this leg
// receives, from its loss, jitter and round-trip time, with the simplified
// ITU-T G.107 E-model usually applied to G.711: effective latency
// RTT/2 + 2·jitter + 10 ms, R = 93.2 minus a latency penalty minus 2.5 per
// percent lost.
func (s Stats) MOS() float64 {
	latency := float64(s.RTT/2+2*s.Jitter)/float64(time.Millisecond) + 10
	r := 93.2
	if latency < 160 {
		r -= latency / 40
	} else {
		r -= (latency - 120) / 10
	}
	if expected := float64(s.PacketsReceived) + float64(max(s.PacketsLost, 0)); expected > 0 {
		r -= 2.5 * 100 * float64(max(s.PacketsLost, 0)) / expected
	}
	r = max(0, min(100, r))
	return 1 + 0.035*r + 7e-6*r*(r-60)*(100-r)
}

// Endpoint is the media side of one call leg: an RTP session, or a virtual
// endpoint for simulated calls and tests. The runtime plays into it by setting
// its current source and listens to it through sinks.
//
// Sinks and digit sinks run on the endpoint's own goroutines (an RTP
// session's reader, or the clock): they must not block, and must not call
// the endpoint's Close or AddSink. Hand the event to the call's owning
// goroutine instead (DESIGN.md: everything else is a message to it).
type Endpoint interface {
	// SetSource makes src the current outbound source; nil means comfort
	// silence. A source that returns io.EOF is replaced by silence.
	SetSource(src Source)
	// AddSink adds a receiver of decoded inbound frames and returns the
	// function that removes it.
	AddSink(s Sink) (remove func())
	// OnDigit sets the receiver of inbound DTMF (nil to drop them).
	OnDigit(s DigitSink)
	// SendDigit sends one DTMF key to the peer, held for d, and returns when
	// it has been sent or ctx ends.
	SendDigit(ctx context.Context, key byte, d time.Duration) error
	// Stats returns the leg's figures so far.
	Stats() Stats
	// Close stops the endpoint and releases what it holds; it is idempotent.
	Close() error
}
