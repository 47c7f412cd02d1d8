// Package intake checks raw SIP messages before anything else reads them.
//
// sipgo's parser is lenient: it accepts several malformed messages, takes the
// last of two Content-Length headers and keeps spaces inside parameter names.
// Intake sits in front of it, on the bytes as they came off the socket, and
// gives one verdict per message: pass it on (possibly trimmed to its
// Content-Length, RFC 3261 §18.3), answer it statelessly (400 with a reason
// phrase, 416, 420, 483, 505, 513) or drop it silently where RFC 3261 says an
// element must not answer (responses, ACKs, messages without a usable Via).
// It also frames SIP messages on stream transports (TCP), where a framing
// error cannot be recovered from and the connection has to be closed.
//
// It is not a SIP parser for the rest of voxrun: it keeps only what it needs
// to judge a message and to build a stateless response, and hands the bytes
// on. It knows nothing about sockets, transactions, dialogs or routing, and
// it never blocks.
package intake
