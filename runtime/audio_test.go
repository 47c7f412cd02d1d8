package runtime

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/media"
	"github.com/voxrun/voxrun/verbs"
)

// pullEndpoint pulls frames from its current source as a real clock would
// every 20 ms, but every millisecond (newPullEndpoint), so tests run
// quickly, or at another pace (newPullEndpointEvery).
type pullEndpoint struct {
	fakeEndpoint
	mu     sync.Mutex
	src    media.Source
	gen    int
	frames int
	stop   chan struct{}
	done   chan struct{}
}

func newPullEndpoint() *pullEndpoint { return newPullEndpointEvery(time.Millisecond) }

func newPullEndpointEvery(period time.Duration) *pullEndpoint {
	e := &pullEndpoint{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(e.done)
		frame := media.NewFrame()
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			select {
			case <-e.stop:
				return
			case <-t.C:
			}
			e.mu.Lock()
			src, gen := e.src, e.gen
			e.mu.Unlock()
			if src == nil {
				continue
			}
			if err := src.ReadFrame(frame); err != nil {
				e.mu.Lock()
				if e.gen == gen {
					e.src = nil
				}
				e.mu.Unlock()
				continue
			}
			e.mu.Lock()
			e.frames++
			e.mu.Unlock()
		}
	}()
	return e
}

func (e *pullEndpoint) SetSource(s media.Source) { e.mu.Lock(); e.src = s; e.gen++; e.mu.Unlock() }
func (e *pullEndpoint) Close() error             { close(e.stop); <-e.done; return nil }

// clip is a playback of n frames.
type clip struct {
	n      int
	closed bool
}

func (c *clip) ReadFrame(f []int16) error {
	if c.n == 0 {
		return io.EOF
	}
	c.n--
	return nil
}
func (c *clip) Close() error { c.closed = true; return nil }

// fakeAudio opens clips: URLs ending in /missing are not found; synthesis
// fails for vendor "broken".
type fakeAudio struct {
	mu     sync.Mutex
	voices []Voice
	urls   []string
}

func (a *fakeAudio) OpenURL(_ context.Context, url string, _ time.Duration) (verbs.Playback, error) {
	a.mu.Lock()
	a.urls = append(a.urls, url)
	a.mu.Unlock()
	if strings.HasSuffix(url, "/missing") {
		return nil, fmt.Errorf("%s: %w", url, verbs.ErrAudioNotFound)
	}
	return &clip{n: 10}, nil
}

func (a *fakeAudio) Synthesize(_ context.Context, text string, v Voice) (verbs.Playback, error) {
	a.mu.Lock()
	a.voices = append(a.voices, v)
	a.mu.Unlock()
	if v.Vendor == "broken" {
		return nil, fmt.Errorf("vendor broken: %w", verbs.ErrNoTTS)
	}
	return &clip{n: 5}, nil
}

func TestSayAndPlay(t *testing.T) {
	h := newHarness(t)
	audio := &fakeAudio{}
	h.m.deps.Audio = audio
	srv := newHookServer(t, map[string]string{
		"/call": `[
			{"verb":"config","synthesizer":{"vendor":"espeak","language":"de-DE"}},
			{"verb":"say","text":["hello","https://example.com/beep.wav"],"synthesizer":{"vendor":"espeak","voice":"de+f3"}},
			{"verb":"say","text":"never","synthesizer":{"vendor":"broken"}},
			{"verb":"play","url":["https://example.com/a.wav","silence_stream://100"],"actionHook":"/played"},
			{"verb":"play","url":"https://example.com/missing","actionHook":"/failed"},
			{"verb":"hangup"}]`,
	})
	app := h.app(srv)
	app.Voice = Voice{Vendor: "espeak", Language: "en-US", Voice: "en-us"}
	leg := newFakeLeg()
	ep := newPullEndpoint()
	defer ep.Close()
	leg.ep = &ep.fakeEndpoint
	s, err := h.m.Start(context.Background(), &pullLeg{fakeLeg: leg, ep: ep}, callInfo("c-audio"), app)
	require.NoError(t, err)
	waitDone(t, s)

	require.Equal(t, []string{"answer", "bye"}, leg.Events(), "a broken synthesizer skips the say, the call goes on")
	require.Equal(t, []Voice{
		{Vendor: "espeak", Language: "de-DE", Voice: "de+f3"},
		{Vendor: "broken", Language: "de-DE", Voice: "en-us"},
	}, audio.voices, "verb synthesizer over session config over application defaults")
	require.Equal(t, []string{"https://example.com/beep.wav", "https://example.com/a.wav", "silence_stream://100", "https://example.com/missing"}, audio.urls)

	played := srv.calls("/played")
	require.Len(t, played, 1)
	require.Equal(t, "playCompleted", played[0].Payload["reason"])
	require.EqualValues(t, 400, played[0].Payload["playback_milliseconds"], "two clips of 10 frames of 20 ms")
	failed := srv.calls("/failed")
	require.Len(t, failed, 1)
	require.Equal(t, "playFailed", failed[0].Payload["reason"])
	require.Equal(t, "fail", failed[0].Payload["status"])
	require.Contains(t, h.records.alertTypes(), "no-tts")
	require.Contains(t, h.records.alertTypes(), "play-url-notfound")
	ep.mu.Lock()
	require.Equal(t, 5+10+10+10, ep.frames)
	ep.mu.Unlock()
}

func TestGatherBargeInStopsThePrompt(t *testing.T) {
	h := newHarness(t)
	h.m.deps.Audio = &longAudio{}
	srv := newHookServer(t, map[string]string{
		"/call": `[{"verb":"gather","say":{"text":"a very long menu"},"numDigits":1,"actionHook":"/g"}]`,
		"/g":    `[{"verb":"hangup"}]`,
	})
	leg := newFakeLeg()
	ep := newPullEndpoint()
	defer ep.Close()
	pl := &pullLeg{fakeLeg: leg, ep: ep}
	s, err := h.m.Start(context.Background(), pl, callInfo("c-barge"), h.app(srv))
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		ep.mu.Lock()
		defer ep.mu.Unlock()
		return ep.frames > 5
	}, 5*time.Second, time.Millisecond, "the prompt plays")
	ep.press("7")
	waitDone(t, s)
	g := srv.calls("/g")
	require.Len(t, g, 1)
	require.Equal(t, "7", g[0].Payload["digits"])
	ep.mu.Lock()
	require.Less(t, ep.frames, 5000, "the digit stopped the 100 s prompt")
	ep.mu.Unlock()
}

// longAudio synthesises 100 s of audio.
type longAudio struct{ fakeAudio }

func (a *longAudio) Synthesize(context.Context, string, Voice) (verbs.Playback, error) {
	return &clip{n: 5000}, nil
}

// pullLeg is a fake leg whose endpoint pulls frames.
type pullLeg struct {
	*fakeLeg
	ep *pullEndpoint
}

func (l *pullLeg) Endpoint() media.Endpoint { return l.ep }
