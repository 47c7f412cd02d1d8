// Package js is the JavaScript transport of applications: an apps.App that
// answers a call's hooks by running a JS app's handlers in the sandbox,
// exactly as a webhook would answer them over HTTP.
//
// A request's kind and hook pick the handler: "call" for the call hook
// (session:new), "status" for call status, and the actionHook's path
// ("/menu") for a verb hook or a redirect. The handler gets the webhook's
// payload as req; ctx.state is loaded from live state before the handler and
// stored after it, keyed by the call, so that a call can move between
// processes and nodes; nothing else survives between invocations. A failure
// is an *apps.HookError, so the runtime raises the application alert and
// falls back as it does for a webhook.
//
// It does not store apps, versions or logs (store and api do) and does not
// run JavaScript itself (sandbox does).
package js
