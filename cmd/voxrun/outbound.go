package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/voxrun/voxrun/api"
	"github.com/voxrun/voxrun/runtime"
	"github.com/voxrun/voxrun/sip/leg"
	"github.com/voxrun/voxrun/sip/route"
	"github.com/voxrun/voxrun/store"
)

// outbound places the runtime's outbound legs (dial, REST-created calls)
// through the SIP agent: phone numbers through the account's carriers
// (sip/route: trunk, LCR, carriers, with failover between gateways), SIP
// URIs directly, and a user of the account's realm at its registered
// contact. startSIP fills it in; until then it refuses every call.
type outbound struct {
	agent  *leg.Agent
	router *route.Router
	// limits counts outbound legs against their account's limits, as
	// inbound calls are counted (nil: no limits).
	limits route.Limiter
}

var _ runtime.Outbound = (*outbound)(nil)

// Place implements runtime.Outbound.
func (o *outbound) Place(ctx context.Context, req runtime.PlaceRequest) (runtime.Leg, error) {
	if o.agent == nil {
		return nil, &runtime.PlaceError{Status: 503, Reason: "Service Unavailable", Err: runtime.ErrNoOutbound}
	}
	release := func() {}
	if o.limits != nil {
		rel, err := o.limits.Admit(ctx, store.Account{AccountSID: req.AccountSID, ServiceProviderSID: req.ServiceProviderSID})
		if err != nil {
			return nil, placeError(err)
		}
		release = rel
	}
	base := leg.DialRequest{
		From:          leg.Party{User: req.From, DisplayName: req.CallerName},
		Headers:       req.Headers,
		Timeout:       req.Timeout,
		OnProvisional: req.OnProvisional,
		OnEarlyMedia:  req.OnEarlyMedia,
		CallID:        req.CallID,
		Proxy:         req.Proxy,
	}
	if req.Target.From != nil && req.Target.From.Host != "" {
		base.From.Host = req.Target.From.Host
	}
	var l *leg.Leg
	var err error
	switch req.Target.Type {
	case "phone":
		var targets []route.OutboundTarget
		targets, err = o.router.OutboundFor(ctx, route.OutboundRequest{
			AccountSID: req.AccountSID, Number: req.Target.Number, Trunk: req.Target.Trunk,
		})
		if err == nil {
			l, _, err = route.DialFailover(ctx, o.agent, targets, base)
		}
	case "sip":
		base.Target = req.Target.SipURI
		if a := req.Target.Auth; a != nil && a.Username != "" {
			base.Auth = &leg.Credentials{Username: a.Username, Password: a.Password}
		}
		l, err = o.agent.Dial(ctx, base)
	case "user":
		var target route.OutboundTarget
		target, err = o.router.User(ctx, req.AccountSID, req.Target.Name)
		if err == nil {
			l, err = o.agent.Dial(ctx, target.DialRequest(base))
		}
	default:
		err = &runtime.PlaceError{Status: 488, Reason: "Not Acceptable Here", Err: fmt.Errorf("target type %q is not supported", req.Target.Type)}
	}
	if err != nil {
		release()
		return nil, placeError(err)
	}
	go func() {
		<-l.Done()
		release()
	}()
	return sipLeg{l}, nil
}

// placeError gives a failed attempt the SIP status the SIP layer knows
// (a final response, a routing refusal); the runtime maps the rest
// (cancelled: 487, anything else: 500).
func placeError(err error) error {
	var se *leg.StatusError
	var re *route.RejectError
	switch {
	case errors.As(err, &se):
		return &runtime.PlaceError{Status: se.Status, Reason: se.Reason, Err: err}
	case errors.As(err, &re):
		return &runtime.PlaceError{Status: re.Status, Reason: re.Reason, Err: err}
	}
	return err
}

// callCreator places the calls of REST POST /Calls: the runtime's outbound
// calls, running the account's application (or the hooks or document of
// the request) once answered.
type callCreator struct {
	calls *runtime.Manager
	reach reach
}

var _ api.CallCreator = (*callCreator)(nil)

// CreateCall implements api.CallCreator.
func (cc *callCreator) CreateCall(ctx context.Context, acct store.Account, call api.NewCall) (string, string, error) {
	var app runtime.Application
	switch {
	case call.Application != nil:
		a, err := applicationOf(ctx, acct, *call.Application, cc.reach)
		if err != nil {
			return "", "", &runtime.PlaceError{Status: 480, Reason: err.Error()}
		}
		app = a
	default:
		app = runtime.Application{
			AccountSID: acct.AccountSID, ServiceProviderSID: acct.ServiceProviderSID,
			Secret: acct.WebhookSecret, App: cc.reach.hooks, Document: call.AppJSON, StatusHook: call.CallStatusHook,
		}
		if call.CallHook != nil {
			app.CallHook = *call.CallHook
		}
	}
	if call.FromHost != "" {
		var from runtime.TargetFrom
		if call.To.From != nil {
			from = *call.To.From
		}
		from.Host = call.FromHost
		call.To.From = &from
	}
	s, err := cc.calls.StartOutbound(context.WithoutCancel(ctx), runtime.OutboundCall{
		Info: runtime.CallInfo{
			AccountSID: acct.AccountSID, ServiceProviderSID: acct.ServiceProviderSID, ApplicationSID: app.ApplicationSID,
			From: call.From, To: call.To.Callee(), CallerName: call.CallerName,
			TraceID: "00000000000000000000000000000000",
		},
		Target: call.To, Headers: call.Headers, Timeout: call.Timeout, TimeLimit: call.TimeLimit, Tag: call.Tag,
	}, app)
	if err != nil {
		return "", "", err
	}
	return s.CallSID(), s.CallID(), nil
}
