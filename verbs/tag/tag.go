// Package tag is the tag verb: it replaces the call's customerData, which
// every later hook of the call carries.
package tag

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/voxrun/voxrun/verbs"
)

// Name is the verb's name in documents.
const Name = "tag"

// Tag is a decoded tag verb.
type Tag struct {
	// Data is the new customerData: any JSON object.
	Data json.RawMessage `json:"data"`
}

var _ verbs.Verb = (*Tag)(nil)

// New decodes a tag verb.
func New(attrs json.RawMessage, _ *verbs.Decoder) (verbs.Verb, error) {
	t := &Tag{}
	if err := json.Unmarshal(attrs, t); err != nil {
		return nil, fmt.Errorf("tag: %w", err)
	}
	return t, nil
}

// Name implements verbs.Verb.
func (*Tag) Name() string { return Name }

// Run implements verbs.Verb.
func (t *Tag) Run(_ context.Context, call verbs.Call) (verbs.Outcome, error) {
	tg, err := verbs.Need[verbs.Tagger](call, Name, "customerData")
	if err != nil {
		return verbs.Outcome{}, err
	}
	tg.Tag(t.Data)
	return verbs.Outcome{}, nil
}
