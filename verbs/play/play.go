// Package play is the play verb: it plays audio files or URLs (WAV, MP3, or
// silence_stream://<ms>) to the call, in order, as often as loop says, and
// reports the playback figures to actionHook.
package play

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/voxrun/voxrun/verbs"
)

// Name is the verb's name in documents.
const Name = "play"

// Reasons reported in the action hook's "reason".
const (
	ReasonCompleted = "playCompleted"
	ReasonFailed    = "playFailed"
)

// Play is a decoded play verb.
type Play struct {
	// URL is one audio URL or file, or a list played in order.
	URL verbs.Strings `json:"url"`
	// Loop repeats the list: a count, or 0 / "forever".
	Loop verbs.Loop `json:"loop"`
	// EarlyMedia plays before the answer (183 with SDP).
	EarlyMedia bool `json:"earlyMedia"`
	// SeekOffset starts the first file this many seconds in.
	SeekOffset verbs.Seconds `json:"seekOffset"`
	// TimeoutSecs stops playback after this many seconds.
	TimeoutSecs verbs.Seconds `json:"timeoutSecs"`
	// ActionHook receives the playback figures.
	ActionHook *verbs.Hook `json:"actionHook"`
}

var _ verbs.Verb = (*Play)(nil)

// New decodes a play verb.
func New(attrs json.RawMessage, _ *verbs.Decoder) (verbs.Verb, error) {
	p := &Play{}
	if err := json.Unmarshal(attrs, p); err != nil {
		return nil, fmt.Errorf("play: %w", err)
	}
	if len(p.URL) == 0 {
		return nil, fmt.Errorf("play: url is required")
	}
	if p.SeekOffset < 0 || p.TimeoutSecs < 0 {
		return nil, fmt.Errorf("play: seekOffset and timeoutSecs must not be negative")
	}
	return p, nil
}

// Name implements verbs.Verb.
func (*Play) Name() string { return Name }

// Run implements verbs.Verb.
func (p *Play) Run(ctx context.Context, call verbs.Call) (verbs.Outcome, error) {
	ep, audio, err := verbs.AudioOut(ctx, call, Name, p.EarlyMedia)
	if err != nil {
		return verbs.Outcome{}, err
	}
	out := verbs.Outcome{ActionHook: p.ActionHook}
	var played time.Duration
	// timeoutSecs bounds the verb in wall-clock time, across every file and
	// loop, as jambonz's timer does; what is reported is what was played.
	var deadline time.Time
	if p.TimeoutSecs > 0 {
		deadline = time.Now().Add(p.TimeoutSecs.Duration())
	}
	offset := p.SeekOffset.Duration()
	lastPos := time.Duration(0)
rounds:
	for round := 0; p.Loop.Times() == 0 || round < p.Loop.Times(); round++ {
		playedBefore := played
		for _, url := range p.URL {
			if ctx.Err() != nil {
				return out, nil
			}
			if !deadline.IsZero() && time.Until(deadline) <= 0 {
				break rounds
			}
			pb, err := audio.OpenURL(ctx, url, offset)
			if err != nil {
				if ctx.Err() != nil {
					return out, nil
				}
				alertType := "play-url-failure"
				if errors.Is(err, verbs.ErrAudioNotFound) {
					alertType = "play-url-notfound"
				}
				if a, ok := call.(verbs.Alerter); ok {
					a.Alert(ctx, alertType, fmt.Sprintf("play: %s: %v", url, err))
				}
				out.Results = map[string]any{"reason": ReasonFailed, "status": "fail"}
				return out, nil
			}
			remaining := time.Duration(0)
			if !deadline.IsZero() {
				// Opening a URL takes time too; 0 would mean no limit.
				if remaining = time.Until(deadline); remaining <= 0 {
					pb.Close()
					break rounds
				}
			}
			d, completed, err := verbs.PlayOn(ctx, ep, pb, remaining)
			pb.Close()
			played += d
			lastPos = offset + d
			offset = 0
			if err != nil {
				call.Logger().Warn("play: audio failed mid-way", "url", url, "err", err)
			}
			if !completed {
				// Interrupted, timed out or failed: the verb is done.
				break rounds
			}
		}
		if p.Loop.Times() == 0 && played == playedBefore {
			// Looping forever over audio that plays nothing would spin.
			break
		}
	}
	out.Results = map[string]any{
		"reason":                   ReasonCompleted,
		"playback_seconds":         int(played / time.Second),
		"playback_milliseconds":    int(played / time.Millisecond),
		"playback_last_offset_pos": strconv.FormatFloat(lastPos.Seconds(), 'f', 3, 64),
	}
	return out, nil
}
