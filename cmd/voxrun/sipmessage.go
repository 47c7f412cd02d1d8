package main

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/voxrun/voxrun/apps"
	"github.com/voxrun/voxrun/apps/webhook"
	"github.com/voxrun/voxrun/sip"
	"github.com/voxrun/voxrun/sip/leg"
	"github.com/voxrun/voxrun/sip/route"
)

// messageHookTimeout bounds the messaging hook of a SIP MESSAGE: the
// sender's transaction waits for the answer.
const messageHookTimeout = 5 * time.Second

// messages serves SIP MESSAGE (RFC 3428). One in a dialog goes to its leg;
// one outside a dialog from a carrier gateway is routed like a call (the
// called number's application) and posted to the application's
// messaging_hook: 202 Accepted when the hook answers 2xx, 405 when the
// application has no messaging hook, 480 when the hook fails, and the
// routing refusals of calls (403 unknown source, 404 unknown number).
type messages struct {
	router *route.Router
	agent  *leg.Agent
	hooks  *webhook.Client
	log    *slog.Logger
}

func (m *messages) handle(ctx context.Context, req *sip.Request, tx sip.ServerTransaction) {
	if to := req.To(); to != nil && to.Params.Has("tag") {
		m.agent.ServeDialog(ctx, req, tx)
		return
	}
	res, err := m.router.Resolve(ctx, route.CallOf(req))
	var re *route.RejectError
	switch {
	case errors.As(err, &re):
		_ = leg.Respond(req, tx, re.Status, re.Reason, re.Headers)
		return
	case err != nil:
		m.log.Error("message routing failed", "call_id", callIDOf(req), "err", err)
		_ = leg.Respond(req, tx, 500, "Server Internal Error", nil)
		return
	}
	hook := hookOf(res.Application.MessagingHook)
	if hook == nil {
		_ = leg.Respond(req, tx, 405, "Method Not Allowed", map[string]string{"Allow": "INVITE, ACK, CANCEL, BYE, OPTIONS"})
		return
	}
	payload := map[string]any{
		"message_sid":     uuid.NewString(),
		"account_sid":     res.Account.AccountSID,
		"application_sid": res.Application.ApplicationSID,
		"to":              res.Called,
		"provider":        res.Carrier.Name,
		"carrier":         res.Carrier.Name,
	}
	if f := req.From(); f != nil {
		payload["from"] = f.Address.User
	}
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = h.Value()
	}
	payload["content_type"] = ct
	if ct == "" || strings.HasPrefix(strings.ToLower(ct), "text/") {
		payload["text"] = string(req.Body())
	}
	hctx, cancel := context.WithTimeout(ctx, messageHookTimeout)
	defer cancel()
	if _, err := m.hooks.Exchange(hctx, apps.Request{Hook: *hook, Payload: payload, Secret: res.Account.WebhookSecret}); err != nil {
		m.log.Warn("messaging hook failed", "application_sid", res.Application.ApplicationSID, "err", err)
		_ = leg.Respond(req, tx, 480, "Temporarily Unavailable", map[string]string{"X-Reason": "messaging hook failed"})
		return
	}
	_ = leg.Respond(req, tx, 202, "Accepted", nil)
}
