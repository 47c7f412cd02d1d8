package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/voxrun/voxrun/media"
	"github.com/voxrun/voxrun/media/player"
	"github.com/voxrun/voxrun/runtime"
	"github.com/voxrun/voxrun/verbs"
)

// audio is the node's runtime.AudioProvider: media/player for URLs (through
// the guarded tenant client and the disk cache) and a text-to-speech engine.
type audio struct {
	loader *player.Loader
	tts    func(ctx context.Context, text string, v runtime.Voice) (verbs.Playback, error)
}

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
	if a.tts == nil {
		return nil, fmt.Errorf("%w: no text-to-speech engine on this node", verbs.ErrNoTTS)
	}
	return a.tts(ctx, text, v)
}
