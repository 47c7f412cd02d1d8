package api

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no test leaves a goroutine behind: every server the
// tests start is shut down and every store they open is closed. Two
// goroutines of fasthttp's are not ours to join: the process-wide Date
// header ticker, and a stopped worker pool's cleaner, which notices the stop
// only after its 10 s sleep.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.updateServerDate.func1"),
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*workerPool).Start.func2"),
	)
}
