package api

import (
	"encoding/json"
	"sort"
	"strings"
	"time"

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
	v.handle(g, opDoc{method: "PUT", path: "/Accounts/:sid/Calls/:callSid", summary: "live control: one of call_hook (redirect), call_status (completed: hang up), tag, mute_status, whisper (during a dial), dtmf, sip_request (answers 200 {sip_status}); whisper may come with one other key", tag: "Calls",
		body: object(map[string]any{"call_hook": map[string]any{}, "call_status": typ("string"), "tag": typ("object"), "mute_status": typ("string"),
			"whisper": map[string]any{}, "dtmf": typ("object"), "sip_request": typ("object")}),
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

// notYet are live-control keys of jambonz whose features voxrun does not
// have yet: refused with 422, never accepted silently.
var notYet = map[string]bool{"listen_status": true, "transcribe_status": true, "conf_mute_status": true,
	"conf_hold_status": true, "conferenceParticipantAction": true, "record": true, "dub": true,
	"media_path": true, "boostAudioSignal": true}

// updateCall is live control, as jambonz takes it: one key per PUT, or
// whisper alone or with one other key.
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
	_, whisper := body["whisper"]
	_, childHook := body["child_call_hook"]
	_, callHook := body["call_hook"]
	if len(body) > 2 || (len(body) == 2 && !whisper && !(callHook && childHook)) {
		return fiber.NewError(fiber.StatusBadRequest, "one property per request (whisper may come with one other)")
	}
	keys := make([]string, 0, len(body))
	for k := range body {
		keys = append(keys, k)
	}
	// The same order every time: child_call_hook first (the B leg leaves
	// the dial before call_hook redirects the caller), whisper last.
	sort.Slice(keys, func(i, j int) bool {
		if (keys[i] == "child_call_hook") != (keys[j] == "child_call_hook") {
			return keys[i] == "child_call_hook"
		}
		return keys[i] < keys[j]
	})
	var cmds []runtime.Command
	for _, k := range keys {
		if notYet[k] {
			return fiber.NewError(fiber.StatusUnprocessableEntity, k+" is not supported yet")
		}
		cmd, err := liveCommand(k, body[k])
		if err != nil {
			return err
		}
		cmds = append(cmds, cmd)
	}
	if runtime.IsFinal(call["call_status"]) {
		return fiber.NewError(fiber.StatusUnprocessableEntity, "call is not active")
	}
	if v.calls == nil {
		return fiber.NewError(fiber.StatusServiceUnavailable, "live call control is not available")
	}
	var sipStatus int
	for _, cmd := range cmds {
		reply := make(chan runtime.CommandResult, 1)
		if cmd.Live() {
			cmd.Reply = reply
		}
		if !v.calls.Control(sid, cmd) {
			return v.fail(c, "update call", store.ErrNotFound)
		}
		if cmd.Reply == nil {
			continue
		}
		wait := 5 * time.Second
		if cmd.Kind == runtime.CommandSIPRequest {
			wait = 35 * time.Second
		}
		select {
		case r := <-reply:
			if r.Err != nil && r.SIPStatus == 0 {
				return fiber.NewError(fiber.StatusUnprocessableEntity, r.Err.Error())
			}
			sipStatus = r.SIPStatus
		case <-time.After(wait):
			return fiber.NewError(fiber.StatusGatewayTimeout, "the call did not answer the command in time")
		}
	}
	if _, ok := body["sip_request"]; ok {
		return c.JSON(map[string]int{"sip_status": sipStatus})
	}
	return c.SendStatus(fiber.StatusAccepted)
}

// liveCommand reads one live-control key; a bad value is a 400 naming it.
func liveCommand(k string, raw json.RawMessage) (runtime.Command, error) {
	bad := func(msg string) (runtime.Command, error) {
		return runtime.Command{}, fiber.NewError(fiber.StatusBadRequest, msg)
	}
	switch k {
	case "call_hook":
		h, err := hookOfJSON(raw)
		if err != nil {
			return bad("invalid value for call_hook")
		}
		return runtime.Command{Kind: runtime.CommandRedirect, Hook: &h}, nil
	case "child_call_hook":
		h, err := hookOfJSON(raw)
		if err != nil {
			return bad("invalid value for child_call_hook")
		}
		return runtime.Command{Kind: runtime.CommandChildRedirect, Hook: &h}, nil
	case "call_status":
		var st string
		if json.Unmarshal(raw, &st) != nil || (st != "completed" && st != "no-answer") {
			return bad(`call_status must be "completed" or "no-answer"`)
		}
		return runtime.Command{Kind: runtime.CommandHangup}, nil
	case "tag":
		if len(raw) == 0 || raw[0] != '{' {
			return bad("tag must be an object")
		}
		return runtime.Command{Kind: runtime.CommandTag, Document: raw}, nil
	case "mute_status":
		var st string
		if json.Unmarshal(raw, &st) != nil || (st != "mute" && st != "unmute") {
			return bad(`mute_status must be "mute" or "unmute"`)
		}
		return runtime.Command{Kind: runtime.CommandMute, Mute: st == "mute"}, nil
	case "whisper":
		doc := strings.TrimSpace(string(raw))
		if strings.HasPrefix(doc, "{") {
			doc = "[" + doc + "]"
		}
		if !strings.HasPrefix(doc, "[") || !json.Valid([]byte(doc)) {
			return bad("whisper must be a say or play verb, or an array of them")
		}
		return runtime.Command{Kind: runtime.CommandWhisper, Document: json.RawMessage(doc)}, nil
	case "dtmf":
		var d struct {
			Digit    string  `json:"digit"`
			Duration float64 `json:"duration"`
		}
		if json.Unmarshal(raw, &d) != nil || !validDigits(d.Digit, 64) {
			return bad("dtmf must be {digit, duration}: digit of 0-9 * # A-D, at most 64")
		}
		if d.Duration < 0 || d.Duration > 5000 {
			return bad("dtmf.duration is milliseconds, 0 to 5000")
		}
		return runtime.Command{Kind: runtime.CommandDTMF, Digits: strings.ToUpper(d.Digit), DigitDuration: time.Duration(d.Duration * float64(time.Millisecond))}, nil
	case "sip_request":
		var r struct {
			Method      string            `json:"method"`
			ContentType string            `json:"content_type"`
			Content     string            `json:"content"`
			Headers     map[string]string `json:"headers"`
		}
		if json.Unmarshal(raw, &r) != nil || r.Method == "" {
			return bad("sip_request must be {method, content_type, content, headers}")
		}
		switch strings.ToUpper(r.Method) {
		case "INFO", "NOTIFY", "MESSAGE", "OPTIONS", "UPDATE":
		default:
			return bad("sip_request.method must be INFO, NOTIFY, MESSAGE, OPTIONS or UPDATE")
		}
		return runtime.Command{Kind: runtime.CommandSIPRequest, SIP: &runtime.SIPRequest{
			Method: r.Method, ContentType: r.ContentType, Body: []byte(r.Content), Headers: r.Headers}}, nil
	}
	return bad("unsupported live-call update: " + k)
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
