package route

import (
	"context"
	"errors"

	"github.com/voxrun/voxrun/sip/leg"
)

// Dialer places one outbound call: *leg.Agent.
type Dialer interface {
	Dial(ctx context.Context, req leg.DialRequest) (*leg.Leg, error)
}

var _ Dialer = (*leg.Agent)(nil)

// DialFailover calls the targets in order, each with base (From, Timeout,
// headers, OnProvisional) filled in by OutboundTarget.DialRequest, and
// returns the leg of the first that answers with the index of its target.
//
// It moves on to the next target when an attempt fails in a way another
// gateway may not: a 5xx, no response at all (408 from the transaction
// layer), a digest challenge the carrier's credentials did not pass
// (401/407), a 403 from the gateway, or a target the agent cannot dial
// (an unsupported transport). It stops, returning that error, when ctx ends, when the callee was
// reached (a 183 came: early media, as jambonz), on ring timeout
// (ErrNoAnswer) and on any other final status (486 busy, 404, 603, ...).
// With no target left it returns the last error.
func DialFailover(ctx context.Context, d Dialer, targets []OutboundTarget, base leg.DialRequest) (*leg.Leg, int, error) {
	if len(targets) == 0 {
		return nil, -1, reject(603, "Decline", ErrNoCarrier, nil)
	}
	var last error
	for i, t := range targets {
		req := t.DialRequest(base)
		early := false
		req.OnProvisional = func(status int) {
			if status == 183 {
				early = true
			}
			if base.OnProvisional != nil {
				base.OnProvisional(status)
			}
		}
		l, err := d.Dial(ctx, req)
		if err == nil {
			return l, i, nil
		}
		last = err
		if ctx.Err() != nil || early || !failover(err) {
			return nil, i, err
		}
	}
	return nil, len(targets) - 1, last
}

// failover says whether a failed attempt lets the next gateway be tried.
func failover(err error) bool {
	var se *leg.StatusError
	if !errors.As(err, &se) {
		return !errors.Is(err, leg.ErrClosed) // the target could not be dialled
	}
	switch {
	case errors.Is(err, leg.ErrNoAnswer):
		return false
	case se.Status >= 500 && se.Status < 600:
		return true
	case se.Status == 408, se.Status == 401, se.Status == 407, se.Status == 403:
		return true
	}
	return false
}
