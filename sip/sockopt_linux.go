package sip

import (
	"net"
	"os"
	"syscall"
)

// tuneReadBuffer asks for size bytes of receive buffer on conn. SO_RCVBUF is
// capped by net.core.rmem_max; SO_RCVBUFFORCE (root or CAP_NET_ADMIN) is not.
// It returns the usable size the kernel granted (Linux reports twice the
// usable size through SO_RCVBUF, socket(7); this is half of that) and
// whether the forced option took.
func tuneReadBuffer(conn *net.UDPConn, size int) (granted int, forced bool, err error) {
	raw, err := conn.SyscallConn()
	if err != nil {
		return 0, false, err
	}
	cerr := raw.Control(func(fd uintptr) {
		if err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, size); err != nil {
			return
		}
		if granted, err = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF); err != nil {
			return
		}
		granted /= 2
		if granted < size && os.Geteuid() == 0 {
			if syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, size) == nil {
				forced = true
				granted, err = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF)
				granted /= 2
			}
		}
	})
	if cerr != nil {
		return 0, false, cerr
	}
	return granted, forced, err
}
