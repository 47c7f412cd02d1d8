package js

import (
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/voxrun/voxrun/sandbox"
)

// TestMain doubles as the sandbox worker: the pool re-executes this test
// binary with the worker marker in its environment.
func TestMain(m *testing.M) {
	if sandbox.IsWorker() {
		os.Exit(sandbox.WorkerMain())
	}
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"))
}
