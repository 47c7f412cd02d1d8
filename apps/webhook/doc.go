// Package webhook is the HTTP transport of applications: it POSTs (or GETs) a
// call's events to the customer's server, signs them with Jambonz-Signature,
// retries as the URL fragment (#rc=N&rp=...) says, and reads the reply as a
// verb document. It also builds the guarded HTTP client that every outbound
// fetch made for a tenant goes through (webhooks, audio URLs, JS ctx.fetch):
// its dialer refuses loopback, private, link-local and metadata addresses
// unless an allow-list says otherwise, checked on the IP actually dialled.
//
// It does not interpret verbs or build payloads: that is the runtime's job.
package webhook
