package js

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/voxrun/voxrun/apps"
	"github.com/voxrun/voxrun/sandbox"
)

// Invoker runs one handler invocation; *sandbox.Pool is one.
type Invoker interface {
	Invoke(ctx context.Context, inv sandbox.Invocation) (sandbox.Result, error)
}

// StateStore keeps each call's ctx.state between hooks. Its method set is
// the one of store.Values, so that cmd can hand live state in as it is.
type StateStore interface {
	// GetValue returns the value, or an error for which Config.StateNotFound
	// reports true when there is none.
	GetValue(ctx context.Context, key string) ([]byte, error)
	SetValue(ctx context.Context, key string, v []byte, ttl time.Duration) error
}

// StateKey is the live-state key of a call's ctx.state: jsstate:{accountSid}:{callSid}.
func StateKey(accountSID, callSID string) string {
	return "jsstate:" + accountSID + ":" + callSID
}

// DefaultStateTTL is how long a call's ctx.state is kept after its last
// hook: as long as a call's hash in live state.
const DefaultStateTTL = 12 * time.Hour

// Config is what every JS app of a node shares.
type Config struct {
	// Invoker runs handlers (the sandbox pool). Required.
	Invoker Invoker
	// State keeps ctx.state; nil keeps none (each hook starts with {}).
	State StateStore
	// StateNotFound reports whether an error from State.GetValue means the
	// call has no state yet.
	StateNotFound func(error) bool
	// StateTTL is the expiry of a call's state, renewed at each hook.
	// Default DefaultStateTTL.
	StateTTL time.Duration
	// Observe, when set, is told about every invocation (for the app's
	// recent invocations and their logs: REST /JsApps/{sid}/Logs and
	// `voxrun apps logs`). It runs on the caller's goroutine: keep it quick.
	Observe func(ctx context.Context, rec Record)
}

// Program is one JS app version, as the runtime resolves it for a call.
type Program struct {
	AppSID     string
	VersionSID string
	AccountSID string
	Source     string
	// Env is ctx.env: the app's variables, secrets decrypted.
	Env map[string]string
}

// Outcomes of an invocation, as store.JSAppInvocation spells them.
const (
	OutcomeOK      = "ok"
	OutcomeError   = "error"
	OutcomeTimeout = "timeout"
	OutcomeCrashed = "crashed"
)

// Record is one invocation, for Config.Observe.
type Record struct {
	AppSID     string
	VersionSID string
	AccountSID string
	CallSID    string
	// Hook is the handler's name: "call", "status" or the actionHook ("/menu").
	Hook string
	// Outcome is OutcomeOK, OutcomeError, OutcomeTimeout or OutcomeCrashed.
	Outcome string
	// Error is the failure's public message (empty on success).
	Error    string
	Start    time.Time
	Duration time.Duration
	Logs     []sandbox.LogEntry
}

// App is one JS app version as an apps.App.
type App struct {
	cfg  Config
	prog Program
	key  string
	env  json.RawMessage
	// noStatus is set once a status event found no status handler.
	noStatus atomic.Bool
}

var _ apps.App = (*App)(nil)

// New returns the app for prog. It does not compile the source (the upload
// did, with sandbox.Check); a source that does not compile fails each hook
// with a compile error.
func New(cfg Config, prog Program) (*App, error) {
	if cfg.Invoker == nil {
		return nil, errors.New("apps/js: an Invoker is required")
	}
	if prog.AppSID == "" || prog.AccountSID == "" {
		return nil, errors.New("apps/js: a program needs its app and account")
	}
	if cfg.StateNotFound == nil {
		cfg.StateNotFound = func(error) bool { return false }
	}
	if cfg.StateTTL <= 0 {
		cfg.StateTTL = DefaultStateTTL
	}
	env := json.RawMessage("{}")
	if len(prog.Env) > 0 {
		b, err := marshal(prog.Env)
		if err != nil {
			return nil, fmt.Errorf("apps/js: env: %w", err)
		}
		env = b
	}
	version := prog.VersionSID
	if version == "" {
		version = fmt.Sprintf("%x", hashString(prog.Source))
	}
	return &App{cfg: cfg, prog: prog, key: prog.AppSID + "@" + version, env: env}, nil
}

// Key is the sandbox's program key of this app version (AppSID@VersionSID).
func (a *App) Key() string { return a.key }

// Send runs the handler for req and returns its verbs.
func (a *App) Send(ctx context.Context, req apps.Request) (apps.Reply, error) {
	if req.Kind == apps.KindCallStatus && a.noStatus.Load() {
		return apps.Reply{}, nil // learnt: this version has no status handler
	}
	start := time.Now()
	handlers := HandlerNames(req)
	hook := handlers[0]
	payload, err := payloadJSON(req.Payload)
	if err != nil {
		return apps.Reply{}, fmt.Errorf("apps/js: encode payload: %w", err)
	}
	callSID := callSIDOf(req.Payload, payload)
	rec := Record{AppSID: a.prog.AppSID, VersionSID: a.prog.VersionSID, AccountSID: a.prog.AccountSID,
		CallSID: callSID, Hook: hook, Start: start, Outcome: OutcomeOK}

	var state []byte
	if a.cfg.State != nil && callSID != "" {
		state, err = a.cfg.State.GetValue(ctx, StateKey(a.prog.AccountSID, callSID))
		if err != nil && !a.cfg.StateNotFound(err) {
			return apps.Reply{}, a.fail(ctx, rec, hook, start, nil, &apps.HookError{Kind: apps.FailConnect, URL: a.url(hook),
				Detail: "the call's ctx.state could not be loaded", Err: err})
		}
	}

	res, err := a.cfg.Invoker.Invoke(ctx, sandbox.Invocation{
		App: a.key, Source: a.prog.Source, Handlers: handlers, AccountSID: a.prog.AccountSID,
		Request: payload, Env: a.env, State: state,
	})
	if err != nil {
		if se, ok := sandbox.AsError(err); ok && se.Kind == sandbox.KindNoHandler && req.Kind == apps.KindCallStatus {
			// An app need not handle call status, as a webhook app need not
			// have a status hook. Its version never will: later status
			// events of every call skip the worker.
			a.noStatus.Store(true)
			a.observe(ctx, rec, start, res.Logs)
			return apps.Reply{}, nil
		}
		return apps.Reply{}, a.fail(ctx, rec, hook, start, res.Logs, hookError(a.url(hook), err))
	}
	if a.cfg.State != nil && callSID != "" && len(res.State) > 0 && !bytes.Equal(res.State, state) &&
		!(len(state) == 0 && string(res.State) == "{}") {
		if err := a.cfg.State.SetValue(ctx, StateKey(a.prog.AccountSID, callSID), res.State, a.cfg.StateTTL); err != nil {
			return apps.Reply{}, a.fail(ctx, rec, hook, start, res.Logs, &apps.HookError{Kind: apps.FailConnect, URL: a.url(hook),
				Detail: "the call's ctx.state could not be saved", Err: err})
		}
	}
	a.observe(ctx, rec, start, res.Logs)
	return apps.Reply{Verbs: res.Verbs, Logs: logLines(res.Logs), State: res.State}, nil
}

// logLines are the handler's log lines as the reply carries them (the
// console's timeline shows them).
func logLines(logs []sandbox.LogEntry) []apps.LogLine {
	if len(logs) == 0 {
		return nil
	}
	out := make([]apps.LogLine, len(logs))
	for i, l := range logs {
		out[i] = apps.LogLine{Level: l.Level, Message: l.Message}
	}
	return out
}

func (a *App) observe(ctx context.Context, rec Record, start time.Time, logs []sandbox.LogEntry) {
	if a.cfg.Observe == nil {
		return
	}
	rec.Duration = time.Since(start)
	rec.Logs = logs
	a.cfg.Observe(ctx, rec)
}

func (a *App) fail(ctx context.Context, rec Record, hook string, start time.Time, logs []sandbox.LogEntry, he *apps.HookError) error {
	rec.Outcome = outcome(he)
	rec.Error = he.Detail
	a.observe(ctx, rec, start, logs)
	return he
}

// url names a handler of this app where a webhook would name a URL (alerts,
// X-Reason): js:{appSid}#{hook}.
func (a *App) url(hook string) string { return "js:" + a.prog.AppSID + "#" + hook }

// outcome classifies a failure for the invocation log.
func outcome(he *apps.HookError) string {
	if se, ok := sandbox.AsError(he); ok {
		switch se.Kind {
		case sandbox.KindTimeout:
			if strings.Contains(se.Message, "killed") {
				return OutcomeCrashed
			}
			return OutcomeTimeout
		case sandbox.KindWorker, sandbox.KindMemory:
			return OutcomeCrashed
		}
	}
	if he.Kind == apps.FailTimeout {
		return OutcomeTimeout
	}
	return OutcomeError
}

// hookError maps a sandbox failure to the HookError a webhook failure would
// be: a script that ran too long is a timeout; a script that threw or
// returned something unusable answered with an unacceptable body; a worker
// that died, a suspended app or no free worker could not be reached.
func hookError(u string, err error) *apps.HookError {
	he := &apps.HookError{Kind: apps.FailConnect, URL: u, Detail: "the JS app could not be run", Err: err}
	se, ok := sandbox.AsError(err)
	if !ok {
		return he
	}
	he.Detail = string(se.Kind) + ": " + se.Message
	if se.Line > 0 {
		he.Detail = fmt.Sprintf("%s: line %d, column %d: %s", se.Kind, se.Line, se.Column, se.Message)
	}
	switch se.Kind {
	case sandbox.KindTimeout:
		he.Kind = apps.FailTimeout
	case sandbox.KindException, sandbox.KindBadReturn, sandbox.KindState, sandbox.KindCompile,
		sandbox.KindNoHandler, sandbox.KindInvalid, sandbox.KindMemory:
		he.Kind = apps.FailBody
	default: // worker, suspended, overloaded, cancelled
		he.Kind = apps.FailConnect
	}
	return he
}

// HandlerNames are the export names that answer req, in the order tried:
// "call" for the call hook, "status" for call status, and for a verb hook
// or a redirect the hook's path as the app wrote it ("/menu"), then the
// same without its leading slash.
func HandlerNames(req apps.Request) []string {
	switch req.Kind {
	case apps.KindSessionNew:
		return []string{"call"}
	case apps.KindCallStatus:
		return []string{"status"}
	}
	name := hookName(req.Hook.URL)
	if name == "" || name == "/" {
		return []string{"call"}
	}
	if rest, ok := strings.CutPrefix(name, "/"); ok {
		return []string{name, rest}
	}
	return []string{name, "/" + name}
}

// hookName is the path of a hook URL: relative hooks reach the runtime
// resolved against the application's call hook, so the handler name is the
// path of whatever URL arrives, without query or fragment.
func hookName(raw string) string {
	if i := strings.IndexByte(raw, '#'); i >= 0 {
		raw = raw[:i]
	}
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	if u.Opaque != "" {
		// js:APPSID/menu and the like: what follows the first slash.
		if i := strings.IndexByte(u.Opaque, '/'); i >= 0 {
			return u.Opaque[i:]
		}
		return ""
	}
	return u.Path
}

// payloadJSON encodes a payload as JSON.stringify would (no HTML escaping).
func payloadJSON(p any) (json.RawMessage, error) {
	switch v := p.(type) {
	case nil:
		return json.RawMessage("{}"), nil
	case json.RawMessage:
		return v, nil
	case []byte:
		return v, nil
	}
	return marshal(p)
}

func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// callSIDOf finds the payload's call_sid.
func callSIDOf(p any, raw []byte) string {
	switch v := p.(type) {
	case map[string]any:
		s, _ := v["call_sid"].(string)
		return s
	case map[string]string:
		return v["call_sid"]
	}
	var c struct {
		CallSID string `json:"call_sid"`
	}
	_ = json.Unmarshal(raw, &c)
	return c.CallSID
}

// hashString is FNV-1a, a program key for a source without a version.
func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}
