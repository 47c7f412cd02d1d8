// Package dtmf is the dtmf verb: it sends DTMF digits to the far end as RFC
// 4733 events; "w" in the string waits half a second.
package dtmf

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/voxrun/voxrun/verbs"
)

// Name is the verb's name in documents.
const Name = "dtmf"

// DTMF is a decoded dtmf verb.
type DTMF struct {
	// Digits are the keys to send: 0-9, *, #, A-D, and w for a 500 ms wait.
	Digits string `json:"dtmf"`
	// Duration is how long each key is held, in milliseconds (default 500).
	Duration int `json:"duration"`
}

var _ verbs.Verb = (*DTMF)(nil)

// New decodes a dtmf verb.
func New(attrs json.RawMessage, _ *verbs.Decoder) (verbs.Verb, error) {
	d := &DTMF{Duration: 500}
	if err := json.Unmarshal(attrs, d); err != nil {
		return nil, fmt.Errorf("dtmf: %w", err)
	}
	for _, k := range d.Digits {
		if !strings.ContainsRune("0123456789*#ABCDabcdwW", k) {
			return nil, fmt.Errorf("dtmf: %q is not a DTMF key", k)
		}
	}
	if d.Duration <= 0 || d.Duration > 5000 {
		return nil, fmt.Errorf("dtmf: duration %d ms is outside 1-5000", d.Duration)
	}
	return d, nil
}

// Name implements verbs.Verb.
func (*DTMF) Name() string { return Name }

// Run implements verbs.Verb.
func (d *DTMF) Run(ctx context.Context, call verbs.Call) (verbs.Outcome, error) {
	m, err := verbs.Need[verbs.Media](call, Name, "media")
	if err != nil {
		return verbs.Outcome{}, err
	}
	ep, err := m.Endpoint(ctx, false)
	if err != nil {
		return verbs.Outcome{}, err
	}
	for _, k := range strings.ToUpper(d.Digits) {
		if k == 'W' {
			t := time.NewTimer(500 * time.Millisecond)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return verbs.Outcome{}, nil
			}
			continue
		}
		if err := ep.SendDigit(ctx, byte(k), time.Duration(d.Duration)*time.Millisecond); err != nil {
			if ctx.Err() != nil {
				return verbs.Outcome{}, nil
			}
			return verbs.Outcome{}, fmt.Errorf("dtmf: %w", err)
		}
	}
	return verbs.Outcome{}, nil
}
