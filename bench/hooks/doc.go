// Package hooks measures voxrun's own overhead per application hook: the time
// a call spends per actionHook round trip (the runtime, validating and
// decoding the reply, building and signing the payload) against the same
// webhook server called directly with the same payload, side by side in one
// run. It holds only benchmarks, for `make bench`:
//
//	go test -run '^$' -bench . -benchtime 5000x ./bench/hooks/
package hooks
