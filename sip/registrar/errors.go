package registrar

import "errors"

var (
	// ErrConfig wraps configuration errors of New.
	ErrConfig = errors.New("sip/registrar: invalid configuration")
	// ErrHookReply means the registration hook answered something that is
	// not a registration reply ({"status": "ok"|"fail", ...}).
	ErrHookReply = errors.New("sip/registrar: malformed registration hook reply")
)
