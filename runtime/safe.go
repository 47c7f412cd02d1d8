package runtime

import (
	"context"
	"fmt"
)

// goSafe runs f in a goroutine of the call. A panic in it is recovered
// there, as at the session boundary: a metric, a log line with the stack,
// an alert, and the call is hung up; onPanic (when set) then lets whoever
// waits for f's result go on. Every other call carries on. Every goroutine
// the runtime starts for a call goes through it.
func (s *Session) goSafe(task string, f func(), onPanic func()) {
	go func() {
		defer func() {
			r := recover()
			if r == nil {
				return
			}
			s.recovered(context.Background(), fmt.Sprintf("%s: %v", task, r))
			if onPanic != nil {
				onPanic()
			}
			// Send may wait for the inbox; the task's goroutine is free.
			s.Send(Command{Kind: CommandHangup})
		}()
		f()
	}()
}
