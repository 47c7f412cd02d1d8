// Package virtual is a media endpoint with no sockets: a Pair of endpoints
// joined back to back on the pacing clock, each a media.Endpoint. One end is
// the call's leg (the runtime plays into it and listens to it exactly as it
// would an RTP session); the other is the simulated party, fed and read from
// Go by the console's simulated calls and the interpreter's tests.
//
// Every tick moves one 20 ms frame each way (silence when a side has no
// source), and digits sent on one end arrive once, with their duration, on
// the other. It is not a network simulator: no loss, jitter or codec.
package virtual
