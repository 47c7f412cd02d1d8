// Package registrar is voxrun's SIP registrar and the digest authentication
// of SIP clients (issue 4, "Authentication and the registrar"): it answers
// REGISTER requests for accounts' SIP realms (RFC 3261 §10) and keeps each
// user's binding in live state under user:{name}@{domain}, and it
// authenticates INVITEs (and other requests) from registered clients for
// routing.
//
// Every request that needs authentication is challenged first (401 with one
// WWW-Authenticate per algorithm of package sip/digest), before any realm or
// user is looked up, so known and unknown realms and users get the same
// challenge. Credentials are then checked in one of two ways:
//
//   - with the client's password from provisioning (store.Clients of the
//     account whose sip_realm is the request's realm, in the admin scope;
//     an inactive client or account counts as unknown), through
//     sip/digest's Verify (MD5 or SHA-256, qop=auth, realm-bound nonces of at
//     most five minutes, each nonce count good once on any node);
//   - or, when the account has a registration hook, by POSTing the digest
//     fields to it following jambonz's registration webhook contract
//     (HookPayload, signed with the account's webhook secret by the
//     HookSender cmd hands in), the customer's server answering
//     {"status":"ok"|"fail", "expires": n, "blacklist": true}. The nonce is
//     still checked here (issued by this cluster, for this realm, not
//     expired) and each nonce count is accepted once.
//
// Wrong credentials, unknown users and unknown realms all get the same 403
// after the same work. Failed attempts are counted per source address and
// per user@realm (sip/admission's Lockout). A locked-out source gets no
// answer at all and no verification (a flood earns nothing, and tools such
// as svcrack give up when the answers stop); a locked-out user gets 403 to
// every credentialed attempt without verification, so that the real user,
// whose address is not locked, learns at once. Each failure and each lockout is
// logged at Warn as a security event ("security_event": "sip_auth_failure"
// or "sip_auth_lockout", with source, realm and user; never a password or a
// digest response). A successful attempt clears the user's count, never the
// source's, so that one valid account cannot launder a brute force run from
// the same address.
//
// A REGISTER is accepted only when the authenticated user is the To user in
// that realm (403 otherwise). The binding records the Contact, the packet's
// source address and port, the transport, the node, the User-Agent and the
// Call-ID; the granted expiry is the requested one bounded to
// [MinExpires, MaxExpires] (423 with Min-Expires below the minimum), or
// store.NATRegistrationTTL when the Contact's address is not the packet's
// source (a device behind NAT re-registers often enough to keep its
// pinhole open). Expires 0 removes the binding when it is that Contact's
// (a device cannot log out the one that replaced it), Contact * with
// Expires: 0 removes it whatever it is; a REGISTER without Contact queries
// it. One binding is kept per
// user (the live-state layout has one key per user): the first Contact of a
// REGISTER wins and the 200 OK lists only it, with its granted expiry.
//
// Where it differs from jambonz's registrar (for docs/compat.md): the
// nonce of a hook attempt is checked and each nonce count is accepted once
// before the customer is asked; a registration hook that cannot be reached
// gets 503 with Retry-After (jambonz: 500), a reply that is not
// {"status": ...} gets 500; the hook's expires is bounded like a requested
// one; a NAT binding lives in live state for the 30 s granted (jambonz
// keeps it for the requested expiry); a locked-out source gets no answer.
//
// It is not the SIP server (package sip calls HandleRegister), not routing
// (sip/route decides where an authenticated client's call goes; Authenticate
// here only says who the client is), and not an HTTP client: it never
// builds one. The registration hook goes through the HookSender interface,
// which cmd implements with apps/webhook's guarded client and signature
// (the house import rule keeps sip away from apps). It starts no goroutines.
package registrar
