package api

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/voxrun/voxrun/runtime"
	"github.com/voxrun/voxrun/store"
)

// CallCreator places the calls of POST /Accounts/{sid}/Calls (cmd wires the
// runtime's outbound calls and the account's applications).
type CallCreator interface {
	// CreateCall places call for acct and returns at once with the new
	// call's call_sid and SIP Call-ID; the call runs on in the background.
	// An error the tenant may read is a *runtime.PlaceError or wraps
	// runtime.ErrNoOutbound, runtime.ErrDraining.
	CreateCall(ctx context.Context, acct store.Account, call NewCall) (callSID, callID string, err error)
}

// NewCall is a validated POST /Calls body. Exactly one of Application,
// CallHook or AppJSON says what the answered call runs.
type NewCall struct {
	// Application is the account's application named by application_sid.
	Application *store.Application
	// CallHook and CallStatusHook are hooks given in the body instead.
	CallHook, CallStatusHook *runtime.Hook
	// AppJSON is a verb document given in the body instead.
	AppJSON          json.RawMessage
	From, CallerName string
	// FromHost is the host of the INVITE's From URI (default voxrun's).
	FromHost  string
	To        runtime.Target
	Headers   map[string]string
	Timeout   time.Duration
	TimeLimit time.Duration
	Tag       json.RawMessage
}

// sipURI is the shape of a sip target: sip:[user@]host[:port][;params],
// no spaces, no second @ (the SIP layer parses it fully when it dials).
var sipURI = regexp.MustCompile(`(?i)^sip:([^@\s;:]+(:[^@\s;]*)?@)?[a-z0-9.\-\[\]:]+(:\d{1,5})?(;[^\s]*)?$`)

// newCallBody is POST /Calls as jambonz's REST API takes it.
type newCallBody struct {
	ApplicationSID string            `json:"application_sid"`
	CallHook       json.RawMessage   `json:"call_hook"`
	CallStatusHook json.RawMessage   `json:"call_status_hook"`
	AppJSON        json.RawMessage   `json:"app_json"`
	From           string            `json:"from"`
	CallerName     string            `json:"callerName"`
	To             *runtime.Target   `json:"to"`
	Headers        map[string]string `json:"headers"`
	Timeout        *float64          `json:"timeout"`
	TimeLimit      *float64          `json:"timeLimit"`
	Tag            json.RawMessage   `json:"tag"`
	FromHost       string            `json:"fromHost"`
	// AnswerOnBridge is accepted and has no effect, as in jambonz: the
	// callee's answer is the call's answer; there is no caller to hold.
	AnswerOnBridge bool `json:"answerOnBridge"`
}

// createCall is POST /Accounts/:sid/Calls: 201 {"sid", "callId"} once the
// INVITE is on its way.
func (v *v1) createCall(c *fiber.Ctx) error {
	a, err := v.liveAccount(c)
	if err != nil {
		return v.fail(c, "create call", err)
	}
	if v.creator == nil {
		return fiber.NewError(fiber.StatusServiceUnavailable, "outbound calls are not available on this node")
	}
	var body newCallBody
	if err := json.Unmarshal(c.Body(), &body); err != nil {
		return fiber.NewError(fiber.StatusBadRequest, "request body must be a JSON object: "+jsonProblem(err))
	}
	call, err := v.newCall(c, a, body)
	if err != nil {
		return err
	}
	sid, callID, err := v.creator.CreateCall(c.UserContext(), a, call)
	var pe *runtime.PlaceError
	switch {
	case errors.Is(err, runtime.ErrDraining):
		c.Set(fiber.HeaderRetryAfter, "5")
		return fiber.NewError(fiber.StatusServiceUnavailable, "this node is shutting down; try another")
	case errors.Is(err, runtime.ErrNoOutbound):
		return fiber.NewError(fiber.StatusServiceUnavailable, "outbound calls are not available on this node")
	case errors.As(err, &pe):
		return fiber.NewError(fiber.StatusUnprocessableEntity, "cannot place the call: "+pe.Reason)
	case err != nil:
		return v.fail(c, "create call", err)
	}
	return c.Status(fiber.StatusCreated).JSON(map[string]string{"sid": sid, "callId": callID})
}

// newCall checks a POST /Calls body; every refusal is a 400 or 422 that
// names the field.
func (v *v1) newCall(c *fiber.Ctx, a store.Account, b newCallBody) (NewCall, error) {
	bad := func(msg string) (NewCall, error) { return NewCall{}, fiber.NewError(fiber.StatusBadRequest, msg) }
	if b.To == nil {
		return bad("missing field to")
	}
	switch b.To.Type {
	case "phone":
		if b.To.Number == "" {
			return bad("to.number is required for a phone target")
		}
	case "sip":
		if !sipURI.MatchString(b.To.SipURI) {
			return bad("to.sipUri must be a sip: URI (sip:user@host[:port][;params])")
		}
	case "user":
		if b.To.Name == "" {
			return bad("to.name is required for a user target")
		}
	default:
		return bad(`to.type must be "phone", "sip" or "user"`)
	}
	if strings.TrimSpace(b.From) == "" {
		return bad("missing field from")
	}
	if len(b.From) > 128 || len(b.CallerName) > 128 {
		return bad("from and callerName are at most 128 characters")
	}
	if len(b.FromHost) > 253 || strings.ContainsAny(b.FromHost, " <>@;:\"") {
		return bad("fromHost must be a host name")
	}
	call := NewCall{From: b.From, CallerName: b.CallerName, FromHost: b.FromHost, To: *b.To, Headers: b.Headers, Timeout: 60 * time.Second}
	if b.Timeout != nil {
		if *b.Timeout <= 0 || *b.Timeout > 600 {
			return bad("timeout must be between 1 and 600 seconds")
		}
		call.Timeout = time.Duration(*b.Timeout * float64(time.Second))
	}
	if b.TimeLimit != nil {
		if *b.TimeLimit < 0 {
			return bad("timeLimit must not be negative")
		}
		call.TimeLimit = time.Duration(*b.TimeLimit * float64(time.Second))
	}
	if t := strings.TrimSpace(string(b.Tag)); t != "" && t != "null" {
		if t[0] != '{' {
			return bad("tag must be an object")
		}
		call.Tag = b.Tag
	}
	given := 0
	if b.ApplicationSID != "" {
		given++
		app, err := v.prov.Applications(store.ForAccount(a.ServiceProviderSID, a.AccountSID)).Get(c.UserContext(), b.ApplicationSID)
		if err != nil || (app.AccountSID != "" && app.AccountSID != a.AccountSID) {
			if err == nil || errors.Is(err, store.ErrNotFound) {
				return NewCall{}, fiber.NewError(fiber.StatusUnprocessableEntity, "unknown application_sid")
			}
			return NewCall{}, v.fail(c, "create call", err)
		}
		call.Application = &app
	}
	if len(b.CallHook) > 0 && string(b.CallHook) != "null" {
		given++
		h, err := hookOfJSON(b.CallHook)
		if err != nil {
			return bad("call_hook must be a URL or an object with a url")
		}
		call.CallHook = &h
	}
	if len(b.CallStatusHook) > 0 && string(b.CallStatusHook) != "null" {
		h, err := hookOfJSON(b.CallStatusHook)
		if err != nil {
			return bad("call_status_hook must be a URL or an object with a url")
		}
		call.CallStatusHook = &h
	}
	if app := strings.TrimSpace(string(b.AppJSON)); app != "" && app != "null" {
		given++
		doc := json.RawMessage(app)
		// jambonz takes app_json as a JSON string holding the document, or
		// the document itself.
		var s string
		if json.Unmarshal(doc, &s) == nil {
			doc = json.RawMessage(s)
		}
		if !json.Valid(doc) || !strings.HasPrefix(strings.TrimSpace(string(doc)), "[") {
			return bad("app_json must be a verb array")
		}
		call.AppJSON = doc
	}
	if given != 1 {
		return bad("exactly one of application_sid, call_hook or app_json is required")
	}
	return call, nil
}

// jsonProblem is a short, value-free description of a JSON decoding error.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return "field " + te.Field + " has the wrong type"
	}
	return "malformed JSON"
}
