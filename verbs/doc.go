// Package verbs is the host of voxrun's verbs: the Verb interface every verb
// implements, the small role interfaces a verb asks its call for (it answers,
// it plays, it collects digits, ...), the Outcome a verb returns, and the
// Registry that decodes a jambonz verb document into runnable verbs.
//
// Each verb lives in its own package under verbs/ and is listed once in
// verbs/builtin. This package never imports a verb, and a verb never imports
// another: nested verbs (gather's say) are decoded through the Registry.
// It knows nothing of SIP or of how applications are reached; the runtime
// implements the roles and sends the action hooks.
package verbs
