package main

import "github.com/voxrun/voxrun/sandbox"

// runSandboxWorker runs this process as a JS sandbox worker when a sandbox
// pool started it as one (a hidden mode: the pool re-executes this binary
// with a marker in a minimal environment, and talks to it over its stdin and
// stdout). It reports false for every ordinary start.
func runSandboxWorker() (int, bool) {
	if !sandbox.IsWorker() {
		return 0, false
	}
	return sandbox.WorkerMain(), true
}
