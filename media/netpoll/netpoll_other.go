//go:build !linux

package netpoll

import "net/netip"

// Poller is not available on this system: New returns ErrUnsupported, and
// callers read their sockets through package net.
type Poller struct{}

// New returns ErrUnsupported.
func New(Config) (*Poller, error) { return nil, ErrUnsupported }

// Listen returns ErrUnsupported.
func (*Poller) Listen(netip.AddrPort) (*Conn, error) { return nil, ErrUnsupported }

// Close does nothing.
func (*Poller) Close() error { return nil }

// Conn is not available on this system.
type Conn struct{}

// LocalAddr returns the zero address.
func (*Conn) LocalAddr() netip.AddrPort { return netip.AddrPort{} }

// WriteTo returns ErrUnsupported.
func (*Conn) WriteTo([]byte, netip.AddrPort) (int, error) { return 0, ErrUnsupported }

// Watch returns ErrUnsupported.
func (*Conn) Watch(ReadFunc) (func(), error) { return nil, ErrUnsupported }

// Close does nothing.
func (*Conn) Close() error { return nil }
