package store

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"time"
)

// Bounds of what a JS app keeps in provisioning.
const (
	// MaxJSAppSourceSize is the largest source of one version, in bytes.
	MaxJSAppSourceSize = 256 << 10
	// KeepJSAppInvocations is how many invocations of each app the store
	// keeps; writing more drops the oldest.
	KeepJSAppInvocations = 100
	// MaxJSAppLogLines is how many log lines one invocation keeps; the store
	// drops the rest and says so in a last line.
	MaxJSAppLogLines = 100
	// MaxJSAppLogLineSize is the longest log message kept, in bytes; longer
	// ones are cut.
	MaxJSAppLogLineSize = 1 << 10
	// MaxJSAppVars is how many variables (plain and secret together) an app may have.
	MaxJSAppVars = 100
	// MaxJSAppVarSize is the longest value of one variable, in bytes.
	MaxJSAppVarSize = 4 << 10
)

// Outcomes of a JS app invocation.
const (
	JSAppOK      = "ok"      // the handler returned
	JSAppError   = "error"   // it threw, or returned something that is not a verb list
	JSAppTimeout = "timeout" // it ran past its deadline and was interrupted
	JSAppCrashed = "crashed" // its worker died or was killed
)

// JSAppLogLine is one line that a handler logged with ctx.log.
type JSAppLogLine struct {
	Time    time.Time `json:"time"`
	Level   string    `json:"level"` // info, warn or error
	Message string    `json:"msg"`
}

// JSAppInvocation is one run of a JS app's handler for a hook, with what it
// logged: `voxrun apps logs` and REST /JsApps/{sid}/Logs read them.
type JSAppInvocation struct {
	// JSAppInvocationSID is set by the store when it is empty.
	JSAppInvocationSID string `json:"js_app_invocation_sid"`
	JSAppSID           string `json:"js_app_sid"`
	// AccountSID owns the invocation: the account of the JS app.
	AccountSID      string `json:"account_sid"`
	JSAppVersionSID string `json:"js_app_version_sid,omitempty"`
	CallSID         string `json:"call_sid,omitempty"`
	// Hook is the handler's name: "call", "status", or an actionHook ("/menu").
	Hook string `json:"hook"`
	// Outcome is JSAppOK, JSAppError, JSAppTimeout or JSAppCrashed.
	Outcome string `json:"outcome"`
	// Error is the public message of a failed invocation (the exception's text).
	Error    string         `json:"error,omitempty"`
	Duration time.Duration  `json:"-"`
	Logs     []JSAppLogLine `json:"logs"`
	// CreatedAt is when the invocation started; zero means now.
	CreatedAt time.Time `json:"created_at"`
}

// JSAppInvocationQuery selects a JS app's recent invocations.
type JSAppInvocationQuery struct {
	// Count is how many, newest first: at most KeepJSAppInvocations, 0 means 25.
	Count int
	// CallSID keeps only one call's invocations when it is set.
	CallSID string
}

// JSAppInvocations stores the recent invocations of JS apps, a bounded
// number per app.
type JSAppInvocations interface {
	// WriteJSAppInvocations stores invocations in one transaction, then
	// drops all but the newest KeepJSAppInvocations of each app concerned.
	// Log lines past MaxJSAppLogLines or MaxJSAppLogLineSize are cut.
	WriteJSAppInvocations(ctx context.Context, invs []JSAppInvocation) error
	// ListJSAppInvocations reads one app's invocations, newest first. An app
	// outside the scope is ErrNotFound.
	ListJSAppInvocations(ctx context.Context, s Scope, jsAppSID string, q JSAppInvocationQuery) ([]JSAppInvocation, error)
}

// jsVarName is what a variable may be called: a JavaScript identifier in
// ASCII, so that ctx.env.NAME works.
var jsVarName = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$]{0,63}$`)

// DecodeJSAppVars reads the variables stored in JSApp.EnvVars or
// JSApp.SecretEnvVars. The empty string is no variables.
func DecodeJSAppVars(s string) (map[string]string, error) {
	out := map[string]string{}
	if s == "" {
		return out, nil
	}
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return nil, fmt.Errorf("store: js app variables: %w", err)
	}
	return out, nil
}

// EncodeJSAppVars checks variables and writes them in the stored form (the
// empty string for none). A name must be a JavaScript identifier; values
// are at most MaxJSAppVarSize bytes.
func EncodeJSAppVars(vars map[string]string) (string, error) {
	if len(vars) == 0 {
		return "", nil
	}
	if len(vars) > MaxJSAppVars {
		return "", fmt.Errorf("store: more than %d js app variables: %w", MaxJSAppVars, ErrInvalid)
	}
	for k, v := range vars {
		if !jsVarName.MatchString(k) {
			return "", fmt.Errorf("store: js app variable name %q is not an identifier: %w", k, ErrInvalid)
		}
		if len(v) > MaxJSAppVarSize {
			return "", fmt.Errorf("store: js app variable %s is longer than %d bytes: %w", k, MaxJSAppVarSize, ErrInvalid)
		}
	}
	b, err := json.Marshal(vars) // sorted keys: the same variables, the same text
	if err != nil {
		return "", fmt.Errorf("store: js app variables: %w", err)
	}
	return string(b), nil
}

// Env is the app's variables as its handlers see them in ctx.env: the plain
// and the secret ones together, secrets in clear (a secret wins a name
// clash, which the REST layer refuses anyway).
func (a JSApp) Env() (map[string]string, error) {
	env, err := DecodeJSAppVars(a.EnvVars)
	if err != nil {
		return nil, err
	}
	sec, err := DecodeJSAppVars(a.SecretEnvVars)
	if err != nil {
		return nil, err
	}
	for k, v := range sec {
		env[k] = v
	}
	return env, nil
}
