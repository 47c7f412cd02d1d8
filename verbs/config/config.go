// Package config is the config verb: it changes the session's defaults
// that later verbs use. Only synthesizer is read by a verb today; the
// others (recognizer, bargeIn, notifyEvents, ...) are kept in the session's
// settings but nothing runs them yet, so each one given is logged as "not
// supported yet" when the config runs: never faked, never silent.
package config

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/voxrun/voxrun/verbs"
)

// Name is the verb's name in documents.
const Name = "config"

// Config is a decoded config verb. Attributes other than the three named ones
// are kept as given in Settings.Extra.
type Config struct {
	// Attributes are the verb's attributes as written.
	Attributes map[string]json.RawMessage `json:"attributes"`
}

var _ verbs.Verb = (*Config)(nil)

// used are the settings a verb reads today. A verb that starts reading one
// of the others (recognizer once speech engines land, bargeIn for a
// background gather) adds it here, and docs/verbs.md says so.
var used = map[string]bool{"synthesizer": true, "id": true}

// New decodes a config verb.
func New(attrs json.RawMessage, _ *verbs.Decoder) (verbs.Verb, error) {
	c := &Config{}
	if err := json.Unmarshal(attrs, &c.Attributes); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return c, nil
}

// Name implements verbs.Verb.
func (*Config) Name() string { return Name }

// Run implements verbs.Verb.
func (c *Config) Run(_ context.Context, call verbs.Call) (verbs.Outcome, error) {
	cf, err := verbs.Need[verbs.Configurer](call, Name, "session settings")
	if err != nil {
		return verbs.Outcome{}, err
	}
	s := cf.Settings()
	var ignored []string
	for k := range c.Attributes {
		if !used[k] {
			ignored = append(ignored, k)
		}
	}
	slices.Sort(ignored)
	verbs.WarnNotYet(call, Name, ignored)
	for k, v := range c.Attributes {
		switch k {
		case "synthesizer":
			s.Synthesizer = v
		case "recognizer":
			s.Recognizer = v
		case "bargeIn":
			s.BargeIn = v
		default:
			if s.Extra == nil {
				s.Extra = map[string]json.RawMessage{}
			}
			s.Extra[k] = v
		}
	}
	return verbs.Outcome{}, nil
}
