// Package carrierreg registers voxrun with the carriers that require it
// (issue 4, "outbound REGISTER to carriers that require it"), as jambonz's
// SIP sidecar does: every active carrier with requires_register gets a
// REGISTER through its first active outbound gateway, for the address of
// record register_from_user (else register_username) @ register_from_domain
// (else register_sip_realm, else the gateway), answering the carrier's
// digest challenge with register_username and register_password. The
// registration is refreshed at half its granted expiry; a failure is
// retried after 30 s, doubling to 5 minutes.
//
// The outcome of each attempt is recorded: in live state under
// carrier-register:{voip_carrier_sid} (JSON, expiring with the
// registration) and, when it changes, in the carrier's register_status
// column ({"status":"ok"|"fail","reason":"200 OK"}), which the REST API
// shows. Close sends a REGISTER with Expires: 0 for every binding.
//
// Each node registers its own Contact: with several nodes a carrier holds
// one binding per node. It is not the registrar of voxrun's own devices
// (package sip/registrar) and does not route calls.
package carrierreg
