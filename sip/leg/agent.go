package leg

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	sipgosip "github.com/emiago/sipgo/sip"

	"github.com/voxrun/voxrun/sip"
)

// Agent owns the legs of one SIP server: it builds them from INVITEs and
// routes in-dialog requests to them. It is safe for concurrent use.
type Agent struct {
	cfg Config
	log *slog.Logger

	mu      sync.Mutex
	closed  bool
	dialogs map[dialogKey]*Leg
}

// dialogKey identifies a dialog as its local side sees it (RFC 3261 §12).
type dialogKey struct {
	callID, localTag, remoteTag string
}

// NewAgent builds an agent from cfg.
func NewAgent(cfg Config) (*Agent, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Agent{cfg: cfg, log: cfg.Logger.With("component", "sip/leg"), dialogs: make(map[dialogKey]*Leg)}, nil
}

// Len is the number of legs alive.
func (a *Agent) Len() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.dialogs)
}

// DialogMethods are the methods whose handler is ServeDialog: plug it into
// the SIP server for each (INVITE goes through InviteHandler instead).
var DialogMethods = []string{"ACK", "BYE", "INFO", "OPTIONS", "UPDATE", "NOTIFY", "MESSAGE", "REFER"}

// InviteHandler returns the server's INVITE handler: a re-INVITE (a To tag)
// goes to its leg; an initial INVITE gets 100 Trying at once (RFC 3261
// §17.2.1) and then next, which routes it and either answers it with an
// error or builds its leg with Accept and waits for the leg with Wait.
func (a *Agent) InviteHandler(next sip.Handler) sip.Handler {
	return func(ctx context.Context, req *sip.Request, tx sip.ServerTransaction) {
		if hasToTag(req) {
			a.ServeDialog(ctx, req, tx)
			return
		}
		if err := Trying(req, tx); err != nil {
			a.log.Debug("sip/leg: 100 trying", "error", err)
		}
		next(ctx, req, tx)
	}
}

// Trying sends 100 Trying for an INVITE (RFC 3261 §8.2.6.1: no To tag).
func Trying(req *sip.Request, tx sip.ServerTransaction) error {
	return tx.Respond(sipgosip.NewResponseFromRequest(req, 100, "Trying", nil))
}

// Respond answers req with a final status, a reason phrase and extra
// headers (sorted by name), for handlers that refuse a call before it has
// a leg: 403 for an unknown source, 480 with X-Reason, 503.
func Respond(req *sip.Request, tx sip.ServerTransaction, status int, reason string, headers map[string]string) error {
	res := sipgosip.NewResponseFromRequest(req, status, reason, nil)
	if status > 100 && req.IsInvite() {
		if to := res.To(); to != nil && !to.Params.Has("tag") {
			// RFC 3261 §8.2.6.2: a response that is not 100 carries a To tag.
			to.Params.Add("tag", sipgosip.GenerateTagN(16))
		}
	}
	if err := addHeaders(res, headers); err != nil {
		return err
	}
	return tx.Respond(res)
}

// ServeDialog is the handler of in-dialog requests (DialogMethods and
// re-INVITEs through InviteHandler). A request that matches no dialog gets
// 481 (RFC 3261 §12.2.2); ACKs are never answered; an OPTIONS outside a
// dialog gets 200 (RFC 3261 §11.2).
func (a *Agent) ServeDialog(ctx context.Context, req *sip.Request, tx sip.ServerTransaction) {
	l := a.lookup(req)
	if req.IsAck() {
		if l != nil {
			l.onACK(req)
		}
		return
	}
	if l == nil {
		if req.Method == sipgosip.OPTIONS && !hasToTag(req) {
			res := sipgosip.NewResponseFromRequest(req, 200, "OK", nil)
			res.AppendHeader(sipgosip.NewHeader("Allow", allowed))
			res.AppendHeader(sipgosip.NewHeader("Accept", "application/sdp"))
			res.AppendHeader(sipgosip.NewHeader("Server", a.cfg.UserAgent))
			_ = tx.Respond(res)
			return
		}
		_ = tx.Respond(sipgosip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		return
	}
	l.serve(ctx, req, tx)
}

// Close ends every leg still alive (as Leg.Close does) and refuses new ones.
func (a *Agent) Close() error {
	a.mu.Lock()
	a.closed = true
	legs := make([]*Leg, 0, len(a.dialogs))
	for _, l := range a.dialogs {
		legs = append(legs, l)
	}
	a.mu.Unlock()
	var errs []error
	for _, l := range legs {
		errs = append(errs, l.Close())
	}
	return errors.Join(errs...)
}

func (a *Agent) register(l *Leg) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return ErrClosed
	}
	a.dialogs[l.key] = l
	return nil
}

func (a *Agent) unregister(l *Leg) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.dialogs[l.key] == l {
		delete(a.dialogs, l.key)
	}
}

// lookup finds the leg of an in-dialog request: its To tag is ours, its
// From tag the peer's (RFC 3261 §12.2.2).
func (a *Agent) lookup(req *sip.Request) *Leg {
	callID, to, from := req.CallID(), req.To(), req.From()
	if callID == nil || to == nil || from == nil {
		return nil
	}
	local, _ := to.Params.Get("tag")
	remote, _ := from.Params.Get("tag")
	if local == "" {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.dialogs[dialogKey{callID: callID.Value(), localTag: local, remoteTag: remote}]
}

func hasToTag(req *sip.Request) bool {
	to := req.To()
	if to == nil {
		return false
	}
	tag, ok := to.Params.Get("tag")
	return ok && tag != ""
}
