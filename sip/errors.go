package sip

import "errors"

var (
	// ErrStarted is returned by Start on a server that was already started.
	ErrStarted = errors.New("sip: server already started")
	// ErrClosed is returned by Start on a closed server.
	ErrClosed = errors.New("sip: server closed")
	// ErrConfig wraps every configuration error of New.
	ErrConfig = errors.New("sip: invalid configuration")
)
