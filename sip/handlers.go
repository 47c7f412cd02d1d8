package sip

import (
	"context"
	"errors"
	"sort"
	"strconv"
	"strings"

	sipgosip "github.com/emiago/sipgo/sip"

	"github.com/voxrun/voxrun/sip/admission"
)

// knownMethods are the methods SIP defines (RFC 3261 and its extensions):
// without a handler they get 405, any other method 501 (RFC 3261 §8.2.1).
var knownMethods = map[string]bool{
	"INVITE": true, "ACK": true, "CANCEL": true, "BYE": true, "REGISTER": true,
	"OPTIONS": true, "SUBSCRIBE": true, "NOTIFY": true, "REFER": true, "INFO": true,
	"MESSAGE": true, "PRACK": true, "UPDATE": true, "PUBLISH": true,
}

// route plugs the handlers into sipgo. ctx is the handlers' context.
func (s *Server) route(ctx context.Context) {
	allow := s.allowHeader()
	for method, h := range s.handlers {
		h := h
		if method == "INVITE" {
			h = s.admitInvite(h)
		}
		s.srv.OnRequest(sipgosip.RequestMethod(method), s.wrap(ctx, h))
	}
	if _, ok := s.handlers["OPTIONS"]; !ok {
		// RFC 3261 §11.2
		s.srv.OnOptions(s.wrap(ctx, func(_ context.Context, req *Request, tx ServerTransaction) {
			res := sipgosip.NewResponseFromRequest(req, 200, "OK", nil)
			res.AppendHeader(sipgosip.NewHeader("Allow", allow))
			res.AppendHeader(sipgosip.NewHeader("Accept", "application/sdp"))
			s.respond(tx, res)
		}))
	}
	if _, ok := s.handlers["ACK"]; !ok {
		// An ACK for a 2xx reaches the dialog's owner; without one it is
		// absorbed (RFC 3261 §17.2.1: never answered).
		s.srv.OnAck(func(*Request, sipgosip.ServerTransaction) {})
	}
	if _, ok := s.handlers["CANCEL"]; !ok {
		// sipgo matches a CANCEL to its INVITE transaction itself; one that
		// reaches here matched nothing (RFC 3261 §9.2).
		s.srv.OnCancel(s.wrap(ctx, func(_ context.Context, req *Request, tx ServerTransaction) {
			s.respond(tx, sipgosip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		}))
	}
	s.srv.OnNoRoute(s.wrap(ctx, func(_ context.Context, req *Request, tx ServerTransaction) {
		status, reason := 501, "Not Implemented"
		if knownMethods[string(req.Method)] {
			status, reason = 405, "Method Not Allowed"
		}
		res := sipgosip.NewResponseFromRequest(req, status, reason, nil)
		res.AppendHeader(sipgosip.NewHeader("Allow", allow))
		s.respond(tx, res)
	}))
}

// allowHeader lists the methods answered by a handler (RFC 3261 §20.5).
func (s *Server) allowHeader() string {
	set := map[string]bool{"OPTIONS": true, "ACK": true, "CANCEL": true}
	for m := range s.handlers {
		set[m] = true
	}
	list := make([]string, 0, len(set))
	for m := range set {
		list = append(list, m)
	}
	sort.Strings(list)
	return strings.Join(list, ", ")
}

// wrap turns a Handler into a sipgo handler that Close waits for.
func (s *Server) wrap(ctx context.Context, h Handler) func(*Request, sipgosip.ServerTransaction) {
	return func(req *Request, tx sipgosip.ServerTransaction) {
		if !s.enter() {
			return
		}
		defer s.inflight.Done()
		h(ctx, req, tx)
	}
}

// admitInvite holds a slot of the call budget for an initial INVITE while h
// runs, and answers 503 with Retry-After when there is none.
func (s *Server) admitInvite(h Handler) Handler {
	return func(ctx context.Context, req *Request, tx ServerTransaction) {
		if to := req.To(); to != nil {
			if _, inDialog := to.Params.Get("tag"); inDialog {
				h(ctx, req, tx) // a re-INVITE belongs to a call already admitted
				return
			}
		}
		release, err := s.budget.Acquire()
		if err != nil {
			s.stats.overloaded.Add(1)
			var oe *admission.OverloadError
			if !errors.As(err, &oe) {
				oe = &admission.OverloadError{Status: 503}
			}
			res := sipgosip.NewResponseFromRequest(req, oe.Status, "Service Unavailable", nil)
			secs := int(oe.RetryAfter.Seconds())
			if secs < 1 {
				secs = 1
			}
			// RFC 3261 §21.5.4, §20.33
			res.AppendHeader(sipgosip.NewHeader("Retry-After", strconv.Itoa(secs)))
			s.respond(tx, res)
			s.log.Debug("sip: call refused over budget", "reason", oe.Reason, "call_id", callID(req))
			return
		}
		defer release()
		h(ctx, req, tx)
	}
}

func (s *Server) respond(tx ServerTransaction, res *Response) {
	res.AppendHeader(sipgosip.NewHeader("Server", s.cfg.UserAgent))
	if err := tx.Respond(res); err != nil {
		s.log.Debug("sip: respond failed", "status", res.StatusCode, "error", err)
	}
}

func callID(req *Request) string {
	if h := req.CallID(); h != nil {
		return h.Value()
	}
	return ""
}

// NewResponse builds a response to req (RFC 3261 §8.2.6), for handlers.
func NewResponse(req *Request, status int, reason string) *Response {
	return sipgosip.NewResponseFromRequest(req, status, reason, nil)
}
