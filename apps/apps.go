package apps

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Hook is where an application is reached for one kind of event: an absolute
// or relative URL (relative ones resolve against the application's call hook),
// the HTTP method and optional basic-auth credentials.
type Hook struct {
	URL      string `json:"url"`
	Method   string `json:"method,omitempty"`
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
}

// Kind says what a request is for; transports that distinguish message types
// (websocket apps) use it, HTTP does not.
type Kind string

// The kinds of request a call sends (jambonz's hook message types).
const (
	KindSessionNew Kind = "session:new" // the call hook: first verbs for a new call
	KindVerbHook   Kind = "verb:hook"   // a verb's actionHook or eventHook
	KindCallStatus Kind = "call:status" // a call status change; the reply is ignored
	KindRedirect   Kind = "session:redirect"
)

// Request is one event for the application.
type Request struct {
	Kind Kind
	Hook Hook
	// Payload is the JSON body: call information and verb results in snake_case.
	Payload any
	// Secret signs the request (Jambonz-Signature); empty sends no signature.
	Secret string
	// Timeout, when positive, bounds each attempt of this request instead of
	// the transport's default (an application's hook_timeout_secs).
	Timeout time.Duration
}

// Reply is the application's answer. Verbs is the raw verb document when the
// reply carried one (a JSON array); nil or an empty array means "carry on".
type Reply struct {
	Verbs json.RawMessage
	// Logs are the lines the application logged while answering (a JS
	// app's ctx.log); transports that have none leave it empty. The console's
	// timeline shows them.
	Logs []LogLine
	// State is the application's per-call state after answering (a JS
	// app's ctx.state), nil when the transport keeps none.
	State json.RawMessage
}

// LogLine is one line an application logged.
type LogLine struct {
	Level   string `json:"level"` // info, warn or error
	Message string `json:"msg"`
}

// HasVerbs reports whether the reply carries a non-empty verb document.
func (r Reply) HasVerbs() bool {
	v := bytes.TrimSpace(r.Verbs)
	return len(v) > 0 && !bytes.Equal(v, []byte("[]")) && !bytes.Equal(v, []byte("null"))
}

// App is an application reachable by some transport.
type App interface {
	// Send delivers req and returns the reply, retrying as the hook says.
	Send(ctx context.Context, req Request) (Reply, error)
}

// FailureKind classifies a failed delivery, for alerts and retry policies.
type FailureKind string

// Failure kinds (they map to jambonz's retry policy classes and alert types).
const (
	FailConnect FailureKind = "connection" // could not connect: refused, reset, DNS, connect timeout (rp "ct")
	FailTimeout FailureKind = "timeout"    // connected, but no answer in time (rp "rt")
	FailStatus  FailureKind = "status"     // answered with a status other than 200, 202, 204 (rp "4xx"/"5xx")
	FailBody    FailureKind = "body"       // answered, but the body is not acceptable (too big, not JSON, not an array)
	FailRefused FailureKind = "refused"    // the destination is not allowed (SSRF guard); never retried
)

// HookError is a failed delivery. Its Error text is safe to show to the tenant
// who owns the hook (X-Reason, alerts): it names the URL and what went wrong.
type HookError struct {
	Kind   FailureKind
	URL    string
	Status int // for FailStatus
	Detail string
	Err    error
}

func (e *HookError) Error() string {
	switch e.Kind {
	case FailStatus:
		return fmt.Sprintf("hook %s answered with status %d", e.URL, e.Status)
	case FailTimeout:
		return fmt.Sprintf("hook %s did not answer in time", e.URL)
	case FailConnect:
		return fmt.Sprintf("cannot connect to hook %s: %s", e.URL, e.Detail)
	case FailRefused:
		return fmt.Sprintf("hook %s is not an allowed destination: %s", e.URL, e.Detail)
	}
	return fmt.Sprintf("hook %s: %s", e.URL, e.Detail)
}

func (e *HookError) Unwrap() error { return e.Err }

// AsHookError returns the HookError in err's chain, if any.
func AsHookError(err error) (*HookError, bool) {
	var he *HookError
	ok := errors.As(err, &he)
	return he, ok
}
