// Package sdp negotiates a call leg's audio by the offer/answer model of
// RFC 3264, on github.com/pion/sdp/v3: it parses a peer's offer, picks PCMU or
// PCMA in the offerer's order of preference, keeps the peer's telephone-event
// payload type (RFC 4733), ptime, direction and rtcp-mux, and writes the
// answer; it also writes offers for outbound calls and reads their answers.
//
// The result of a negotiation is a Session: the remote RTP address and the
// codec, DTMF payload type, ptime and direction that the RTP leg runs with.
// Failures are *Error values carrying the SIP status to answer with (488 when
// nothing matches, 400 when the SDP is malformed); parsing never panics.
//
// It is not a general SDP toolkit: no video, no SRTP or DTLS, no ICE (browser
// legs come later with pion/webrtc), and it does not touch sockets.
package sdp
