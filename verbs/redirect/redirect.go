// Package redirect is the redirect verb: it asks the application for a new
// document at actionHook; a reply with verbs replaces the rest of the stack.
package redirect

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/voxrun/voxrun/verbs"
)

// Name is the verb's name in documents.
const Name = "redirect"

// Redirect is a decoded redirect verb.
type Redirect struct {
	// ActionHook is where the new document comes from.
	ActionHook *verbs.Hook `json:"actionHook"`
}

var _ verbs.Verb = (*Redirect)(nil)

// New decodes a redirect verb.
func New(attrs json.RawMessage, _ *verbs.Decoder) (verbs.Verb, error) {
	r := &Redirect{}
	if err := json.Unmarshal(attrs, r); err != nil {
		return nil, fmt.Errorf("redirect: %w", err)
	}
	if r.ActionHook == nil || r.ActionHook.URL == "" {
		return nil, fmt.Errorf("redirect: actionHook is required")
	}
	return r, nil
}

// Name implements verbs.Verb.
func (*Redirect) Name() string { return Name }

// Run implements verbs.Verb.
func (r *Redirect) Run(context.Context, verbs.Call) (verbs.Outcome, error) {
	return verbs.Outcome{ActionHook: r.ActionHook}, nil
}
