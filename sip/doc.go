// Package sip is voxrun's signaling edge: a SIP server on sipgo that takes
// SIP over UDP, TCP and (when configured) TLS from the open internet, checks every message before
// sipgo parses it (sip/intake), limits sources and new calls (sip/admission),
// and hands the requests that pass to handlers the integrator plugs in
// (cmd/voxrun plugs in routing, and routing hands legs to the runtime).
//
// The UDP socket is created here, not by sipgo, so that it gets a large
// receive buffer (8 MiB requested; the kernel caps it at net.core.rmem_max
// unless the process may use SO_RCVBUFFORCE). Each datagram and each framed
// TCP message goes through intake first: malformed requests are answered
// statelessly (400 with a reason phrase, 416, 420, 483, 505, 513) or dropped
// where RFC 3261 says not to answer; TCP framing errors close the connection.
//
// It is not the call logic: it knows no verbs, apps or runtime sessions
// (DESIGN.md's package graph forbids those imports), and it reaches stores
// only through the interfaces of package store.
package sip
