package runtime

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/voxrun/voxrun/media"
	"github.com/voxrun/voxrun/verbs"
)

// Outbound places outbound call legs. cmd implements it with the SIP
// agent and outbound routing; tests with virtual legs.
type Outbound interface {
	// Place calls req.Target and returns its leg once it answers. Until
	// then it reports provisional responses to req.OnProvisional. When ctx
	// ends first the attempt is cancelled (CANCEL). A call that ends
	// without an answer returns a *PlaceError with its SIP status.
	Place(ctx context.Context, req PlaceRequest) (Leg, error)
}

// PlaceRequest is one outbound attempt.
type PlaceRequest struct {
	AccountSID         string
	ServiceProviderSID string
	// CallSID is the new leg's call_sid, CallID the SIP Call-ID its INVITE
	// carries (chosen before it is sent, so that the REST API can answer
	// with it at once).
	CallSID string
	CallID  string
	Target  verbs.DialTarget
	// From is the calling number or user, CallerName its display name.
	From       string
	CallerName string
	Headers    map[string]string
	// Proxy, when set, is where the INVITE is sent (host:port or a SIP URI).
	Proxy string
	// Timeout bounds the ringing; zero leaves it to ctx.
	Timeout time.Duration
	// OnProvisional is told each provisional status (180, 183) except 100.
	// It must not block.
	OnProvisional func(status int)
	// OnEarlyMedia, when set, is given the far end's early media (a 180
	// or 183 with SDP) the first time it comes. It must not block.
	OnEarlyMedia func(ep media.Endpoint)
}

// PlaceError is an outbound attempt that ended without an answer.
type PlaceError struct {
	Status int
	Reason string
	Err    error
}

func (e *PlaceError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("outbound call failed: %d %s: %v", e.Status, e.Reason, e.Err)
	}
	return fmt.Sprintf("outbound call failed: %d %s", e.Status, e.Reason)
}

func (e *PlaceError) Unwrap() error { return e.Err }

// ErrNoOutbound means this node cannot place outbound calls.
var ErrNoOutbound = errors.New("runtime: outbound calling is not configured")

// failureStatus maps the SIP status of a failed attempt to its final
// call_status, as jambonz reports it.
func failureStatus(sipStatus int) string {
	switch sipStatus {
	case 486, 600, 603: // jambonz reports a 603 Decline as busy too
		return StatusBusy
	case 408, 480, 487:
		return StatusNoAnswer
	}
	return StatusFailed
}

// placeStatus is the SIP status of a failed Place: a PlaceError's, else
// 487 when the attempt was cancelled and 500 for anything else.
func placeStatus(err error) (int, string) {
	var pe *PlaceError
	switch {
	case errors.As(err, &pe):
		return pe.Status, pe.Reason
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return 487, "Request Terminated"
	}
	return 500, "Server Internal Error"
}

// provisionalStatus is the call_status of an outbound leg's provisional
// response: early-media for a 183, ringing for the others.
func provisionalStatus(sipStatus int) string {
	if sipStatus == 183 {
		return StatusEarlyMedia
	}
	return StatusRinging
}
