// Package ports hands out RTP ports from a configured range (40000–60000 by
// default): even ports only (RFC 3550 §11: RTP on an even port, RTCP on the
// next odd one), never the same port twice while it is in use, and in
// rotation so that a port just released is the last to be reused (late
// packets of an ended call do not reach the next one). Listen binds the UDP
// sockets of a leg and returns a Lease whose Close gives the port back.
//
// It is not an RTP session and knows nothing of SDP; it only owns numbers
// and the sockets bound to them.
package ports
