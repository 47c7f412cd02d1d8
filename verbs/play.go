package verbs

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/voxrun/voxrun/media"
)

// Audio opens what play and say send to the call.
type Audio interface {
	// OpenURL opens an audio URL, a file, or silence_stream://<ms>, starting
	// offset into it. A missing file or a 404 is ErrAudioNotFound.
	OpenURL(ctx context.Context, url string, offset time.Duration) (Playback, error)
	// Synthesize speaks text (or SSML) with synth (a jambonz synthesizer
	// object; nil means the session's default).
	Synthesize(ctx context.Context, text string, synth json.RawMessage) (Playback, error)
}

// Playback is one opened audio: frames until io.EOF, then Close.
type Playback interface {
	media.Source
	Close() error
}

// Audio failures a verb turns into alerts.
var (
	// ErrAudioNotFound: the URL or file does not exist (play-url-notfound).
	ErrAudioNotFound = errors.New("verbs: audio not found")
	// ErrNoTTS: no usable text-to-speech engine (no-tts / tts-failure).
	ErrNoTTS = errors.New("verbs: text-to-speech unavailable")
)

// AudioOut gives a playing verb what it needs: the call's media endpoint
// (answering first, or 183 for early media) and its audio opener.
func AudioOut(ctx context.Context, call Call, verb string, earlyMedia bool) (media.Endpoint, Audio, error) {
	m, err := Need[Media](call, verb, "media")
	if err != nil {
		return nil, nil, err
	}
	a, err := Need[Audio](call, verb, "audio playback")
	if err != nil {
		return nil, nil, err
	}
	ep, err := m.Endpoint(ctx, earlyMedia)
	if err != nil {
		return nil, nil, err
	}
	return ep, a, nil
}

// PlayOn makes src the endpoint's current source and waits until src ends
// (io.EOF), ctx ends, or max elapses (0: no limit). It returns how long it
// played and whether src ran to its end. The endpoint falls back to silence
// afterwards.
func PlayOn(ctx context.Context, ep media.Endpoint, src media.Source, max time.Duration) (played time.Duration, completed bool, err error) {
	var (
		frames atomic.Int64 // counted on the media clock's goroutine, read here
		ended  = make(chan error, 1)
		once   sync.Once
	)
	finish := func(e error) { once.Do(func() { ended <- e }) }
	ep.SetSource(media.SourceFunc(func(frame []int16) error {
		err := src.ReadFrame(frame)
		if err != nil {
			if errors.Is(err, io.EOF) {
				finish(nil)
			} else {
				finish(err)
			}
			return io.EOF
		}
		frames.Add(1)
		return nil
	}))
	var timeout <-chan time.Time
	if max > 0 {
		t := time.NewTimer(max)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case err = <-ended:
		completed = err == nil
	case <-ctx.Done():
	case <-timeout:
	}
	ep.SetSource(nil)
	played = time.Duration(frames.Load()) * media.FrameDuration
	return played, completed, err
}
