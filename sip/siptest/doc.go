// Package siptest is the test support of voxrun's SIP packages: raw SIP
// clients over UDP and TCP on loopback that send exact bytes (malformed ones
// included) and read the answers, request builders for liveness checks, and
// the loader of the RFC 4475 torture messages in sip/testdata/torture.
//
// It is for tests only: nothing in voxrun's binary imports it.
package siptest
