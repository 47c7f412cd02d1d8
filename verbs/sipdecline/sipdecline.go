// Package sipdecline is the sip:decline verb: it rejects a call that is not
// answered yet with a final SIP status, reason phrase and headers.
package sipdecline

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/voxrun/voxrun/verbs"
)

// Name is the verb's name in documents.
const Name = "sip:decline"

// Decline is a decoded sip:decline verb.
type Decline struct {
	// Status is the final SIP status, 400 to 699.
	Status int `json:"status"`
	// Reason is the reason phrase.
	Reason string `json:"reason"`
	// Headers are SIP headers to add to the response.
	Headers map[string]string `json:"headers"`
}

var _ verbs.Verb = (*Decline)(nil)

// New decodes a sip:decline verb.
func New(attrs json.RawMessage, _ *verbs.Decoder) (verbs.Verb, error) {
	d := &Decline{}
	if err := json.Unmarshal(attrs, d); err != nil {
		return nil, fmt.Errorf("sip:decline: %w", err)
	}
	if d.Status < 400 || d.Status > 699 {
		return nil, fmt.Errorf("sip:decline: status %d is not a final error status (400-699)", d.Status)
	}
	return d, nil
}

// Name implements verbs.Verb.
func (*Decline) Name() string { return Name }

// Run implements verbs.Verb.
func (d *Decline) Run(ctx context.Context, call verbs.Call) (verbs.Outcome, error) {
	if call.State() != verbs.StateEarly {
		return verbs.Outcome{}, fmt.Errorf("%w: sip:decline only before the call is answered", verbs.ErrPrecondition)
	}
	dc, err := verbs.Need[verbs.Decliner](call, Name, "an unanswered inbound leg")
	if err != nil {
		return verbs.Outcome{}, err
	}
	return verbs.Outcome{Hangup: true}, dc.Decline(ctx, d.Status, d.Reason, d.Headers)
}
