package netpoll

import (
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// maxEvents is how many ready sockets one epoll_wait returns; more stay
// ready (level-triggered) for the next round, which then starts at once.
const maxEvents = 256

// bufSize holds any datagram a leg may get (RTP is sent below the MTU).
const bufSize = 2048

// wakeSlot marks the shard's eventfd in the epoll set.
const wakeSlot = -1

// Poller reads many sockets on a few shard goroutines. It is safe for
// concurrent use.
type Poller struct {
	batch  time.Duration
	shards []*shard
	next   atomic.Uint64
	wg     sync.WaitGroup
	once   sync.Once
}

type shard struct {
	epfd   int
	wakefd int // an eventfd: Close writes it to end the shard's wait

	mu      sync.Mutex
	closed  bool
	entries []*entry
	free    []int32
	gen     int32

	// Only the shard goroutine touches these (under mu).
	events [maxEvents]unix.EpollEvent
	buf    [bufSize]byte
	oob    [64]byte
	rsa    unix.RawSockaddrAny
	iov    unix.Iovec
	msg    unix.Msghdr
}

// entry is one watched socket.
type entry struct {
	gen  int32
	c    *Conn
	read ReadFunc
}

// New starts the shard goroutines; Close stops them.
func New(cfg Config) (*Poller, error) {
	if cfg.Shards <= 0 {
		cfg.Shards = runtime.GOMAXPROCS(0)
	}
	if cfg.Batch == 0 {
		cfg.Batch = DefaultBatch
	}
	p := &Poller{batch: max(cfg.Batch, 0)}
	for range cfg.Shards {
		s, err := newShard()
		if err != nil {
			_ = p.Close()
			return nil, err
		}
		p.shards = append(p.shards, s)
		p.wg.Go(func() { s.run(p.batch) })
	}
	return p, nil
}

func newShard() (*shard, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("media/netpoll: epoll_create1: %w", err)
	}
	wakefd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		_ = unix.Close(epfd)
		return nil, fmt.Errorf("media/netpoll: eventfd: %w", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: wakeSlot}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wakefd, &ev); err != nil {
		_ = unix.Close(epfd)
		_ = unix.Close(wakefd)
		return nil, fmt.Errorf("media/netpoll: %w", err)
	}
	s := &shard{epfd: epfd, wakefd: wakefd}
	s.iov.Base = &s.buf[0]
	s.iov.SetLen(bufSize)
	s.msg.Name = (*byte)(unsafe.Pointer(&s.rsa))
	s.msg.Iov = &s.iov
	s.msg.Iovlen = 1
	s.msg.Control = &s.oob[0]
	return s, nil
}

// Listen binds a UDP socket on addr, outside Go's network poller, that this
// poller reads once Watch is called. An address in use is reported as an
// error wrapping syscall.EADDRINUSE.
func (p *Poller) Listen(addr netip.AddrPort) (*Conn, error) {
	s := p.shards[int(p.next.Add(1)-1)%len(p.shards)]
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	family := unix.AF_INET
	var sa unix.Sockaddr
	if ip := addr.Addr().Unmap(); ip.Is4() {
		sa = &unix.SockaddrInet4{Port: int(addr.Port()), Addr: ip.As4()}
	} else {
		family = unix.AF_INET6
		sa = &unix.SockaddrInet6{Port: int(addr.Port()), Addr: ip.As16()}
	}
	fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP)
	if err != nil {
		return nil, fmt.Errorf("media/netpoll: socket: %w", err)
	}
	if family == unix.AF_INET6 {
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 1)
	}
	// Kernel arrival times: the shard reads in batches, so the time it
	// reads a packet is not when the packet came (RFC 3550 jitter needs
	// the latter).
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); err != nil {
		_ = unix.Close(fd)
		return nil, fmt.Errorf("media/netpoll: SO_TIMESTAMPNS: %w", err)
	}
	if err := unix.Bind(fd, sa); err != nil {
		_ = unix.Close(fd)
		return nil, fmt.Errorf("media/netpoll: bind %v: %w", addr, err)
	}
	local := addr
	if lsa, err := unix.Getsockname(fd); err == nil {
		switch lsa := lsa.(type) {
		case *unix.SockaddrInet4:
			local = netip.AddrPortFrom(netip.AddrFrom4(lsa.Addr), uint16(lsa.Port))
		case *unix.SockaddrInet6:
			local = netip.AddrPortFrom(netip.AddrFrom16(lsa.Addr), uint16(lsa.Port))
		}
	}
	return &Conn{fd: fd, local: local, shard: s}, nil
}

// Conn is a UDP socket read by a Poller. Writing is safe for concurrent use.
type Conn struct {
	local netip.AddrPort
	shard *shard

	// mu guards the descriptor: readers and writers hold it shared, Close
	// exclusively, so that a closed number, maybe reused, is never touched.
	mu      sync.RWMutex
	fd      int
	closed  bool
	watched *entry
}

// LocalAddr is the address the socket is bound to.
func (c *Conn) LocalAddr() netip.AddrPort { return c.local }

// WriteTo sends b to dst with one sendto, without allocating.
func (c *Conn) WriteTo(b []byte, dst netip.AddrPort) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	v4 := c.local.Addr().Unmap().Is4()
	if v4 && !dst.Addr().Unmap().Is4() {
		return 0, fmt.Errorf("media/netpoll: sendto %v from an IPv4 socket: %w", dst, unix.EAFNOSUPPORT)
	}
	var rsa unix.RawSockaddrInet6 // big enough for either family
	n := sockaddrTo(&rsa, dst, v4)
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return 0, ErrClosed
	}
	r, _, errno := unix.RawSyscall6(unix.SYS_SENDTO, uintptr(c.fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)),
		0, uintptr(unsafe.Pointer(&rsa)), n)
	if errno != 0 {
		return 0, fmt.Errorf("media/netpoll: sendto %v: %w", dst, errno)
	}
	return int(r), nil
}

// Watch calls read with every datagram that arrives, on the poller's shard
// goroutine, until stop is called or the socket is closed. Once stop has
// returned, read is not running and is not called again; stop is
// idempotent. A socket has at most one watch at a time.
func (c *Conn) Watch(read ReadFunc) (stop func(), err error) {
	s := c.shard
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		return nil, ErrClosed
	case c.watched != nil:
		return nil, ErrWatched
	}
	var slot int32
	if n := len(s.free); n > 0 {
		slot, s.free = s.free[n-1], s.free[:n-1]
	} else {
		slot = int32(len(s.entries))
		s.entries = append(s.entries, nil)
	}
	s.gen++
	e := &entry{gen: s.gen, c: c, read: read}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: slot, Pad: e.gen}
	if err := unix.EpollCtl(s.epfd, unix.EPOLL_CTL_ADD, c.fd, &ev); err != nil {
		s.free = append(s.free, slot)
		return nil, fmt.Errorf("media/netpoll: watch: %w", err)
	}
	s.entries[slot] = e
	c.watched = e
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			c.mu.Lock()
			if c.watched == e {
				c.watched = nil
				if !c.closed && !s.closed {
					_ = unix.EpollCtl(s.epfd, unix.EPOLL_CTL_DEL, c.fd, nil)
				}
			}
			c.mu.Unlock()
			s.entries[slot] = nil
			s.free = append(s.free, slot)
		})
	}, nil
}

// Close closes the socket; it is idempotent. A watch ends with it (its stop
// function is still to be called).
func (c *Conn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	c.watched = nil // closing the descriptor takes it out of the epoll set
	if err := unix.Close(c.fd); err != nil {
		return fmt.Errorf("media/netpoll: close: %w", err)
	}
	return nil
}

// Close stops the shards and waits for them; it is idempotent. Sockets are
// not closed, but they are no longer read.
func (p *Poller) Close() error {
	p.once.Do(func() {
		for _, s := range p.shards {
			var one = [8]byte{1}
			_, _ = unix.Write(s.wakefd, one[:]) // native endian 1, little or big: nonzero either way
		}
		p.wg.Wait()
		for _, s := range p.shards {
			s.mu.Lock()
			s.closed = true
			_ = unix.Close(s.epfd)
			_ = unix.Close(s.wakefd)
			s.mu.Unlock()
		}
	})
	return nil
}

// run waits for ready sockets, reads one datagram from each, then lets
// more arrive for batch before it looks again: at thousands of packets a
// second, one wake-up serves many packets instead of one each.
func (s *shard) run(batch time.Duration) {
	for {
		n, err := unix.EpollWait(s.epfd, s.events[:], -1)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return
		}
		if s.process(n) {
			return
		}
		if batch > 0 && n < maxEvents {
			time.Sleep(batch)
		}
	}
}

// process reads the n ready sockets; it reports whether Close woke it.
func (s *shard) process(n int) (closing bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range n {
		ev := &s.events[i]
		if ev.Fd == wakeSlot {
			closing = true
			continue
		}
		if int(ev.Fd) >= len(s.entries) {
			continue
		}
		e := s.entries[ev.Fd]
		if e == nil || e.gen != ev.Pad {
			continue // stopped after this epoll_wait
		}
		if n, from, at, ok := s.recv(e.c); ok {
			e.read(s.buf[:n], from, at)
		}
	}
	return closing
}

// recv reads one datagram from c without blocking and without allocating.
func (s *shard) recv(c *Conn) (int, netip.AddrPort, time.Time, bool) {
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return 0, netip.AddrPort{}, time.Time{}, false
	}
	s.msg.Namelen = unix.SizeofSockaddrAny
	s.msg.SetControllen(len(s.oob))
	s.msg.Flags = 0
	n, _, errno := unix.RawSyscall(unix.SYS_RECVMSG, uintptr(c.fd), uintptr(unsafe.Pointer(&s.msg)), unix.MSG_DONTWAIT)
	c.mu.RUnlock()
	if errno != 0 {
		return 0, netip.AddrPort{}, time.Time{}, false // EAGAIN, or an ICMP error now cleared
	}
	return int(n), sockaddr(&s.rsa), s.arrival(), true
}

// arrival is the kernel's receive time from the SCM_TIMESTAMPNS control
// message, or now when there is none.
func (s *shard) arrival() time.Time {
	if int(s.msg.Controllen) >= unix.CmsgSpace(int(unsafe.Sizeof(unix.Timespec{}))) {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&s.oob[0]))
		if h.Level == unix.SOL_SOCKET && h.Type == unix.SCM_TIMESTAMPNS {
			ts := (*unix.Timespec)(unsafe.Pointer(&s.oob[unix.CmsgLen(0)]))
			return time.Unix(ts.Unix())
		}
	}
	return time.Now()
}

// sockaddr converts a raw socket address (ports in network byte order).
func sockaddr(rsa *unix.RawSockaddrAny) netip.AddrPort {
	switch rsa.Addr.Family {
	case unix.AF_INET:
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(rsa))
		p := (*[2]byte)(unsafe.Pointer(&sa.Port))
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(p[0])<<8|uint16(p[1]))
	case unix.AF_INET6:
		sa := (*unix.RawSockaddrInet6)(unsafe.Pointer(rsa))
		p := (*[2]byte)(unsafe.Pointer(&sa.Port))
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr).Unmap(), uint16(p[0])<<8|uint16(p[1]))
	}
	return netip.AddrPort{}
}

// sockaddrTo writes dst as a raw socket address of the socket's family and
// returns its length.
func sockaddrTo(rsa *unix.RawSockaddrInet6, dst netip.AddrPort, v4 bool) uintptr {
	port := dst.Port()
	if v4 {
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(rsa))
		sa.Family = unix.AF_INET
		p := (*[2]byte)(unsafe.Pointer(&sa.Port))
		p[0], p[1] = byte(port>>8), byte(port)
		sa.Addr = dst.Addr().Unmap().As4()
		return unix.SizeofSockaddrInet4
	}
	rsa.Family = unix.AF_INET6
	p := (*[2]byte)(unsafe.Pointer(&rsa.Port))
	p[0], p[1] = byte(port>>8), byte(port)
	rsa.Addr = dst.Addr().As16()
	return unix.SizeofSockaddrInet6
}
