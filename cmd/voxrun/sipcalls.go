package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"github.com/google/uuid"

	"github.com/voxrun/voxrun/apps"
	"github.com/voxrun/voxrun/apps/webhook"
	"github.com/voxrun/voxrun/media"
	"github.com/voxrun/voxrun/runtime"
	"github.com/voxrun/voxrun/sip"
	"github.com/voxrun/voxrun/sip/leg"
	"github.com/voxrun/voxrun/sip/registrar"
	"github.com/voxrun/voxrun/sip/route"
	"github.com/voxrun/voxrun/store"
)

// inbound turns routed INVITEs into runtime calls: route → accept the leg →
// start the session → hold the handler (and the call's admission slot) until
// the call ends.
type inbound struct {
	router    *route.Router
	registrar *registrar.Registrar
	agent     *leg.Agent
	calls     *runtime.Manager
	reach     reach
	log       *slog.Logger
}

// handle is the INVITE handler.
func (in *inbound) handle(ctx context.Context, req *sip.Request, tx sip.ServerTransaction) {
	call := route.CallOf(req)
	res, err := in.router.Route(ctx, call)
	if errors.Is(err, route.ErrUnknownSource) {
		// Not a carrier: a SIP client of an account, challenged first.
		id, ok := in.registrar.Authenticate(ctx, req, tx)
		if !ok {
			return // answered 401 or 403
		}
		call.Identity = &route.Identity{Username: id.Username, Realm: id.Realm}
		res, err = in.router.Route(ctx, call)
	}
	var re *route.RejectError
	switch {
	case errors.As(err, &re):
		in.log.Info("call refused by routing", "status", re.Status, "reason", re.Reason, "call_id", callIDOf(req), "err", re.Err)
		_ = leg.Respond(req, tx, re.Status, re.Reason, re.Headers)
		return
	case err != nil:
		in.log.Error("routing failed", "call_id", callIDOf(req), "err", err)
		_ = leg.Respond(req, tx, 500, "Server Internal Error", nil)
		return
	}
	app, err := applicationOf(ctx, res.Account, res.Application, in.reach)
	if err != nil {
		in.log.Warn("application unusable", "application_sid", res.Application.ApplicationSID, "err", err)
		_ = leg.Respond(req, tx, 480, "Temporarily Unavailable", map[string]string{"X-Reason": err.Error()})
		return
	}
	l, err := in.agent.Accept(ctx, req, tx)
	if err != nil {
		return // already answered (488, 503, ...)
	}
	defer l.Close()
	info := callInfo(req, res)
	s, err := in.calls.Start(ctx, sipLeg{l}, info, app)
	if err != nil {
		status := 500
		if errors.Is(err, runtime.ErrDraining) {
			status = 503
		}
		_ = l.Reject(ctx, status, "Service Unavailable", map[string]string{"Retry-After": "5"})
		return
	}
	select {
	case <-s.Done():
	case <-ctx.Done():
		s.Send(runtime.Command{Kind: runtime.CommandHangup})
		<-s.Done()
	}
}

func callIDOf(req *sip.Request) string {
	if h := req.CallID(); h != nil {
		return h.Value()
	}
	return ""
}

// callInfo is the call information of an inbound call for its hooks.
func callInfo(req *sip.Request, res route.Result) runtime.CallInfo {
	info := runtime.CallInfo{
		CallSID:            uuid.NewString(),
		AccountSID:         res.Account.AccountSID,
		ApplicationSID:     res.Application.ApplicationSID,
		ServiceProviderSID: res.Account.ServiceProviderSID,
		Direction:          "inbound",
		To:                 req.Recipient.User,
		CallID:             callIDOf(req),
		TraceID:            "00000000000000000000000000000000",
		OriginatingTrunk:   res.Carrier.Name,
	}
	if f := req.From(); f != nil {
		info.From = f.Address.User
		info.CallerName = f.DisplayName
	}
	if src, err := netip.ParseAddrPort(req.Source()); err == nil {
		info.OriginatingSIPIP = src.Addr().String()
	} else if host, _, err := net.SplitHostPort(req.Source()); err == nil {
		info.OriginatingSIPIP = host
	}
	headers := map[string]string{}
	for _, h := range req.Headers() {
		if _, dup := headers[h.Name()]; !dup {
			headers[h.Name()] = h.Value()
		}
	}
	info.SIP = map[string]any{"method": req.Method.String(), "uri": req.Recipient.String(), "headers": headers}
	return info
}

// reach is how this node reaches applications: webhooks through the
// guarded client, and JS apps in the sandbox when the node runs them.
type reach struct {
	hooks *webhook.Client
	guard *webhook.Guard // every tenant fetch goes through it
	js    *jsApps        // nil: JS apps cannot answer here
}

// applicationOf is the runtime's view of an account's application: its
// webhooks, its static document, or its JS app; and a JS app as the
// fallback of its webhook.
func applicationOf(ctx context.Context, acct store.Account, a store.Application, r reach) (runtime.Application, error) {
	app := runtime.Application{
		ApplicationSID:     a.ApplicationSID,
		AccountSID:         acct.AccountSID,
		ServiceProviderSID: acct.ServiceProviderSID,
		Secret:             acct.WebhookSecret,
		StatusHook:         hookOf(a.CallStatusHook),
		FallbackHook:       hookOf(a.FallbackHook),
		App:                r.hooks,
		StrictVerbs:        a.StrictVerbs,
		HookTimeout:        time.Duration(a.HookTimeoutSecs) * time.Second,
		Voice:              runtime.Voice{Vendor: a.SpeechSynthesisVendor, Language: a.SpeechSynthesisLanguage, Voice: a.SpeechSynthesisVoice},
	}
	if a.EnvVars != "" {
		if !json.Valid([]byte(a.EnvVars)) {
			return app, fmt.Errorf("application %s: env_vars is not JSON", a.ApplicationSID)
		}
		app.EnvVars = json.RawMessage(a.EnvVars)
	}
	js := func(sid string) (apps.App, error) {
		if r.js == nil {
			return nil, fmt.Errorf("application %s: JS apps do not run here", a.ApplicationSID)
		}
		return r.js.app(ctx, acct, sid)
	}
	switch {
	case a.JSAppSID != "":
		jsApp, err := js(a.JSAppSID)
		if err != nil {
			return app, err
		}
		// The JS app answers every hook (js:APP names it in the timeline;
		// relative actionHooks become js:APP/menu); its status handler
		// gets the status events.
		app.App, app.FallbackHook = jsApp, nil
		app.CallHook = apps.Hook{URL: "js:" + a.JSAppSID}
		if app.StatusHook == nil {
			app.StatusHook = &apps.Hook{URL: "js:" + a.JSAppSID + "/status"}
		}
		return app, nil
	case a.CallHook != nil && a.CallHook.URL != "":
		app.CallHook = *hookOf(a.CallHook)
	case a.AppJSON != "":
		app.Document = json.RawMessage(a.AppJSON)
	default:
		return app, fmt.Errorf("application %s has neither a call hook, app_json nor a JS app", a.ApplicationSID)
	}
	if a.FallbackJSAppSID != "" {
		fb, err := js(a.FallbackJSAppSID)
		if err != nil {
			return app, err
		}
		app.FallbackApp = fb
	}
	return app, nil
}

// sipLeg adapts a *leg.Leg to runtime.Leg (the Dialog types are twins).
type sipLeg struct{ *leg.Leg }

func (l sipLeg) Dialog() runtime.Dialog { return runtime.Dialog(l.Leg.Dialog()) }

func (l sipLeg) Endpoint() media.Endpoint { return l.Leg.Endpoint() }

var _ runtime.Leg = sipLeg{}

// mediaAddr is the address RTP binds to and advertises: public_ip when set,
// else the SIP address's host when it names one, else the address this host
// would use to reach the outside (no packet is sent), else loopback.
func mediaAddr(cfg Config) netip.Addr {
	if a, err := netip.ParseAddr(cfg.PublicIP); err == nil {
		return a
	}
	if host, _, err := net.SplitHostPort(cfg.SIPAddr); err == nil {
		if a, err := netip.ParseAddr(host); err == nil && !a.IsUnspecified() {
			return a
		}
	}
	if c, err := net.Dial("udp", "192.0.2.1:9"); err == nil {
		defer c.Close()
		if ap, err := netip.ParseAddrPort(c.LocalAddr().String()); err == nil {
			return ap.Addr()
		}
	}
	return netip.MustParseAddr("127.0.0.1")
}
