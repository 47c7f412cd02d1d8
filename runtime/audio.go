package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/voxrun/voxrun/verbs"
)

// Voice is a resolved text-to-speech choice.
type Voice struct {
	Vendor   string `json:"vendor,omitempty"`
	Language string `json:"language,omitempty"`
	Voice    string `json:"voice,omitempty"`
}

// AudioProvider opens what calls play: audio URLs and files, and speech.
// cmd builds it on media/player and media/speech.
type AudioProvider interface {
	// OpenURL opens an audio URL, file or silence_stream://<ms> at offset;
	// a missing one is verbs.ErrAudioNotFound.
	OpenURL(ctx context.Context, url string, offset time.Duration) (verbs.Playback, error)
	// Synthesize speaks text (or SSML); an unusable engine is verbs.ErrNoTTS.
	Synthesize(ctx context.Context, text string, v Voice) (verbs.Playback, error)
}

var _ verbs.Audio = (*Session)(nil)

// errNoAudio means the node was built without audio.
var errNoAudio = errors.New("runtime: no audio provider on this node")

// OpenURL implements verbs.Audio.
func (s *Session) OpenURL(ctx context.Context, url string, offset time.Duration) (verbs.Playback, error) {
	if s.m.deps.Audio == nil {
		return nil, errNoAudio
	}
	return s.m.deps.Audio.OpenURL(ctx, url, offset)
}

// Synthesize implements verbs.Audio. The voice is the verb's synthesizer,
// field by field over the session's (config verb), over the application's.
func (s *Session) Synthesize(ctx context.Context, text string, synth json.RawMessage) (verbs.Playback, error) {
	if s.m.deps.Audio == nil {
		return nil, fmt.Errorf("%w: %v", verbs.ErrNoTTS, errNoAudio)
	}
	v := s.app.Voice
	for _, layer := range []json.RawMessage{s.Settings().Synthesizer, synth} {
		if len(layer) == 0 {
			continue
		}
		var o Voice
		if err := json.Unmarshal(layer, &o); err != nil {
			return nil, fmt.Errorf("%w: synthesizer: %v", verbs.ErrNoTTS, err)
		}
		if o.Vendor != "" {
			v.Vendor = o.Vendor
		}
		if o.Language != "" {
			v.Language = o.Language
		}
		if o.Voice != "" {
			v.Voice = o.Voice
		}
	}
	return s.m.deps.Audio.Synthesize(ctx, text, v)
}
