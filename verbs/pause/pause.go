// Package pause is the pause verb: it waits for length seconds (silence on an
// answered call) and can be cut short by a hangup or live control.
package pause

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/voxrun/voxrun/verbs"
)

// Name is the verb's name in documents.
const Name = "pause"

// Pause is a decoded pause verb.
type Pause struct {
	// Length is how long to pause, in seconds.
	Length verbs.Seconds `json:"length"`
}

var _ verbs.Verb = (*Pause)(nil)

// New decodes a pause verb.
func New(attrs json.RawMessage, _ *verbs.Decoder) (verbs.Verb, error) {
	p := &Pause{}
	if err := json.Unmarshal(attrs, p); err != nil {
		return nil, fmt.Errorf("pause: %w", err)
	}
	if p.Length < 0 {
		return nil, fmt.Errorf("pause: length must not be negative")
	}
	return p, nil
}

// Name implements verbs.Verb.
func (*Pause) Name() string { return Name }

// Run implements verbs.Verb.
func (p *Pause) Run(ctx context.Context, _ verbs.Call) (verbs.Outcome, error) {
	t := time.NewTimer(p.Length.Duration())
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
	return verbs.Outcome{}, nil
}
