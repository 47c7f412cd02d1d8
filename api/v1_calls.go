package api

import (
	"encoding/json"
	"sort"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/voxrun/voxrun/runtime"
	"github.com/voxrun/voxrun/store"
)

// liveCalls mounts the live calls of an account: list, one, delete the record,
// and live control (PUT), jambonz's /Accounts/{sid}/Calls.
func (v *v1) liveCalls(g fiber.Router) {
	call := object(map[string]any{"call_sid": typ("string"), "call_status": typ("string"), "direction": typ("string"),
		"from": typ("string"), "to": typ("string")})
	v.handle(g, opDoc{method: "GET", path: "/Accounts/:sid/Calls", summary: "the account's calls in progress (and ended within the hour)", tag: "Calls",
		query: []string{"direction", "from", "to", "callStatus"}, result: arrayOf(call)}, v.listCalls)
	v.handle(g, opDoc{method: "POST", path: "/Accounts/:sid/Calls", summary: "place an outbound call (to a phone number, SIP URI or registered user) that runs an application once answered; answers once the INVITE is sent", tag: "Calls",
		body: object(map[string]any{"from": typ("string"), "to": object(map[string]any{"type": typ("string"), "number": typ("string"), "sipUri": typ("string"), "name": typ("string")}, "type"),
			"application_sid": typ("string"), "call_hook": map[string]any{}, "call_status_hook": map[string]any{}, "app_json": map[string]any{},
			"timeout": typ("number"), "timeLimit": typ("number"), "headers": typ("object"), "tag": typ("object"), "callerName": typ("string")}, "from", "to"),
		status: fiber.StatusCreated, result: object(map[string]any{"sid": typ("string"), "callId": typ("string")})}, v.createCall)
	v.handle(g, opDoc{method: "GET", path: "/Accounts/:sid/Calls/:callSid", summary: "one call's live record", tag: "Calls",
		result: call}, v.getCall)
	v.handle(g, opDoc{method: "DELETE", path: "/Accounts/:sid/Calls/:callSid", summary: "remove a call's live record (does not hang up, as in jambonz)", tag: "Calls",
		status: fiber.StatusNoContent}, v.deleteCall)
	v.handle(g, opDoc{method: "PUT", path: "/Accounts/:sid/Calls/:callSid", summary: "live control: one of call_hook (redirect), call_status (completed: hang up), tag", tag: "Calls",
		body:   object(map[string]any{"call_hook": map[string]any{}, "call_status": typ("string"), "tag": typ("object")}),
		status: fiber.StatusAccepted}, v.updateCall)
}

func (v *v1) listCalls(c *fiber.Ctx) error {
	a, err := v.liveAccount(c)
	if err != nil {
		return v.fail(c, "list calls", err)
	}
	calls, err := v.live.ListCalls(c.UserContext(), a.AccountSID)
	if err != nil {
		return v.fail(c, "list calls", err)
	}
	filters := map[string]string{"direction": c.Query("direction"), "from": c.Query("from"), "to": c.Query("to"), "call_status": c.Query("callStatus")}
	out := make([]map[string]any, 0, len(calls))
	for _, call := range calls {
		keep := true
		for k, want := range filters {
			if want != "" && call[k] != want {
				keep = false
			}
		}
		if keep {
			out = append(out, callView(call))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i]["call_sid"].(string) < out[j]["call_sid"].(string) })
	return c.JSON(out)
}

func (v *v1) getCall(c *fiber.Ctx) error {
	a, err := v.liveAccount(c)
	if err != nil {
		return v.fail(c, "get call", err)
	}
	call, err := v.live.GetCall(c.UserContext(), a.AccountSID, c.Params("callSid"))
	if err != nil {
		return v.fail(c, "get call", err)
	}
	return c.JSON(callView(call))
}

func (v *v1) deleteCall(c *fiber.Ctx) error {
	a, err := v.liveAccount(c)
	if err != nil {
		return v.fail(c, "delete call", err)
	}
	if _, err := v.live.GetCall(c.UserContext(), a.AccountSID, c.Params("callSid")); err != nil {
		return v.fail(c, "delete call", err)
	}
	if err := v.live.DeleteCall(c.UserContext(), a.AccountSID, c.Params("callSid")); err != nil {
		return v.fail(c, "delete call", err)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// updateCall is live control: exactly one key per PUT, as jambonz takes it.
func (v *v1) updateCall(c *fiber.Ctx) error {
	a, err := v.liveAccount(c)
	if err != nil {
		return v.fail(c, "update call", err)
	}
	sid := c.Params("callSid")
	call, err := v.live.GetCall(c.UserContext(), a.AccountSID, sid)
	if err != nil {
		return v.fail(c, "update call", err)
	}
	var body map[string]json.RawMessage
	if err := json.Unmarshal(c.Body(), &body); err != nil || len(body) == 0 {
		return fiber.NewError(fiber.StatusBadRequest, "the body must be a JSON object with one property")
	}
	if len(body) != 1 {
		return fiber.NewError(fiber.StatusBadRequest, "one property per request")
	}
	var cmd runtime.Command
	for k, raw := range body {
		switch k {
		case "call_hook", "child_call_hook":
			h, err := hookOfJSON(raw)
			if err != nil {
				return fiber.NewError(fiber.StatusBadRequest, "invalid value for "+k)
			}
			cmd = runtime.Command{Kind: runtime.CommandRedirect, Hook: &h}
		case "call_status":
			var st string
			if json.Unmarshal(raw, &st) != nil || (st != "completed" && st != "no-answer") {
				return fiber.NewError(fiber.StatusBadRequest, `call_status must be "completed" or "no-answer"`)
			}
			cmd = runtime.Command{Kind: runtime.CommandHangup}
		case "tag":
			if len(raw) == 0 || raw[0] != '{' {
				return fiber.NewError(fiber.StatusBadRequest, "tag must be an object")
			}
			cmd = runtime.Command{Kind: runtime.CommandTag, Document: raw}
		default:
			return fiber.NewError(fiber.StatusBadRequest, "unsupported live-call update: "+k)
		}
	}
	if status := call["call_status"]; status == "completed" || status == "failed" || status == "busy" || status == "no-answer" {
		return fiber.NewError(fiber.StatusUnprocessableEntity, "call is not active")
	}
	if v.calls == nil {
		return fiber.NewError(fiber.StatusServiceUnavailable, "live call control is not available")
	}
	if !v.calls.Control(sid, cmd) {
		return v.fail(c, "update call", store.ErrNotFound)
	}
	return c.SendStatus(fiber.StatusAccepted)
}

// hookOfJSON reads a hook given as a URL string or an object.
func hookOfJSON(raw json.RawMessage) (runtime.Hook, error) {
	var u string
	if json.Unmarshal(raw, &u) == nil {
		if strings.TrimSpace(u) == "" {
			return runtime.Hook{}, errEmptyHook
		}
		return runtime.Hook{URL: u}, nil
	}
	var h runtime.Hook
	if err := json.Unmarshal(raw, &h); err != nil || h.URL == "" {
		return runtime.Hook{}, errEmptyHook
	}
	return h, nil
}

// callView is a live call hash as JSON: numbers where jambonz sends numbers.
func callView(call map[string]string) map[string]any {
	out := make(map[string]any, len(call))
	for k, v := range call {
		switch k {
		case "sip_status", "duration":
			var n int
			if json.Unmarshal([]byte(v), &n) == nil {
				out[k] = n
				continue
			}
		case "customerData", "env_vars":
			if json.Valid([]byte(v)) {
				out[k] = json.RawMessage(v)
				continue
			}
		}
		out[k] = v
	}
	return out
}
