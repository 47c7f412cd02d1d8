// Package limits enforces an account's call limits on this node (issue 4,
// "Per-account limits"): calls in progress (the account limit category
// voice_call_session) and new calls per minute (calls_per_minute), read
// from /Accounts/{sid}/Limits (store.AccountLimit) and cached briefly. A
// call beyond them is refused with 503 and Retry-After, and the account
// gets an alert (account-call-limit, as jambonz), at most one a minute per
// kind. A quantity of 0, or no limit row, means unlimited (jambonz).
//
// Counts are kept per node: with N nodes behind a dispatcher an account
// may reach N times its limit. The service provider's limit
// (service_provider_limits in jambonz) is not enforced: the store has no
// such table yet.
//
// It is not admission control of the SIP server (package sip/admission:
// per source and global budgets, before any account is known).
package limits
