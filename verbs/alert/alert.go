// Package alert is the alert verb: a 180 Ringing carrying an Alert-Info
// header (distinctive ringing), before the call is answered.
package alert

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/voxrun/voxrun/verbs"
)

// Name is the verb's name in documents.
const Name = "alert"

// Alert is a decoded alert verb.
type Alert struct {
	// Message is the Alert-Info header's value.
	Message string `json:"message"`
}

var _ verbs.Verb = (*Alert)(nil)

// New decodes an alert verb.
func New(attrs json.RawMessage, _ *verbs.Decoder) (verbs.Verb, error) {
	a := &Alert{}
	if err := json.Unmarshal(attrs, a); err != nil {
		return nil, fmt.Errorf("alert: %w", err)
	}
	return a, nil
}

// Name implements verbs.Verb.
func (*Alert) Name() string { return Name }

// Run implements verbs.Verb.
func (a *Alert) Run(ctx context.Context, call verbs.Call) (verbs.Outcome, error) {
	if call.State() != verbs.StateEarly {
		return verbs.Outcome{}, fmt.Errorf("%w: alert only before the call is answered", verbs.ErrPrecondition)
	}
	r, err := verbs.Need[verbs.Ringer](call, Name, "an unanswered inbound leg")
	if err != nil {
		return verbs.Outcome{}, err
	}
	return verbs.Outcome{}, r.Ring(ctx, map[string]string{"Alert-Info": a.Message})
}
