package runtime

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/voxrun/voxrun/apps"
)

// Call statuses (jambonz's call_status values).
const (
	StatusTrying     = "trying"
	StatusRinging    = "ringing"
	StatusEarlyMedia = "early-media"
	StatusInProgress = "in-progress"
	StatusCompleted  = "completed"
	StatusFailed     = "failed"
	StatusBusy       = "busy"
	StatusNoAnswer   = "no-answer"
)

// IsFinal reports whether a call_status is one a call ends with.
func IsFinal(status string) bool {
	switch status {
	case StatusCompleted, StatusFailed, StatusBusy, StatusNoAnswer:
		return true
	}
	return false
}

// CallInfo is the call information every hook carries.
type CallInfo struct {
	CallSID            string
	ParentCallSID      string
	AccountSID         string
	ApplicationSID     string
	ServiceProviderSID string
	Direction          string // "inbound" or "outbound"
	From               string
	To                 string
	CallerName         string
	CallID             string
	TraceID            string
	OriginatingSIPIP   string
	OriginatingTrunk   string
	LocalSIPAddress    string
	// SIP is the initial request's details for the first hook ({headers, ...}).
	SIP map[string]any
}

// payload builds a hook body: the call information in snake_case, the
// current status, customerData and env_vars passed through untouched.
func (s *Session) payload(extra map[string]any) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.info
	p := map[string]any{
		"call_sid":          i.CallSID,
		"account_sid":       i.AccountSID,
		"application_sid":   i.ApplicationSID,
		"direction":         i.Direction,
		"from":              i.From,
		"to":                i.To,
		"call_id":           i.CallID,
		"caller_name":       i.CallerName,
		"call_status":       s.status,
		"sip_status":        s.sipStatus,
		"trace_id":          i.TraceID,
		"local_sip_address": i.LocalSIPAddress,
	}
	if s.sipReason != "" {
		p["sip_reason"] = s.sipReason
	}
	if i.ServiceProviderSID != "" {
		p["service_provider_sid"] = i.ServiceProviderSID
	}
	if i.ParentCallSID != "" {
		p["parent_call_sid"] = i.ParentCallSID
	}
	if i.OriginatingSIPIP != "" {
		p["originating_sip_ip"] = i.OriginatingSIPIP
	}
	if i.OriginatingTrunk != "" {
		p["originating_sip_trunk_name"] = i.OriginatingTrunk
	}
	if len(s.customerData) > 0 {
		p["customerData"] = s.customerData
	}
	if len(s.app.EnvVars) > 0 {
		p["env_vars"] = s.app.EnvVars
	}
	for k, v := range extra {
		p[k] = v
	}
	return p
}

// liveFields is the call's hash in live state: the hook's call information as
// strings, plus the node that owns the call.
func (s *Session) liveFields() map[string]string {
	p := s.payload(nil)
	out := make(map[string]string, len(p)+1)
	for k, v := range p {
		switch x := v.(type) {
		case string:
			out[k] = x
		case int:
			out[k] = strconv.Itoa(x)
		default:
			b, _ := json.Marshal(x)
			out[k] = string(b)
		}
	}
	out["node"] = s.m.deps.Node
	return out
}

// Application is what routing resolved for a call: its hooks, how they are
// reached, and its settings.
type Application struct {
	ApplicationSID     string
	AccountSID         string
	ServiceProviderSID string
	// Secret signs every hook (the account's webhook secret).
	Secret string
	// CallHook answers the first request; StatusHook gets status changes;
	// FallbackHook is tried when the call hook fails.
	CallHook     apps.Hook
	StatusHook   *apps.Hook
	FallbackHook *apps.Hook
	// App reaches the hooks (webhook, websocket or JS).
	App apps.App
	// FallbackApp, when set, answers the call when the call hook fails (a
	// JS app named as a webhook application's fallback); once it has, it
	// gets every later hook of the call, and relative hooks stay as the
	// app wrote them.
	FallbackApp apps.App
	// Document is a static verb document (app_json) used instead of the call hook.
	Document json.RawMessage
	// EnvVars are the application's variables, sent with every hook.
	EnvVars json.RawMessage
	// StrictVerbs turns unknown verb attributes into errors.
	StrictVerbs bool
	// HookTimeout, when positive, bounds each attempt of every hook of the
	// call instead of the node's default (hook_timeout_secs).
	HookTimeout time.Duration
	// Voice is the application's default text-to-speech choice.
	Voice Voice
}

// resolveHook is a verb's hook as the call's application receives it (see
// Application.resolve): as written once a fallback app answers the call.
func (s *Session) resolveHook(h apps.Hook) apps.Hook {
	if s.fellBack.Load() {
		return h
	}
	return s.app.resolve(h)
}

// transport is what reaches the call's hooks now: the application, or its
// fallback once that answered the call.
func (s *Session) transport() apps.App {
	if s.fellBack.Load() {
		return s.app.FallbackApp
	}
	return s.app.App
}

// resolve makes a verb's hook absolute: a relative URL resolves against the
// call hook and reuses its credentials. Without a call hook (a JS app) it
// stays as written: the app's handler names.
func (a *Application) resolve(h apps.Hook) apps.Hook {
	url_ := h.URL
	if isAbsolute(url_) || a.CallHook.URL == "" {
		return h
	}
	if js, ok := strings.CutPrefix(a.CallHook.URL, "js:"); ok {
		// A JS app (js:APP): its handler names ride after the app.
		h.URL = "js:" + strings.TrimSuffix(js, "/") + "/" + strings.TrimPrefix(url_, "/")
		return h
	}
	base, err := url.Parse(a.CallHook.URL)
	if err != nil {
		return h
	}
	frag := ""
	if i := strings.IndexByte(url_, '#'); i >= 0 {
		url_, frag = url_[:i], url_[i:]
	}
	ref, err := url.Parse(url_)
	if err != nil {
		return h
	}
	base.Fragment, base.RawFragment = "", ""
	h.URL = base.ResolveReference(ref).String() + frag
	if h.Username == "" && h.Password == "" {
		h.Username, h.Password = a.CallHook.Username, a.CallHook.Password
	}
	if h.Method == "" {
		h.Method = a.CallHook.Method
	}
	return h
}

func isAbsolute(u string) bool {
	l := strings.ToLower(u)
	return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://") ||
		strings.HasPrefix(l, "ws://") || strings.HasPrefix(l, "wss://")
}
