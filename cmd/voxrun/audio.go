package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/voxrun/voxrun/media"
	"github.com/voxrun/voxrun/media/player"
	"github.com/voxrun/voxrun/media/speech"
	"github.com/voxrun/voxrun/runtime"
	"github.com/voxrun/voxrun/verbs"
)

// audio is the node's runtime.AudioProvider: media/player for URLs (through
// the guarded tenant client and the disk cache) and a text-to-speech engine.
type audio struct {
	loader  *player.Loader
	speaker *speech.Speaker
}

// offlineVendors are the synthesizer vendors the built-in offline engine
// (espeak-ng) answers for; "" is the application that named none.
var offlineVendors = map[string]bool{"": true, "default": true, "espeak": true, "espeak-ng": true}

var _ runtime.AudioProvider = (*audio)(nil)

// OpenURL implements runtime.AudioProvider.
func (a *audio) OpenURL(ctx context.Context, url string, offset time.Duration) (verbs.Playback, error) {
	p, err := a.loader.Open(ctx, url, player.Options{Loop: 1, SeekOffset: int64(offset.Seconds() * media.SampleRate)})
	if err != nil {
		if errors.Is(err, player.ErrNotFound) {
			return nil, fmt.Errorf("%w: %v", verbs.ErrAudioNotFound, err)
		}
		return nil, err
	}
	return p, nil
}

// Synthesize implements runtime.AudioProvider.
func (a *audio) Synthesize(ctx context.Context, text string, v runtime.Voice) (verbs.Playback, error) {
	if a.speaker == nil {
		return nil, fmt.Errorf("%w: no text-to-speech engine on this node", verbs.ErrNoTTS)
	}
	if !offlineVendors[v.Vendor] {
		return nil, fmt.Errorf("%w: synthesizer vendor %q has no credentials on this node (the offline engine answers for vendor \"espeak\")", verbs.ErrNoTTS, v.Vendor)
	}
	p, err := a.speaker.Say(ctx, speech.Request{Text: text, Language: v.Language, Voice: v.Voice}, player.Options{Loop: 1})
	if errors.Is(err, speech.ErrUnavailable) {
		return nil, fmt.Errorf("%w: %v", verbs.ErrNoTTS, err)
	}
	if err != nil {
		return nil, err
	}
	return p, nil
}
