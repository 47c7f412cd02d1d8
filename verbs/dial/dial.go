// Package dial is the dial verb: it calls up to ten targets (phone numbers,
// SIP URIs, registered users) at once, bridges the caller to the first that
// answers and cancels the others, and reports the outcome (dial_call_status,
// dial_sip_status, dial_call_sid, duration) to actionHook once the bridge
// ends. The runtime does the calling and bridging (the verbs.Dialer role);
// this package reads the document and applies jambonz's defaults.
package dial

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/voxrun/voxrun/verbs"
)

// Name is the verb's name in documents.
const Name = "dial"

// DefaultTimeout is how long targets ring when the document does not say.
const DefaultTimeout = 60 * time.Second

// Dial is a decoded dial verb.
type Dial struct {
	Target         []verbs.DialTarget `json:"target"`
	ActionHook     *verbs.Hook        `json:"actionHook"`
	AnswerOnBridge bool               `json:"answerOnBridge"`
	CallerID       string             `json:"callerId"`
	CallerName     string             `json:"callerName"`
	ConfirmHook    *verbs.Hook        `json:"confirmHook"`
	DialMusic      string             `json:"dialMusic"`
	DTMFCapture    json.RawMessage    `json:"dtmfCapture"`
	DTMFHook       *verbs.Hook        `json:"dtmfHook"`
	Headers        Headers            `json:"headers"`
	TimeLimit      verbs.Seconds      `json:"timeLimit"`
	Timeout        verbs.Seconds      `json:"timeout"`
	Tag            json.RawMessage    `json:"tag"`
	Proxy          string             `json:"proxy"`

	spec verbs.DialSpec
	// ignored lists the attributes given that voxrun does not run yet.
	ignored []string
}

// notYet are dial attributes of jambonz's schema that voxrun accepts but
// does not run yet; each one given is logged when the dial runs.
var notYet = []string{"listen", "stream", "transcribe", "amd", "dub", "onHoldHook", "referHook",
	"anchorMedia", "exitMediaPath", "boostAudioSignal", "codecs", "srtpEncryption", "forwardPAI"}

var _ verbs.Verb = (*Dial)(nil)

// Headers are SIP headers whose values a document writes as strings or numbers.
type Headers map[string]string

// UnmarshalJSON accepts {"X-A": "b", "X-N": 3}.
func (h *Headers) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("headers must be an object: %w", err)
	}
	out := make(Headers, len(raw))
	for k, v := range raw {
		var s string
		if json.Unmarshal(v, &s) == nil {
			out[k] = s
			continue
		}
		var n json.Number
		if err := json.Unmarshal(v, &n); err != nil {
			return fmt.Errorf("header %s must be a string or a number", k)
		}
		out[k] = n.String()
	}
	*h = out
	return nil
}

// New decodes a dial verb: targets are checked, duplicates removed and the
// list cut to verbs.MaxDialTargets, as jambonz does.
func New(attrs json.RawMessage, _ *verbs.Decoder) (verbs.Verb, error) {
	d := &Dial{}
	if err := json.Unmarshal(attrs, d); err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	if len(d.Target) == 0 {
		return nil, fmt.Errorf("dial: target is required")
	}
	if d.Timeout < 0 || d.TimeLimit < 0 {
		return nil, fmt.Errorf("dial: timeout and timeLimit must not be negative")
	}
	seen := map[string]bool{}
	var targets []verbs.DialTarget
	for i, t := range d.Target {
		if err := check(t); err != nil {
			return nil, fmt.Errorf("dial: target[%d]: %w", i, err)
		}
		if seen[t.Key()] {
			continue
		}
		seen[t.Key()] = true
		targets = append(targets, t)
	}
	if len(targets) > verbs.MaxDialTargets {
		targets = targets[:verbs.MaxDialTargets]
	}
	d.Target = targets
	d.ignored = verbs.NotYet(attrs, notYet...)
	capture, err := parseCapture(d.DTMFCapture)
	if err != nil {
		return nil, fmt.Errorf("dial: dtmfCapture: %w", err)
	}
	timeout := d.Timeout.Duration()
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	d.spec = verbs.DialSpec{
		Targets:        targets,
		CallerID:       d.CallerID,
		CallerName:     d.CallerName,
		AnswerOnBridge: d.AnswerOnBridge,
		Timeout:        timeout,
		TimeLimit:      d.TimeLimit.Duration(),
		Headers:        d.Headers,
		DialMusic:      d.DialMusic,
		ConfirmHook:    d.ConfirmHook,
		DTMFCapture:    capture,
		DTMFHook:       d.DTMFHook,
		Proxy:          d.Proxy,
	}
	if len(d.Tag) > 0 && string(d.Tag) != "null" {
		d.spec.Tag = d.Tag
	}
	return d, nil
}

// check refuses a target that names nothing to call.
func check(t verbs.DialTarget) error {
	switch t.Type {
	case "phone", "teams":
		if t.Number == "" {
			return fmt.Errorf("a %s target needs a number", t.Type)
		}
	case "sip":
		if t.SipURI == "" {
			return fmt.Errorf("a sip target needs a sipUri")
		}
	case "user":
		if t.Name == "" {
			return fmt.Errorf("a user target needs a name")
		}
	default:
		return fmt.Errorf("unknown target type %q", t.Type)
	}
	return nil
}

// parseCapture reads dtmfCapture: an array of sequences watched on both
// legs, or an object with childCall and parentCall arrays.
func parseCapture(raw json.RawMessage) (verbs.DTMFCapture, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return verbs.DTMFCapture{}, nil
	}
	var both []string
	if json.Unmarshal(raw, &both) == nil {
		return verbs.DTMFCapture{Parent: both, Child: both}, nil
	}
	var per struct {
		ParentCall []string `json:"parentCall"`
		ChildCall  []string `json:"childCall"`
	}
	if err := json.Unmarshal(raw, &per); err != nil {
		return verbs.DTMFCapture{}, fmt.Errorf("an array of sequences or {parentCall, childCall}")
	}
	return verbs.DTMFCapture{Parent: per.ParentCall, Child: per.ChildCall}, nil
}

// Name implements verbs.Verb.
func (*Dial) Name() string { return Name }

// Spec is the dial as the runtime runs it.
func (d *Dial) Spec() verbs.DialSpec { return d.spec }

// Run implements verbs.Verb.
func (d *Dial) Run(ctx context.Context, call verbs.Call) (verbs.Outcome, error) {
	dialer, err := verbs.Need[verbs.Dialer](call, Name, "outbound calling")
	if err != nil {
		return verbs.Outcome{}, err
	}
	verbs.WarnNotYet(call, Name, d.ignored)
	results, err := dialer.Dial(ctx, d.spec)
	if err != nil {
		return verbs.Outcome{}, err
	}
	return verbs.Outcome{ActionHook: d.ActionHook, Results: results}, nil
}
