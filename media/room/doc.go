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
// What it is not, yet: the relay fast path that forwards packets between two
// legs on the same codec without decoding (that needs packet hooks in
// media/rtpsession), and a cross-node room.
package room
