// Package sandbox runs untrusted JavaScript (JS apps) in worker processes.
//
// The parent process owns a Pool of workers: the voxrun binary re-executed in
// a hidden worker mode (IsWorker, WorkerMain), each with an OS memory limit
// (RLIMIT_AS), a CPU limit (RLIMIT_CPU over its lifetime, GOMAXPROCS=1) and a
// framed binary protocol over its stdin and stdout. An Invocation names a
// program (compiled once per app version and cached in the worker), a handler
// and its JSON request; the worker runs it in a fresh goja Runtime that is
// never reused, under a script-time deadline enforced with Interrupt, a
// maximum call-stack size and guards on the builtins that amplify allocation.
// The parent kills a worker that overruns twice its deadline or dies, replaces
// it, and suspends an app that keeps crashing workers.
//
// Scripts reach the outside world only through host functions that the parent
// executes for them over the same pipe: ctx.kv (a per-account key/value store
// whose account comes from the Go side) and ctx.fetch (through the guarded
// *http.Client the caller injects, with quotas). ctx.log, ctx.env and
// ctx.state stay inside the invocation and come back with its Result.
//
// It knows nothing of calls, hooks or verbs beyond returning the handler's
// JSON: apps/js maps hooks to handlers and persists state.
package sandbox
