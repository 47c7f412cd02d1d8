package leg

import (
	"context"
	"fmt"

	sipgosip "github.com/emiago/sipgo/sip"
)

// Requester sends a request in a new client transaction (RFC 3261 §17.1)
// over the SIP server's transports and returns the transaction, whose
// Responses the leg reads.
type Requester interface {
	Request(ctx context.Context, req *sipgosip.Request) (sipgosip.ClientTransaction, error)
}

// TransactionLayer adapts sipgo's transaction layer (UserAgent's
// TransactionLayer()) to a Requester.
func TransactionLayer(txl *sipgosip.TransactionLayer) Requester {
	return txLayer{txl}
}

type txLayer struct{ txl *sipgosip.TransactionLayer }

func (t txLayer) Request(ctx context.Context, req *sipgosip.Request) (sipgosip.ClientTransaction, error) {
	tx, err := t.txl.Request(ctx, req)
	if err != nil {
		return nil, err
	}
	return tx, nil
}

// connection is what a sipgo server transaction exposes of the connection
// its request came in on (*sipgosip.ServerTx has it).
type connection interface {
	Connection() sipgosip.Connection
}

// send sends req and waits for its final response. Without a Requester it
// writes req once over the INVITE's connection and returns a nil response.
func (l *Leg) send(ctx context.Context, req *sipgosip.Request) (*sipgosip.Response, error) {
	if l.agent.cfg.Requester == nil {
		if l.conn == nil {
			return nil, fmt.Errorf("sip/leg: %s: no requester and no connection", req.Method)
		}
		if err := l.conn.WriteMsg(req); err != nil {
			return nil, fmt.Errorf("sip/leg: %s: %w", req.Method, err)
		}
		return nil, nil
	}
	tx, err := l.agent.cfg.Requester.Request(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("sip/leg: %s: %w", req.Method, err)
	}
	defer tx.Terminate()
	for {
		select {
		case res, ok := <-tx.Responses():
			if !ok {
				return nil, fmt.Errorf("sip/leg: %s: transaction ended without a final response", req.Method)
			}
			if res.IsProvisional() {
				continue
			}
			if !res.IsSuccess() {
				return res, &StatusError{Status: int(res.StatusCode), Reason: res.Reason}
			}
			return res, nil
		case <-tx.Done():
			err := tx.Err()
			if err == nil {
				err = fmt.Errorf("transaction ended")
			}
			return nil, fmt.Errorf("sip/leg: %s: %w", req.Method, err)
		case <-ctx.Done():
			return nil, fmt.Errorf("sip/leg: %s: %w", req.Method, context.Cause(ctx))
		}
	}
}
