// Package media is the audio side of a call: the 20 ms frame of 16-bit linear
// PCM at 8 kHz that every stage exchanges, the Source and Sink interfaces
// (with Func adapters) that stages implement, the Digit event, the Stats of a
// leg (with a MOS estimate), and the Endpoint contract that both an RTP leg
// (media/rtpsession) and a virtual endpoint (media/virtual) satisfy.
//
// Subpackages do the work:
//
//	media/g711        PCMU and PCMA through tables
//	media/g722        ITU-T G.722 at 64 kbit/s (legs on it resample 8↔16 kHz)
//	media/sdp         RFC 3264 offer/answer (488/400 as typed errors)
//	media/ports       the RTP port range, and the sockets of a leg (Lease)
//	media/clock       the one sharded 20 ms pacing clock
//	media/netpoll     UDP sockets read by a few epoll shards, not a goroutine each
//	media/rtpsession  one RTP leg: symmetric RTP, reorder, RTCP, DTMF, relay
//	media/dtmf        RFC 4733 events and the in-band Goertzel detector
//	media/virtual     a pair of endpoints with no sockets, fed from Go
//	media/room        bridges and conferences: mixing, or relaying two legs
//	media/record      a leg, or a bridge in stereo, streamed to a WAV file
//	media/resample    a low-pass polyphase resampler
//	media/wav         WAV reading (as a frame Source) and streaming writing
//	media/mediatest   test support: a manual clock, collecting sinks
//
// A SIP leg gets its media like this: ports.Allocator.Listen binds a port
// pair (the poller's sockets when the allocator has a netpoll.Poller); sdp.ParseOffer and Offer.Answer negotiate (sdp.StatusOf gives the SIP
// status of a failure); rtpsession.FromSDP plus the lease's sockets and the
// shared clock make the Config for rtpsession.New; Session.Close on BYE
// releases everything. See the rtpsession package example.
//
// Package media is a leaf: it imports no other voxrun package, and it knows
// nothing of SIP dialogs, verbs or calls.
package media
