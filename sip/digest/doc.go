// Package digest is SIP digest authentication on the server side (RFC 3261
// §22, RFC 7616 hashes per RFC 8760): it issues challenges and verifies the
// Authorization (or Proxy-Authorization) of a request, with MD5 and SHA-256
// and qop=auth.
//
// Nonces are stateless to issue (a MAC over the realm, an expiry and random
// bytes, keyed by a secret every node shares), so a challenge is sent before
// any user is looked up and costs nothing to store; they expire after at
// most five minutes and are bound to the realm they were issued for. Each
// nonce count is accepted once, tracked in live state (store.Values) so that
// any node can verify and a replay on another node fails. Unknown users and
// wrong passwords get the same answer, computed the same way.
//
// It is not the registrar or the router: it knows no accounts, it does not
// decide which requests need authentication, and it does not count failed
// attempts (callers do, per source and per user).
package digest
