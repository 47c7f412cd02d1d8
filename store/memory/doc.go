// Package memory is voxrun's in-process live state: the embedded default that
// lets `voxrun serve` run on a laptop with no Redis.
//
// It implements [store.Live] with the same semantics as store/redis, proved by
// the same conformance suite (store/storetest.RunLive). It mirrors the Redis
// key layout of seed 000 (call:{accountSid}:{callSid}, active-call-sids,
// user:{name}@{domain}, queue:..., conf:..., tts:..., kv:...) in one map, so
// that TTLs and key names mean the same thing in both.
//
// Keys expire by the wall clock on their own: lazily when read, and by a
// janitor goroutine that the store owns and Close joins. The clock is
// injectable ([WithClock]) so that tests can move time instead of sleeping.
// Publish/subscribe is in-process.
//
// It is not shared between processes or nodes, and nothing survives a
// restart: a cluster of voxrun nodes uses store/redis.
package memory
