// Package apps is the contract between a call and its application: the Hook
// where an application is reached, the Request a call sends it (a hook name
// and a payload), and the Reply that may carry a new verb document. The three
// kinds of application implement it: apps/webhook (HTTP), apps/ws (one
// websocket per call) and apps/js (JavaScript run in the sandbox).
//
// It knows nothing of calls, SIP or media: the runtime builds payloads and
// interprets replies; this package only moves them and says, with typed
// errors, how a delivery failed, so that the runtime can raise the right alert.
package apps
