// Package clock is the one pacing clock that drives every leg's outbound
// media: a few goroutines (shards, one per core by default) each tick their
// share of the registered legs every 20 ms, on a schedule computed from the
// start time (start + k·period), so sending never drifts from the wall clock
// however long a round of ticks takes. A late shard catches up with a bounded
// burst of ticks, then skips ahead.
//
// On Linux a shard sleeps until its due time in ppoll(2), which wakes within
// about 0.1 ms of it; Go's timers, rounded to whole milliseconds, wake up to
// 1 ms late, and every leg's send jitter would carry that. Config.GoTimers
// chooses Go's timers (testing/synctest needs them).
//
// It is not a timer service: tickers must not block, and nothing else runs
// on it. Its goroutines are owned by the Clock and joined by Close.
package clock
