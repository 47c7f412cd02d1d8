//go:build !linux

package clock

// wakeup is the precise sleep, Linux only: elsewhere the clock paces with
// Go's timers.
type wakeup struct{}

func newWakeup() *wakeup                           { return nil }
func (*wakeup) signal()                            {}
func (*wakeup) close()                             {}
func (*wakeup) waiter(done <-chan struct{}) waiter { return nil }
