// Package siptest is the test support of voxrun's SIP packages: raw SIP
// clients over UDP, TCP and TLS on loopback that send exact bytes (malformed
// ones included) and read the answers, request builders for liveness checks,
// a clock that moves only when the test says, and a self-signed TLS
// certificate for 127.0.0.1.
//
// It is for tests only: nothing in voxrun's binary imports it.
package siptest
