//go:build !linux

package sip

import "net"

// tuneReadBuffer asks for size bytes of receive buffer on conn; this system
// does not report what it granted, so granted is -1.
func tuneReadBuffer(conn *net.UDPConn, size int) (granted int, forced bool, err error) {
	return -1, false, conn.SetReadBuffer(size)
}
