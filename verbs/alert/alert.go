// Package alert is the alert verb: before the answer, a 180 Ringing
// carrying an Alert-Info header (distinctive ringing); in any state, an
// alert of type alert-from-application with its message, as jambonz
// records it.
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
	if al, ok := call.(verbs.Alerter); ok && a.Message != "" {
		al.Alert(ctx, AlertType, a.Message)
	}
	if call.State() != verbs.StateEarly {
		return verbs.Outcome{}, nil // answered: the alert is recorded, there is nothing to ring
	}
	r, err := verbs.Need[verbs.Ringer](call, Name, "an unanswered inbound leg")
	if err != nil {
		return verbs.Outcome{}, err
	}
	return verbs.Outcome{}, r.Ring(ctx, map[string]string{"Alert-Info": a.Message})
}

// AlertType is the type of the alert the verb records (jambonz's).
const AlertType = "alert-from-application"
