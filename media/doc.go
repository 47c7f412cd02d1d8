// Package media is the audio side of a call: the 20 ms frame of 16-bit linear
// PCM that every stage exchanges, the Source and Sink interfaces (with Func
// adapters) that stages implement, the Digit event, and the Endpoint contract
// that both an RTP leg (media/rtpsession) and a virtual endpoint
// (media/virtual) satisfy.
//
// Subpackages do the work: media/g711 (PCMU and PCMA through tables),
// media/sdp (RFC 3264 offer/answer), media/ports (the RTP port range),
// media/dtmf (RFC 4733 telephone-event), media/rtpsession (one RTP leg on a
// UDP socket), media/clock (the shared 20 ms pacing clock) and media/virtual
// (an endpoint fed and read from Go).
//
// Package media is a leaf: it imports no other voxrun package, and it knows
// nothing of SIP dialogs, verbs or calls. It is not a jitter-buffered playout
// engine, a mixer or a player (yet): those are stages built on these types.
package media
