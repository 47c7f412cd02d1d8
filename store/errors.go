package store

import "errors"

var (
	// ErrNotFound means the record does not exist or is outside the caller's scope;
	// callers answer both the same way (a 404), so that nothing leaks across tenants.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict means a unique value (a name, a number, a sip realm) is taken.
	ErrConflict = errors.New("store: already exists")
	// ErrInUse means the record is referenced by another and cannot be deleted.
	ErrInUse = errors.New("store: in use")
	// ErrForbidden means the scope may not perform the operation at all
	// (an account key creating a service provider, say).
	ErrForbidden = errors.New("store: not permitted in this scope")
	// ErrInvalid means a field or a value is not acceptable; the wrapping error names it.
	ErrInvalid = errors.New("store: invalid")
	// ErrUnavailable means the backing server cannot be reached.
	ErrUnavailable = errors.New("store: unavailable")
)
