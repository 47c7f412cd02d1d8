package sandbox

import (
	"errors"
	"fmt"
)

var (
	// ErrClosed means the pool has been closed.
	ErrClosed = errors.New("sandbox: pool closed")
	// ErrSourceTooBig means a program's source is larger than MaxSourceBytes.
	ErrSourceTooBig = errors.New("sandbox: source too big")
)

// MaxSourceBytes is the largest program source accepted (256 KiB).
const MaxSourceBytes = 256 << 10

// ErrorKind classifies a failed invocation, for alerts and for callers that
// branch on it (a missing status handler is not an error worth an alert).
type ErrorKind string

// The kinds of invocation failure.
const (
	KindCompile    ErrorKind = "compile"    // the source does not compile
	KindException  ErrorKind = "exception"  // the script threw (or its promise was rejected)
	KindTimeout    ErrorKind = "timeout"    // the script ran past its script-time or wall deadline
	KindMemory     ErrorKind = "memory"     // the script used more memory than its worker may
	KindNoHandler  ErrorKind = "no-handler" // the module has no handler for the hook
	KindBadReturn  ErrorKind = "bad-return" // the handler returned something that is not a verb array
	KindState      ErrorKind = "state"      // ctx.state is not a JSON object of at most MaxStateBytes
	KindWorker     ErrorKind = "worker"     // the worker died or was killed during the invocation
	KindSuspended  ErrorKind = "suspended"  // the app kept crashing workers and is suspended
	KindOverloaded ErrorKind = "overloaded" // no worker became free before the deadline
	KindCancelled  ErrorKind = "cancelled"  // the caller's context ended first
	KindInvalid    ErrorKind = "invalid"    // the invocation itself is malformed (no app, source too big)
)

// Error is a failed invocation. Its Error text is written for the tenant who
// owns the app (alerts, logs in the console): it says what went wrong in
// their script, never anything about the host.
type Error struct {
	Kind ErrorKind
	// App is the invocation's App key.
	App string
	// Message describes the failure; for exceptions it is the script's error
	// with the location it was thrown from.
	Message string
	// Line and Column locate a compile error (1-based), or 0.
	Line, Column int
	Err          error
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("js app %s: %s: line %d, column %d: %s", e.App, e.Kind, e.Line, e.Column, e.Message)
	}
	return fmt.Sprintf("js app %s: %s: %s", e.App, e.Kind, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// AsError returns the *Error in err's chain, if any.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// CompileError is a syntax or early error in a program's source, with the
// 1-based line and column in the source as the developer wrote it.
type CompileError struct {
	Line, Column int
	Message      string
}

func (e *CompileError) Error() string {
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Message)
}
