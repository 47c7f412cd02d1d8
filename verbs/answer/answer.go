// Package answer is the answer verb: it answers the call (200 OK with SDP) if
// it is not answered yet. Verbs that need media answer on their own; answer
// makes the moment explicit.
package answer

import (
	"context"
	"encoding/json"

	"github.com/voxrun/voxrun/verbs"
)

// Name is the verb's name in documents.
const Name = "answer"

// Answer is a decoded answer verb.
type Answer struct{}

var _ verbs.Verb = (*Answer)(nil)

// New decodes an answer verb; it has no attributes of its own.
func New(json.RawMessage, *verbs.Decoder) (verbs.Verb, error) { return &Answer{}, nil }

// Name implements verbs.Verb.
func (*Answer) Name() string { return Name }

// Run implements verbs.Verb.
func (*Answer) Run(ctx context.Context, call verbs.Call) (verbs.Outcome, error) {
	a, err := verbs.Need[verbs.Answerer](call, Name, "an answerable leg")
	if err != nil {
		return verbs.Outcome{}, err
	}
	return verbs.Outcome{}, a.Answer(ctx)
}
