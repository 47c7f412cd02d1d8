package verbs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/voxrun/voxrun/media"
)

// Verb is one decoded verb of a document, ready to run.
type Verb interface {
	// Name is the canonical verb name ("say", "sip:decline").
	Name() string
	// Run performs the verb. It returns when the verb is done, or soon after
	// ctx is cancelled; context.Cause(ctx) says why (see the Cause errors).
	Run(ctx context.Context, call Call) (Outcome, error)
}

// Call is what every verb gets. A verb asks for the further roles it needs
// with a type assertion (call.(verbs.Media)); a call that lacks one fails the
// verb with ErrRole.
type Call interface {
	// Logger logs with the call's identifiers attached.
	Logger() *slog.Logger
	// State reports where the call is: not yet answered, answered, ended.
	State() CallState
}

// CallState is the dialog state a verb's preconditions look at.
type CallState int

// Call states.
const (
	StateEarly    CallState = iota // not answered yet (an inbound INVITE waiting)
	StateAnswered                  // confirmed dialog
	StateEnded                     // hung up
)

// Answerer answers the call (200 OK) if it is not answered yet.
type Answerer interface {
	Answer(ctx context.Context) error
}

// Media gives a verb the call's audio, answering first unless early media is
// asked for (then 183 Session Progress with SDP).
type Media interface {
	Endpoint(ctx context.Context, earlyMedia bool) (media.Endpoint, error)
}

// Hanger ends an answered call with BYE and custom headers.
type Hanger interface {
	Hangup(ctx context.Context, headers map[string]string) error
}

// Decliner rejects a call that is not answered yet with a final status.
type Decliner interface {
	Decline(ctx context.Context, status int, reason string, headers map[string]string) error
}

// Ringer sends a provisional 180 Ringing with headers (Alert-Info).
type Ringer interface {
	Ring(ctx context.Context, headers map[string]string) error
}

// Tagger replaces the call's customerData, sent with every later hook.
type Tagger interface {
	Tag(data json.RawMessage)
}

// DigitListener delivers the call's DTMF while subscribed: RFC 4733, in-band
// and SIP INFO digits alike.
type DigitListener interface {
	SubscribeDigits() (digits <-chan media.Digit, unsubscribe func())
}

// Alerter raises an alert for the account (jambonz's alert types).
type Alerter interface {
	Alert(ctx context.Context, alertType, message string)
}

// Configurer exposes the session defaults that the config verb changes and
// other verbs read.
type Configurer interface {
	Settings() *Settings
}

// Settings are the session defaults (the config verb).
type Settings struct {
	Synthesizer json.RawMessage `json:"synthesizer,omitempty"`
	Recognizer  json.RawMessage `json:"recognizer,omitempty"`
	// BargeIn is a background gather's configuration, when enabled.
	BargeIn json.RawMessage `json:"bargeIn,omitempty"`
	// NotifyEvents and others are kept as given.
	Extra map[string]json.RawMessage `json:"extra,omitempty"`
}

// Outcome is what a verb returns.
type Outcome struct {
	// ActionHook, when set, is sent the call information plus Results; a reply
	// with verbs replaces the rest of the stack, an empty one lets it continue.
	ActionHook *Hook
	// Results are the verb's results for the action hook (snake_case keys:
	// digits, reason, dial_call_status, ...).
	Results map[string]any
	// Hangup means the verb ended the call; the stack stops.
	Hangup bool
}

// Hook is an actionHook or eventHook as a verb document writes it: a URL
// string, or an object with url, method, username and password.
type Hook struct {
	URL      string `json:"url"`
	Method   string `json:"method,omitempty"`
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
}

// UnmarshalJSON accepts both shapes.
func (h *Hook) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*h = Hook{URL: s}
		return nil
	}
	type plain Hook
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return fmt.Errorf("verbs: a hook is a URL or an object with a url: %w", err)
	}
	*h = Hook(p)
	return nil
}

// Causes of a cancelled verb, read with context.Cause.
var (
	// CauseHangup: the far end hung up, or the call was ended by control.
	CauseHangup = errors.New("verbs: call ended")
	// CauseRedirect: live control replaced the document.
	CauseRedirect = errors.New("verbs: redirected")
	// CauseBargeIn: the caller spoke or pressed a key during a prompt.
	CauseBargeIn = errors.New("verbs: barge-in")
)

// Seconds reads a jambonz duration in seconds (a number, or a numeric string).
type Seconds float64

// UnmarshalJSON accepts 5, 2.5 and "5".
func (s *Seconds) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err == nil {
		*s = Seconds(f)
		return nil
	}
	var str string
	if err := json.Unmarshal(b, &str); err != nil {
		return fmt.Errorf("verbs: expected seconds, got %s", b)
	}
	if _, err := fmt.Sscanf(strings.TrimSpace(str), "%g", &f); err != nil {
		return fmt.Errorf("verbs: expected seconds, got %q", str)
	}
	*s = Seconds(f)
	return nil
}

// Duration converts to a time.Duration.
func (s Seconds) Duration() time.Duration { return time.Duration(float64(s) * float64(time.Second)) }

// Need returns the role R of call, or an ErrRole error naming what is missing.
func Need[R any](call Call, verb, role string) (R, error) {
	r, ok := call.(R)
	if !ok {
		var zero R
		return zero, fmt.Errorf("%w: %s needs %s", ErrRole, verb, role)
	}
	return r, nil
}

// Strings reads a jambonz attribute that is a string or an array of strings.
type Strings []string

// UnmarshalJSON accepts "a" and ["a", "b"].
func (s *Strings) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*s = Strings{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("verbs: expected a string or an array of strings, got %s", b)
	}
	*s = many
	return nil
}

// Loop reads jambonz's loop attribute: a count, or 0 / "forever" for
// endlessly. Times returns the count, 0 meaning forever; absent means 1.
type Loop struct {
	set   bool
	count int
}

// UnmarshalJSON accepts 3, "3", 0 and "forever".
func (l *Loop) UnmarshalJSON(b []byte) error {
	var str string
	if json.Unmarshal(b, &str) == nil {
		if strings.EqualFold(strings.TrimSpace(str), "forever") {
			*l = Loop{set: true}
			return nil
		}
		var n int
		if _, err := fmt.Sscanf(strings.TrimSpace(str), "%d", &n); err != nil || n < 0 {
			return fmt.Errorf("verbs: loop must be a count or \"forever\", got %q", str)
		}
		*l = Loop{set: true, count: n}
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil || f < 0 {
		return fmt.Errorf("verbs: loop must be a count or \"forever\", got %s", b)
	}
	*l = Loop{set: true, count: int(f)}
	return nil
}

// MarshalJSON writes the count ("forever" for 0).
func (l Loop) MarshalJSON() ([]byte, error) {
	if l.set && l.count == 0 {
		return []byte(`"forever"`), nil
	}
	return json.Marshal(l.Times())
}

// Times is how many times to play: 0 means forever.
func (l Loop) Times() int {
	if !l.set {
		return 1
	}
	return l.count
}
