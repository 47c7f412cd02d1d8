// Package rtpsession is one call leg's RTP on a UDP socket, on
// github.com/pion/rtp: it encodes the leg's current source to G.711 on every
// tick of the shared pacing clock and sends it, and it receives, checks,
// reorders and decodes the peer's packets into 20 ms frames for the leg's
// sinks, with RFC 4733 digits in both directions.
//
// What it guarantees: symmetric RTP (it sends to where the peer sends from
// once the peer has sent) with strict-source mode by default (after latching,
// packets from any other address are dropped, so nobody can inject audio
// into another tenant's call); a small reorder window that drops duplicates;
// loss and interarrival jitter per RFC 3550 A.3 and A.8; one SSRC with
// continuous sequence numbers and timestamps across source changes, with the
// marker bit on each talkspurt start; comfort silence when nothing plays;
// RTCP sender and receiver reports (RFC 3550 §6, multiplexed per RFC 5761 or
// on their own socket) from which Stats gets the round-trip time and the
// peer's view of loss, and a MOS estimate; in-band DTMF detection when the
// peer has no telephone-event; and no allocation per packet in steady state
// (RTCP allocates once per report interval).
//
// It is not a jitter buffer with playout delay, and it knows nothing of SIP:
// the SIP layer negotiates with media/sdp, binds ports with media/ports and
// hands the result to New.
package rtpsession
