// Package room joins call legs so that each hears the others: a two-member
// room is a bridge, three or more a conference (DESIGN.md: a 1:1 call is a
// two-party conference). It works on any media.Endpoint (RTP sessions and
// virtual endpoints alike) through their frames: on every tick of the shared
// clock it takes one frame from each member, and gives each member the sum
// of the others (saturating, so loud parties clip instead of wrapping).
// Members can be muted (not heard) or deafened (hear nothing), and a member's
// endpoint can be handed a prompt (whisper) and given back its mix without a
// gap, since the endpoint keeps its own RTP continuity.
//
// Two members that are RTP sessions on the same codec and ptime, with nobody
// muted, deaf or whispered to, are relayed instead (the fast path): each
// session hands its peer's packets to the other, which rewrites SSRC,
// sequence number and timestamp onto its own stream, with no mixing and no
// encoding (each leg still decodes what it receives for its own sinks: a
// recorder, the DTMF detector). RFC 4733 digits pass through with the
// receiving leg's telephone-event payload type; while mixing they are not
// passed on. A third member, a mute or a whisper drops the room back to
// mixing on the next tick, and it relays again when it can.
//
// It is not a cross-node room, and it does not yet limit how many speakers
// are mixed at once.
package room
