package route

import (
	"errors"
	"fmt"
)

var (
	// ErrConfig wraps configuration errors of New.
	ErrConfig = errors.New("sip/route: invalid configuration")
	// ErrUnknownSource means the call comes from no inbound gateway of an
	// active carrier and carries no authenticated identity (403).
	ErrUnknownSource = errors.New("sip/route: source is not a known carrier or client")
	// ErrNumberNotFound means no phone number the carrier may reach matches
	// the called number (404).
	ErrNumberNotFound = errors.New("sip/route: called number not provisioned")
	// ErrNoApplication means the number or account has no application (480).
	ErrNoApplication = errors.New("sip/route: no configured application")
	// ErrInactive means the account or client is not active (403).
	ErrInactive = errors.New("sip/route: account or client not active")
	// ErrNotAllowed means an outbound call was asked for without a known
	// account (403): no INVITE reaches a carrier without one.
	ErrNotAllowed = errors.New("sip/route: outbound call without an authorised account")
	// ErrBadNumber means an outbound number is not a phone number (404).
	ErrBadNumber = errors.New("sip/route: not a phone number")
	// ErrNoCarrier means no carrier of the account or its service provider
	// has an outbound gateway for the number (603, as jambonz), or the
	// requested trunk is not one of them (404).
	ErrNoCarrier = errors.New("sip/route: no outbound carrier")
	// ErrNotRegistered means a user target has no live registration in the
	// account's realm (404).
	ErrNotRegistered = errors.New("sip/route: user not registered")
)

// RejectError is a routing refusal: the SIP final response to send.
type RejectError struct {
	// Status is the SIP status code (403, 404, 480, 500).
	Status int
	// Reason is the reason phrase.
	Reason string
	// Headers are extra headers for the response (X-Reason).
	Headers map[string]string
	// Err is the cause; it wraps a sentinel of this package or a store error.
	Err error
}

func (e *RejectError) Error() string {
	return fmt.Sprintf("sip/route: %d %s: %v", e.Status, e.Reason, e.Err)
}

func (e *RejectError) Unwrap() error { return e.Err }

func reject(status int, reason string, err error, headers map[string]string) *RejectError {
	return &RejectError{Status: status, Reason: reason, Err: err, Headers: headers}
}
