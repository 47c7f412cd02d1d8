package verbs

import "errors"

var (
	// ErrUnsupported means a verb is valid jambonz but voxrun cannot run it yet.
	ErrUnsupported = errors.New("verbs: verb not supported")
	// ErrRole means the call cannot do what the verb needs (no media on this
	// leg, say); the message names the role.
	ErrRole = errors.New("verbs: the call cannot perform this verb")
	// ErrPrecondition means the verb is not allowed in the call's state
	// (sip:decline after the answer, hangup before it).
	ErrPrecondition = errors.New("verbs: not allowed in this call state")
)
