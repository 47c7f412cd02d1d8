package verbs

import (
	"context"
	"time"
)

// Dialer is the role of a call that can place outbound legs and bridge the
// call to the first that answers (the dial verb). It returns the dial's
// results for the action hook (dial_call_status, dial_sip_status,
// dial_call_sid, duration) when the bridge ends or no target answered.
type Dialer interface {
	Dial(ctx context.Context, spec DialSpec) (map[string]any, error)
}

// MaxDialTargets is how many targets a dial rings at once; later ones are
// dropped, as jambonz drops them.
const MaxDialTargets = 10

// DialSpec is a dial as the runtime runs it.
type DialSpec struct {
	// Targets are rung at the same time; duplicates are already removed and
	// there are at most MaxDialTargets.
	Targets []DialTarget
	// CallerID and CallerName are shown to the targets (default: the
	// caller's number).
	CallerID   string
	CallerName string
	// AnswerOnBridge keeps the caller unanswered until a target answers: the
	// caller hears ringing (180) instead of an answered silence.
	AnswerOnBridge bool
	// Timeout is how long the targets ring (default 60 s).
	Timeout time.Duration
	// TimeLimit ends the bridge after this long (0: no limit).
	TimeLimit time.Duration
	// Headers go on every outbound INVITE; a target's own headers win.
	Headers map[string]string
	// DialMusic is audio the caller hears while the targets ring.
	DialMusic string
	// ConfirmHook's verbs run on the answering target before the bridge; a
	// target's own confirmHook wins.
	ConfirmHook *Hook
	// DTMFCapture are the digit sequences watched for during the bridge, on
	// the caller's leg (Parent) and on the target's (Child); a match is sent
	// to DTMFHook.
	DTMFCapture DTMFCapture
	DTMFHook    *Hook
	// Tag is the customerData of the outbound legs.
	Tag []byte
	// Proxy sends every INVITE through this SIP proxy.
	Proxy string
}

// DTMFCapture lists the sequences to watch on each side of a bridge.
type DTMFCapture struct {
	Parent []string
	Child  []string
}

// DialTarget is one party a dial calls.
type DialTarget struct {
	// Type is "phone", "sip", "user" or "teams".
	Type string `json:"type"`
	// Number is a phone or teams target's number.
	Number string `json:"number,omitempty"`
	// SipURI is a sip target's URI.
	SipURI string `json:"sipUri,omitempty"`
	// Name is a user target's name (user or user@realm).
	Name string `json:"name,omitempty"`
	// Trunk names the carrier of a phone target.
	Trunk string `json:"trunk,omitempty"`
	// Auth answers a digest challenge from a sip target.
	Auth *DialAuth `json:"auth,omitempty"`
	// Headers are this target's own INVITE headers.
	Headers map[string]string `json:"headers,omitempty"`
	// ConfirmHook overrides the dial's confirmHook for this target.
	ConfirmHook *Hook `json:"confirmHook,omitempty"`
	// From overrides the From of this target's INVITE.
	From *DialFrom `json:"from,omitempty"`
	// Proxy sends this target's INVITE through a SIP proxy.
	Proxy string `json:"proxy,omitempty"`
}

// DialAuth are digest credentials for a sip target.
type DialAuth struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// DialFrom overrides a target's From user and host.
type DialFrom struct {
	User string `json:"user,omitempty"`
	Host string `json:"host,omitempty"`
}

// Key identifies a target for removing duplicates: two targets with the
// same key call the same party.
func (t DialTarget) Key() string {
	switch t.Type {
	case "phone", "teams":
		return t.Type + ":" + t.Number
	case "user":
		return t.Type + ":" + t.Name
	case "sip":
		return t.Type + ":" + t.SipURI
	}
	return t.Type
}

// Callee is the target as hooks name it in "to": the number, the user's
// name or the SIP URI.
func (t DialTarget) Callee() string {
	switch t.Type {
	case "sip":
		return t.SipURI
	case "user":
		return t.Name
	}
	return t.Number
}
