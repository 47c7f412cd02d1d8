// Package hangup is the hangup verb: it ends the call with a BYE carrying
// optional custom headers. An unanswered call is answered first, as jambonz
// does (hangup needs a confirmed dialog); to refuse a call before answering
// it, use sip:decline.
package hangup

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/voxrun/voxrun/verbs"
)

// Name is the verb's name in documents.
const Name = "hangup"

// Hangup is a decoded hangup verb.
type Hangup struct {
	// Headers are SIP headers to add to the BYE.
	Headers map[string]string `json:"headers"`
}

var _ verbs.Verb = (*Hangup)(nil)

// New decodes a hangup verb.
func New(attrs json.RawMessage, _ *verbs.Decoder) (verbs.Verb, error) {
	h := &Hangup{}
	if err := json.Unmarshal(attrs, h); err != nil {
		return nil, fmt.Errorf("hangup: %w", err)
	}
	return h, nil
}

// Name implements verbs.Verb.
func (*Hangup) Name() string { return Name }

// Run implements verbs.Verb.
func (h *Hangup) Run(ctx context.Context, call verbs.Call) (verbs.Outcome, error) {
	if call.State() == verbs.StateEnded {
		return verbs.Outcome{Hangup: true}, nil
	}
	if call.State() == verbs.StateEarly {
		a, err := verbs.Need[verbs.Answerer](call, Name, "an answerable leg")
		if err != nil {
			return verbs.Outcome{}, err
		}
		if err := a.Answer(ctx); err != nil {
			return verbs.Outcome{}, err
		}
	}
	hg, err := verbs.Need[verbs.Hanger](call, Name, "a leg that can hang up")
	if err != nil {
		return verbs.Outcome{}, err
	}
	return verbs.Outcome{Hangup: true}, hg.Hangup(ctx, h.Headers)
}
