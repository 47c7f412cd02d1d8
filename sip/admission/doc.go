// Package admission decides whether voxrun takes on more SIP work: a token
// bucket per source address with temporary bans (modelled on Kamailio's pike
// module), and a global budget of new calls per second and calls in progress,
// beyond which a new call is answered 503 with Retry-After so that overload
// sheds calls instead of collapsing into retransmissions; and a lockout
// that counts failed attempts (wrong digest credentials) per source and per
// user.
//
// It is not authentication and it does not know SIP messages: callers ask
// about an address or a new call and act on the answer. It starts no
// goroutines; time comes from an injected clock so that tests control it.
package admission
