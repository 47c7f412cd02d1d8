// Package route decides where an inbound call goes (issue 4, "Routing an
// inbound call"): a call from a carrier is recognised by its source address
// (an inbound SIP gateway of an active carrier: IPv4 address with netmask,
// and port when the gateway names one), its called number is normalised
// (the carrier's tech prefix and a leading + removed) and looked up among
// the phone numbers that carrier may reach, and the number's application
// (or the carrier's default application) takes the call. A call from a
// digest-authenticated client of an account goes to the account's
// device-calling application. Anything else is refused with 403; a number
// without an application gets 480 with X-Reason "no configured application".
//
// Router reads provisioning through store.Provisioning in the admin scope
// and caches the inbound gateways briefly. Route returns a Result (account,
// application, carrier) that cmd turns into a runtime call, or a
// *RejectError carrying the SIP status, reason and headers to answer with.
//
// It is not authentication: digest challenges and the registrar belong to
// package sip, which hands the authenticated identity in Call.Identity. It
// does not route outbound calls (LCR), calls between registered users, or
// calls by SIP realm without authentication.
package route
