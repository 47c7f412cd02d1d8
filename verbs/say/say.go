// Package say is the say verb: it speaks text (or SSML) through the session's
// text-to-speech engine, or an override synthesizer. A text that is a URL is
// played as audio instead, as jambonz does. A say whose engine is unusable
// raises an alert and is skipped; it never ends the call.
package say

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/voxrun/voxrun/verbs"
)

// Name is the verb's name in documents.
const Name = "say"

// Say is a decoded say verb.
type Say struct {
	// Text is one text or a list spoken in order; SSML is spoken, not read.
	Text verbs.Strings `json:"text"`
	// Synthesizer overrides the session's synthesizer for this verb.
	Synthesizer json.RawMessage `json:"synthesizer"`
	// Loop repeats the texts: a count, or 0 / "forever".
	Loop verbs.Loop `json:"loop"`
	// EarlyMedia speaks before the answer (183 with SDP).
	EarlyMedia bool `json:"earlyMedia"`
}

var _ verbs.Verb = (*Say)(nil)

// New decodes a say verb.
func New(attrs json.RawMessage, _ *verbs.Decoder) (verbs.Verb, error) {
	s := &Say{}
	if err := json.Unmarshal(attrs, s); err != nil {
		return nil, fmt.Errorf("say: %w", err)
	}
	if len(s.Text) == 0 {
		return nil, fmt.Errorf("say: text is required")
	}
	return s, nil
}

// Name implements verbs.Verb.
func (*Say) Name() string { return Name }

// isAudioURL reports whether a text item is really audio to play.
func isAudioURL(s string) bool {
	s = strings.TrimSpace(strings.ToLower(s))
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") ||
		strings.HasPrefix(s, "silence_stream://") || strings.HasPrefix(s, "file://")
}

// Run implements verbs.Verb.
func (s *Say) Run(ctx context.Context, call verbs.Call) (verbs.Outcome, error) {
	ep, audio, err := verbs.AudioOut(ctx, call, Name, s.EarlyMedia)
	if err != nil {
		return verbs.Outcome{}, err
	}
	alert := func(alertType, msg string) {
		if a, ok := call.(verbs.Alerter); ok {
			a.Alert(ctx, alertType, msg)
		}
	}
	for round := 0; s.Loop.Times() == 0 || round < s.Loop.Times(); round++ {
		for _, text := range s.Text {
			if ctx.Err() != nil {
				return verbs.Outcome{}, nil
			}
			var pb verbs.Playback
			if isAudioURL(text) {
				pb, err = audio.OpenURL(ctx, strings.TrimSpace(text), 0)
			} else {
				pb, err = audio.Synthesize(ctx, text, s.Synthesizer)
			}
			if err != nil {
				if ctx.Err() != nil {
					return verbs.Outcome{}, nil
				}
				switch {
				case errors.Is(err, verbs.ErrNoTTS):
					alert("no-tts", "say: "+err.Error())
				case errors.Is(err, verbs.ErrAudioNotFound):
					alert("play-url-notfound", "say: "+err.Error())
				default:
					alert("tts-failure", "say: "+err.Error())
				}
				return verbs.Outcome{}, nil
			}
			_, completed, err := verbs.PlayOn(ctx, ep, pb, 0)
			pb.Close()
			if err != nil {
				call.Logger().Warn("say: audio failed mid-way", "err", err)
			}
			if !completed {
				return verbs.Outcome{}, nil
			}
		}
	}
	return verbs.Outcome{}, nil
}
