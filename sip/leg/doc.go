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
// Agent.Dial places an outbound (UAC) call on the same leg type: an INVITE
// with voxrun's SDP offer in a client transaction of the Requester (sent
// from the server's socket, Config.LocalAddr), provisional responses
// reported (a 1xx with SDP starts early media, received only), one digest
// challenge (401/407) answered, the ACK of the 2xx (RFC 3261 §13.2.2.4,
// again for every retransmission), CANCEL on timeout or when ctx ends
// (RFC 3261 §9.1; a 2xx that crosses it gets ACK then BYE), and a
// *StatusError carrying the final status otherwise. The leg it returns is
// answered; its dialog is the UAC's view (local tag the From tag, remote
// target the 2xx's Contact, route set the Record-Route reversed) and the
// far end's BYE reaches it through ServeDialog like an inbound leg's.
// DialRequest.Proxy sends the INVITE to another first hop than the
// Request-URI's host (a registered trunk's gateway, a device's NAT
// address), and From.Host sets the From domain a carrier expects.
//
// Session timers (RFC 4028): an INVITE with Session-Expires below
// Config.MinSE gets 422; otherwise the 2xx agrees on the interval and the
// refresher. Voxrun refreshes at half the interval (UPDATE when the peer
// allows it, else a re-INVITE with the same SDP); a refresh from the peer
// (re-INVITE or UPDATE) restarts the interval; a missing or failed refresh
// ends the call with BYE (CauseSessionExpired). Outbound INVITEs ask for
// Config.SessionExpires and retry a 422 with the far end's Min-SE.
//
// Transfers (RFC 3515): a REFER from the peer goes to the handler set with
// OnRefer (202 accepts: voxrun NOTIFYs "100 Trying" and the outcome with
// NotifyRefer; without a handler, 603); Leg.Refer sends one and follows the
// peer's sipfrag NOTIFYs to the final status.
//
// Not built yet for outbound legs: forked 2xx from several UAS (only the
// first is kept), reliable provisionals (RFC 3262), a leg handed out
// before the answer (to bridge early media), DNS SRV/NAPTR for targets.
//
// It is not routing (sip/route), not the SIP server or
// its intake checks (package sip), and it knows nothing of verbs, apps or the
// runtime: Dialog returns this package's Dialog, which has the same fields as
// runtime.Dialog so that cmd converts one to the other.
package leg
