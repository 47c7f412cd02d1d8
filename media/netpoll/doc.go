// Package netpoll gives RTP legs UDP sockets that a few goroutines read (one
// shard per core by default) instead of one goroutine blocked in ReadFrom
// per socket.
//
// A Poller's sockets (Listen) are made with socket(2) and bind(2), outside
// Go's network poller, so that a packet wakes nothing by itself. Each shard
// owns an epoll set: it waits in epoll_wait for ready sockets, reads one
// datagram from each with recvmsg(2) (no allocation), hands it to the
// socket's ReadFunc with the kernel's arrival time (SO_TIMESTAMPNS), then
// sleeps for Config.Batch (1 ms) before it looks again. At thousands of
// packets a second one wake-up then serves many packets, and RFC 3550 jitter
// is still computed from when packets arrived, not from when they were read.
// Writes (Conn.WriteTo) are one sendto(2) on the caller's goroutine.
//
// Compared with a goroutine per socket on the same machine, in the same run
// (bench/media, docs/benchmarks.md): 20–30 % less CPU per packet, about 2 KB
// less heap per leg, and up to 1 ms more latency on the receive side.
//
// It is not a general event loop: sockets are UDP, read only through their
// Watch, and the ReadFunc runs on the shard goroutine with the shard locked,
// so it must not block and must not call Watch, a stop function or Close of
// the same poller. It runs on Linux; elsewhere New returns ErrUnsupported and
// callers keep package net's sockets.
package netpoll
