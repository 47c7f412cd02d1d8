// Package runtime runs calls. The Manager owns the calls on this node; a
// Session is one call: one goroutine that asks the application for verbs,
// runs them one by one against the call's leg and media, sends the action and
// status hooks, mirrors the call to live state, checkpoints it at every verb
// boundary, and writes its CDR when it ends.
//
// The runtime reaches SIP only through the small Leg interface it owns (a
// *sip.Leg satisfies it; so does the virtual leg of simulated calls), verbs
// only through the verbs registry, and applications only through apps.App.
// It never imports sip, api, a verb package or an app transport.
package runtime
