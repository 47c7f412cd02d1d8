// Package leg is one SIP call leg on sipgo's transactions: the signaling of
// one side of a call (RFC 3261 dialogs) together with its RTP media, as the
// runtime's Leg interface needs it (Answer, Progress, Ring, Reject, Hangup,
// Endpoint, Ended, Dialog).
//
// An Agent owns the legs of one SIP server: Accept turns an initial INVITE
// (and its server transaction) into an inbound (UAS) leg: it negotiates the
// SDP answer with media/sdp (no common codec: 488), binds an RTP port from
// media/ports and starts a media/rtpsession bound to the negotiated codec,
// telephone-event, ptime and the peer's address (symmetric RTP); an INVITE
// without SDP gets voxrun's offer in the 2xx and the answer from the ACK
// (RFC 3261 §13.2.1). The Agent's
// handlers route in-dialog requests to their leg: ACK (confirms the dialog
// and stops the 2xx retransmissions of RFC 3261 §13.3.1.4), BYE, re-INVITE
// (hold and resume: the answer's direction follows RFC 3264 §8.4), INFO with
// application/dtmf-relay (digits reach the same digit sink as RFC 4733
// digits, with origin media.DigitSIPInfo) and OPTIONS. A CANCEL is answered
// by sipgo's INVITE transaction (200, then 487) and ends the leg.
//
// The leg type is meant to serve outbound (UAC) calls too; only the inbound
// side is built so far. It is not routing (sip/route), not the SIP server or
// its intake checks (package sip), and it knows nothing of verbs, apps or the
// runtime: Dialog returns this package's Dialog, which has the same fields as
// runtime.Dialog so that cmd converts one to the other.
package leg
