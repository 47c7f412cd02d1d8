// Package netpoll reads the UDP sockets of many RTP legs on a few
// goroutines (one per shard, GOMAXPROCS by default) instead of one
// goroutine blocked in ReadFrom per socket.
//
// On Linux each shard owns an epoll set. The set's own descriptor is handed
// to Go's network poller (a nested epoll), so an idle shard parks like any
// goroutine waiting on a socket, and a busy one takes every ready socket of
// its set in one epoll_wait and reads each with one recvfrom: no goroutine
// wake-up per packet, no second read that ends in EAGAIN, no allocation per
// packet. On other systems New returns ErrUnsupported and callers keep their
// goroutine per socket.
//
// It is not a general event loop: a watched socket is read only, writes go
// through the socket as before, and the read callback runs on the shard
// goroutine with the shard locked, so it must not block and must not call
// Watch or a stop function of the same poller.
package netpoll
