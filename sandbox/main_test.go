package sandbox

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

// TestMain doubles as the worker: the pool re-executes this test binary with
// the worker marker in its environment.
func TestMain(m *testing.M) {
	if IsWorker() {
		os.Exit(WorkerMain())
	}
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"))
}
