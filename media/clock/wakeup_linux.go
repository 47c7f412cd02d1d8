package clock

import (
	"errors"
	"time"

	"golang.org/x/sys/unix"
)

// wakeup is the precise sleep: each shard waits in ppoll(2) with the time
// left until its due time (nanosecond resolution, where Go's timers round
// to milliseconds), on an eventfd that Close makes readable.
type wakeup struct{ fd int }

// newWakeup returns nil when the eventfd cannot be made: Go's timers then.
func newWakeup() *wakeup {
	fd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return nil
	}
	return &wakeup{fd: fd}
}

// signal wakes every shard for good.
func (w *wakeup) signal() {
	if w == nil {
		return
	}
	one := [8]byte{1} // any nonzero count, whatever the byte order
	_, _ = unix.Write(w.fd, one[:])
}

func (w *wakeup) close() {
	if w != nil {
		_ = unix.Close(w.fd)
	}
}

func (w *wakeup) waiter(done <-chan struct{}) waiter {
	return &ppollWaiter{fds: [1]unix.PollFd{{Fd: int32(w.fd), Events: unix.POLLIN}}, done: done}
}

type ppollWaiter struct {
	fds  [1]unix.PollFd
	done <-chan struct{}
}

func (p *ppollWaiter) until(due time.Time) bool {
	for {
		select {
		case <-p.done:
			return false
		default:
		}
		d := time.Until(due)
		if d <= 0 {
			return true
		}
		ts := unix.NsecToTimespec(int64(d))
		n, err := unix.Ppoll(p.fds[:], &ts, nil)
		switch {
		case n > 0:
			return false // the eventfd: Close
		case err != nil && !errors.Is(err, unix.EINTR):
			time.Sleep(d) // not expected; keep pacing all the same
		}
	}
}

func (p *ppollWaiter) stop() {}
