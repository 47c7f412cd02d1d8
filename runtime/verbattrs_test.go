package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/verbs"
)

// recAudio opens clips of a fixed number of frames and records, in the leg's
// event list, what it opened ("open <url>", "say <text>"), so that a test
// sees it in order with the 183 and the answer.
type recAudio struct {
	leg     *fakeLeg
	frames  int
	mu      sync.Mutex
	offsets []time.Duration
}

func (a *recAudio) OpenURL(_ context.Context, url string, offset time.Duration) (verbs.Playback, error) {
	a.leg.record("open " + url)
	a.mu.Lock()
	a.offsets = append(a.offsets, offset)
	a.mu.Unlock()
	return &clip{n: a.frames}, nil
}

func (a *recAudio) Synthesize(_ context.Context, text string, _ Voice) (verbs.Playback, error) {
	a.leg.record("say " + text)
	return &clip{n: a.frames}, nil
}

func (a *recAudio) seeks() []time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]time.Duration(nil), a.offsets...)
}

// audioCall runs doc as the call hook's reply on a leg whose endpoint pulls
// a frame every period, with clips of frames frames.
type audioCall struct {
	h     *harness
	srv   *hookServer
	leg   *fakeLeg
	ep    *pullEndpoint
	audio *recAudio
	s     *Session
	start time.Time
}

func startAudioCall(t *testing.T, replies map[string]string, frames int, period time.Duration) *audioCall {
	t.Helper()
	h := newHarness(t)
	leg := newFakeLeg()
	ep := newPullEndpointEvery(period)
	t.Cleanup(func() { ep.Close() })
	audio := &recAudio{leg: leg, frames: frames}
	h.m.deps.Audio = audio
	srv := newHookServer(t, replies)
	c := &audioCall{h: h, srv: srv, leg: leg, ep: ep, audio: audio, start: time.Now()}
	s, err := h.m.Start(context.Background(), &pullLeg{fakeLeg: leg, ep: ep}, callInfo("c-attrs"), h.app(srv))
	require.NoError(t, err)
	c.s = s
	return c
}

func (c *audioCall) frames() int {
	c.ep.mu.Lock()
	defer c.ep.mu.Unlock()
	return c.ep.frames
}

func (c *audioCall) statuses() []string {
	var out []string
	for _, p := range c.srv.calls("/status") {
		out = append(out, p.Payload["call_status"].(string))
	}
	return out
}

// hookPayload is the one request the path got.
func (c *audioCall) hookPayload(t *testing.T, path string) map[string]any {
	t.Helper()
	got := c.srv.calls(path)
	require.Len(t, got, 1, "one request to %s", path)
	return got[0].Payload
}

func TestPlayAndSayAttributes(t *testing.T) {
	const fast = time.Millisecond       // 20 times faster than real time
	const paced = 20 * time.Millisecond // the RTP clock's pace
	cases := []struct {
		name   string
		doc    string
		frames int
		period time.Duration
		// events are the leg's events in order (nil: not checked).
		events   []string
		statuses []string
		check    func(t *testing.T, c *audioCall, elapsed time.Duration)
	}{
		{
			name:   "play loop 3",
			doc:    `[{"play":{"url":"https://example.com/a.wav","loop":3,"actionHook":"/p"}}]`,
			frames: 10, period: fast,
			events: []string{"answer", "open https://example.com/a.wav", "open https://example.com/a.wav", "open https://example.com/a.wav", "bye"},
			check: func(t *testing.T, c *audioCall, _ time.Duration) {
				p := c.hookPayload(t, "/p")
				require.Equal(t, "playCompleted", p["reason"])
				require.EqualValues(t, 600, p["playback_milliseconds"], "three plays of 10 frames of 20 ms")
				require.Equal(t, 30, c.frames())
			},
		},
		{
			name:   "play loop as a string",
			doc:    `[{"play":{"url":["https://example.com/a.wav","https://example.com/b.wav"],"loop":"2"}}]`,
			frames: 2, period: fast,
			events: []string{"answer", "open https://example.com/a.wav", "open https://example.com/b.wav", "open https://example.com/a.wav", "open https://example.com/b.wav", "bye"},
		},
		{
			name:   "play seekOffset applies to the first file of the first round only",
			doc:    `[{"play":{"url":["https://example.com/a.wav","https://example.com/b.wav"],"seekOffset":7.5,"loop":2,"actionHook":"/p"}}]`,
			frames: 10, period: fast,
			check: func(t *testing.T, c *audioCall, _ time.Duration) {
				require.Equal(t, []time.Duration{7500 * time.Millisecond, 0, 0, 0}, c.audio.seeks())
				p := c.hookPayload(t, "/p")
				require.Equal(t, "0.200", p["playback_last_offset_pos"], "the last file played 10 frames from its start")
				require.EqualValues(t, 800, p["playback_milliseconds"])
			},
		},
		{
			name:   "play seekOffset on one url",
			doc:    `[{"play":{"url":"https://example.com/a.wav","seekOffset":"3","actionHook":"/p"}}]`,
			frames: 10, period: fast,
			check: func(t *testing.T, c *audioCall, _ time.Duration) {
				require.Equal(t, []time.Duration{3 * time.Second}, c.audio.seeks())
				require.Equal(t, "3.200", c.hookPayload(t, "/p")["playback_last_offset_pos"], "the position in the file: offset + played")
			},
		},
		{
			name:   "play timeoutSecs stops a long file",
			doc:    `[{"play":{"url":"https://example.com/long.wav","timeoutSecs":0.4,"actionHook":"/p"}}]`,
			frames: 5000, period: paced, // 100 s of audio at the real pace
			check: func(t *testing.T, c *audioCall, elapsed time.Duration) {
				require.Less(t, elapsed, 3*time.Second, "stopped after 0.4 s, not 100 s")
				p := c.hookPayload(t, "/p")
				require.Equal(t, "playCompleted", p["reason"], "as jambonz reports a play ended by timeoutSecs")
				ms := p["playback_milliseconds"].(float64)
				require.Greater(t, ms, 100.0)
				require.LessOrEqual(t, ms, 420.0, "no more than timeoutSecs was played")
			},
		},
		{
			name:   "play timeoutSecs bounds a loop forever",
			doc:    `[{"play":{"url":"https://example.com/short.wav","loop":"forever","timeoutSecs":0.5,"actionHook":"/p"}}]`,
			frames: 5, period: paced, // 100 ms per round
			check: func(t *testing.T, c *audioCall, elapsed time.Duration) {
				require.Less(t, elapsed, 3*time.Second)
				opens := 0
				for _, e := range c.leg.Events() {
					if strings.HasPrefix(e, "open ") {
						opens++
					}
				}
				require.GreaterOrEqual(t, opens, 2, "it looped")
				ms := c.hookPayload(t, "/p")["playback_milliseconds"].(float64)
				require.LessOrEqual(t, ms, 520.0)
			},
		},
		{
			name:   "play earlyMedia plays before the answer",
			doc:    `[{"play":{"url":"https://example.com/ring.wav","earlyMedia":true}},{"verb":"answer"},{"verb":"hangup"}]`,
			frames: 10, period: fast,
			events:   []string{"183", "open https://example.com/ring.wav", "answer", "bye"},
			statuses: []string{"trying", "early-media", "in-progress", "completed"},
			check: func(t *testing.T, c *audioCall, _ time.Duration) {
				early := c.srv.calls("/status")[1].Payload
				require.EqualValues(t, 183, early["sip_status"])
				require.Equal(t, 10, c.frames(), "the early media was played in full")
			},
		},
		{
			name:   "play without earlyMedia answers first",
			doc:    `[{"play":{"url":"https://example.com/a.wav"}},{"verb":"hangup"}]`,
			frames: 1, period: fast,
			events:   []string{"answer", "open https://example.com/a.wav", "bye"},
			statuses: []string{"trying", "in-progress", "completed"},
		},
		{
			name:   "say loop",
			doc:    `[{"say":{"text":["one","two"],"loop":2}}]`,
			frames: 3, period: fast,
			events: []string{"answer", "say one", "say two", "say one", "say two", "bye"},
			check: func(t *testing.T, c *audioCall, _ time.Duration) {
				require.Equal(t, 12, c.frames())
			},
		},
		{
			name:   "say earlyMedia speaks before the answer",
			doc:    `[{"say":{"text":"please hold","earlyMedia":true}},{"say":{"text":"again","earlyMedia":true}},{"verb":"answer"},{"verb":"hangup"}]`,
			frames: 3, period: fast,
			events:   []string{"183", "say please hold", "183", "say again", "answer", "bye"},
			statuses: []string{"trying", "early-media", "in-progress", "completed"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := startAudioCall(t, map[string]string{"/call": tc.doc}, tc.frames, tc.period)
			waitDone(t, c.s)
			elapsed := time.Since(c.start)
			if tc.events != nil {
				require.Equal(t, tc.events, c.leg.Events())
			}
			if tc.statuses != nil {
				require.Equal(t, tc.statuses, c.statuses())
			}
			if tc.check != nil {
				tc.check(t, c, elapsed)
			}
		})
	}
}

// gatherDriver drives a gather: press keys once it listens, or during or
// after its prompt.
type gatherDriver func(t *testing.T, c *audioCall)

// listening waits until a gather subscribes to the call's digits.
func listening(t *testing.T, c *audioCall) {
	t.Helper()
	require.Eventually(t, func() bool {
		c.s.mu.Lock()
		defer c.s.mu.Unlock()
		return len(c.s.digitSubs) > 0
	}, 5*time.Second, time.Millisecond, "the gather listens")
}

// framesPlayed waits until the endpoint has pulled n frames.
func framesPlayed(t *testing.T, c *audioCall, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return c.frames() >= n }, 5*time.Second, time.Millisecond, "%d frames played", n)
}

// pressUntilAnswered presses key every 10 ms until the gather's result
// reaches path: the first press after the gather starts counting wins.
func pressUntilAnswered(t *testing.T, c *audioCall, key, path string) {
	t.Helper()
	require.Eventually(t, func() bool {
		if len(c.srv.calls(path)) > 0 {
			return true
		}
		c.ep.press(key)
		return false
	}, 5*time.Second, 10*time.Millisecond, "the gather ends")
}

func TestGatherAttributes(t *testing.T) {
	const promptFrames = 300 // 300 ms at the test's pace
	cases := []struct {
		name   string
		gather string // the gather's attributes, with actionHook /g
		drive  gatherDriver
		// want are fields of the action hook's payload; absent are fields
		// it must not have.
		want   map[string]any
		absent []string
		// between bounds the time from the call's start to its end.
		minTime, maxTime time.Duration
		alerts           []string
		check            func(t *testing.T, c *audioCall)
	}{
		{
			name:   "finishOnKey ends it and is not part of the digits",
			gather: `"finishOnKey":"#","timeout":10`,
			drive:  func(t *testing.T, c *audioCall) { listening(t, c); c.ep.press("12#") },
			want:   map[string]any{"digits": "12", "reason": "dtmfDetected"}, maxTime: 3 * time.Second,
		},
		{
			name:   "finishOnKey alone gives empty digits",
			gather: `"finishOnKey":"*","minDigits":2,"timeout":10`,
			drive:  func(t *testing.T, c *audioCall) { listening(t, c); c.ep.press("*") },
			want:   map[string]any{"digits": "", "reason": "dtmfDetected"}, maxTime: 3 * time.Second,
		},
		{
			name:   "maxDigits ends it",
			gather: `"maxDigits":3,"timeout":10`,
			drive:  func(t *testing.T, c *audioCall) { listening(t, c); c.ep.press("12345") },
			want:   map[string]any{"digits": "123", "reason": "dtmfDetected"}, maxTime: 3 * time.Second,
		},
		{
			name:   "numDigits ends it",
			gather: `"numDigits":2,"timeout":10`,
			drive:  func(t *testing.T, c *audioCall) { listening(t, c); c.ep.press("987") },
			want:   map[string]any{"digits": "98", "reason": "dtmfDetected"}, maxTime: 3 * time.Second,
		},
		{
			name:    "minDigits met when the wait ends",
			gather:  `"minDigits":2,"maxDigits":5,"timeout":0.4`,
			drive:   func(t *testing.T, c *audioCall) { listening(t, c); c.ep.press("12") },
			want:    map[string]any{"digits": "12", "reason": "dtmfDetected"},
			minTime: 350 * time.Millisecond, maxTime: 3 * time.Second,
		},
		{
			name:    "minDigits not met when the wait ends",
			gather:  `"minDigits":3,"timeout":0.4`,
			drive:   func(t *testing.T, c *audioCall) { listening(t, c); c.ep.press("12") },
			want:    map[string]any{"reason": "timeout"},
			minTime: 350 * time.Millisecond, maxTime: 3 * time.Second,
		},
		{
			name:    "interDigitTimeout ends it after the last digit",
			gather:  `"timeout":10,"interDigitTimeout":0.3`,
			drive:   func(t *testing.T, c *audioCall) { listening(t, c); c.ep.press("1") },
			want:    map[string]any{"digits": "1", "reason": "dtmfDetected"},
			minTime: 250 * time.Millisecond, maxTime: 3 * time.Second,
		},
		{
			name:    "timeout with no digit",
			gather:  `"timeout":0.3`,
			want:    map[string]any{"reason": "timeout", "digits": ""},
			minTime: 250 * time.Millisecond, maxTime: 3 * time.Second,
		},
		{
			name:   "timeout 0 waits without a limit",
			gather: `"timeout":0,"numDigits":1`,
			drive: func(t *testing.T, c *audioCall) {
				listening(t, c)
				time.Sleep(700 * time.Millisecond)
				require.Empty(t, c.srv.calls("/g"), "timeout 0 is no timeout (jambonz), not an immediate one")
				c.ep.press("3")
			},
			want:    map[string]any{"digits": "3", "reason": "dtmfDetected"},
			minTime: 700 * time.Millisecond, maxTime: 5 * time.Second,
		},
		{
			name:   "listenDuringPrompt false ignores digits during the prompt",
			gather: `"numDigits":1,"listenDuringPrompt":false,"timeout":10,"say":{"text":"menu"}`,
			drive: func(t *testing.T, c *audioCall) {
				framesPlayed(t, c, 20)
				c.ep.press("9")
				pressUntilAnswered(t, c, "5", "/g")
			},
			want: map[string]any{"digits": "5", "reason": "dtmfDetected"}, maxTime: 5 * time.Second,
			check: func(t *testing.T, c *audioCall) {
				require.Equal(t, promptFrames, c.frames(), "an ignored digit does not stop the prompt")
			},
		},
		{
			name:   "dtmfBargein false lets the prompt play on and keeps the digit",
			gather: `"numDigits":2,"dtmfBargein":false,"timeout":10,"say":{"text":"menu"}`,
			drive: func(t *testing.T, c *audioCall) {
				framesPlayed(t, c, 20)
				c.ep.press("4")
				framesPlayed(t, c, promptFrames) // the prompt plays to its end
				c.ep.press("2")
			},
			want: map[string]any{"digits": "42", "reason": "dtmfDetected"}, maxTime: 5 * time.Second,
		},
		{
			name:   "dtmfBargein by default stops the prompt",
			gather: `"numDigits":2,"timeout":10,"say":{"text":"menu"}`,
			drive: func(t *testing.T, c *audioCall) {
				framesPlayed(t, c, 20)
				c.ep.press("4")
				time.Sleep(100 * time.Millisecond)
				c.ep.press("2")
			},
			want: map[string]any{"digits": "42", "reason": "dtmfDetected"}, maxTime: 5 * time.Second,
			check: func(t *testing.T, c *audioCall) {
				require.Less(t, c.frames(), promptFrames, "the first digit stopped the prompt")
			},
		},
		{
			name:    "speech without a speech-to-text engine",
			gather:  `"input":["speech"],"timeout":10`,
			want:    map[string]any{"reason": "error"},
			absent:  []string{"digits", "speech"},
			maxTime: 3 * time.Second, alerts: []string{"no-stt"},
		},
		{
			name:    "digits and speech without a speech-to-text engine",
			gather:  `"input":["digits","speech"],"timeout":10`,
			want:    map[string]any{"reason": "error"},
			absent:  []string{"digits", "speech"},
			maxTime: 3 * time.Second, alerts: []string{"no-stt"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := startAudioCall(t, map[string]string{
				"/call": `[{"gather":{"actionHook":"/g",` + tc.gather + `}}]`,
				"/g":    `[{"verb":"hangup"}]`,
			}, promptFrames, time.Millisecond)
			if tc.drive != nil {
				tc.drive(t, c)
			}
			waitDone(t, c.s)
			elapsed := time.Since(c.start)
			p := c.hookPayload(t, "/g")
			for k, v := range tc.want {
				require.Equal(t, v, p[k], "payload field %s", k)
			}
			for _, k := range tc.absent {
				require.NotContains(t, p, k)
			}
			require.GreaterOrEqual(t, elapsed, tc.minTime)
			require.Less(t, elapsed, tc.maxTime)
			alerts := c.h.records.alertTypes()
			if tc.alerts == nil {
				require.Empty(t, alerts)
			} else {
				require.Equal(t, tc.alerts, alerts)
			}
			if tc.check != nil {
				tc.check(t, c)
			}
		})
	}
}

// syncBuffer is a log sink that tests read while calls write to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// notYet returns the "<verb>: attribute not supported yet; ignored" lines
// logged, as verb/attribute pairs.
func (b *syncBuffer) notYet(t *testing.T) []string {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(b.b.String()), "\n") {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec))
		msg, _ := rec["msg"].(string)
		if verb, ok := strings.CutSuffix(msg, ": attribute not supported yet; ignored"); ok {
			require.Equal(t, "WARN", rec["level"])
			out = append(out, verb+"/"+rec["attribute"].(string))
		}
	}
	return out
}

// Attributes of jambonz's schema that need a speech engine (gather's
// bargein, config's recognizer and bargeIn, ...) are accepted, never faked,
// and never silent: each one given is logged as not supported yet, on every
// call that runs it.
func TestNotYetAttributesAreLogged(t *testing.T) {
	cases := []struct {
		name string
		doc  string
		want []string
	}{
		{
			name: "config keeps recognizer and bargeIn but runs neither",
			doc: `[{"config":{"synthesizer":{"vendor":"espeak"},"recognizer":{"vendor":"google","language":"en-US"},
				"bargeIn":{"enable":true,"input":["speech"],"actionHook":"/barge"}}}]`,
			want: []string{"config/bargeIn", "config/recognizer"},
		},
		{
			name: "config synthesizer alone is run",
			doc:  `[{"config":{"synthesizer":{"vendor":"espeak"}}}]`,
		},
		{
			name: "gather speech barge-in and recognizer tuning",
			doc: `[{"gather":{"input":["digits"],"bargein":true,"recognizer":{"vendor":"google"},"speechTimeout":2,
				"partialResultHook":"/partial","minBargeinWordCount":2,"timeout":0.05,"actionHook":"/g"}}]`,
			want: []string{"gather/recognizer", "gather/speechTimeout", "gather/partialResultHook", "gather/minBargeinWordCount", "gather/bargein"},
		},
		{
			name: "gather bargein false asks for nothing",
			doc:  `[{"gather":{"bargein":false,"timeout":0.05,"actionHook":"/g"}}]`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			logs := &syncBuffer{}
			h.m.deps.Logger = slog.New(slog.NewJSONHandler(logs, nil))
			srv := newHookServer(t, map[string]string{"/call": tc.doc})
			for _, sid := range []string{"c-notyet-1", "c-notyet-2"} {
				s, err := h.m.Start(context.Background(), newFakeLeg(), callInfo(sid), h.app(srv))
				require.NoError(t, err)
				waitDone(t, s)
			}
			var want []string
			want = append(append(want, tc.want...), tc.want...) // once per call
			require.Equal(t, want, logs.notYet(t))
			require.Empty(t, h.records.alertTypes(), "a warning in the log, not an alert")
		})
	}
}
