package verbs

import (
	"errors"
	"fmt"
	"runtime/debug"
)

// ErrPanic marks an error that was a panic in a verb or in a task it
// started; the runtime ends the call with an alert, and every other call
// goes on.
var ErrPanic = errors.New("verbs: internal error")

// Safely runs f and turns a panic in it into an error wrapping ErrPanic,
// with the stack. A verb that runs part of its work in its own goroutine
// (gather's prompt) runs it through Safely, because a panic there would
// otherwise end the whole process.
func Safely(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v\n%s", ErrPanic, r, debug.Stack())
		}
	}()
	return f()
}
