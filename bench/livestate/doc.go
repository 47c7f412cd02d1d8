// Package livestate holds the live-state benchmarks: call-hash writes
// (PutCall with the ~15 fields a call carries) on store/memory and on
// store/redis, side by side in one run, serially and from many goroutines at
// once (b.RunParallel), each reported in ops/s.
//
//	go test -run x -bench . -benchtime 3s ./bench/livestate/
//
// The Redis half needs VOXRUN_TEST_REDIS (make bench exports it) and uses
// logical database 10 of that server, which it empties before and after. It
// is a benchmark only: nothing imports this package.
package livestate
