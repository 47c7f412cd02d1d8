package runtime

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/apps"
	"github.com/voxrun/voxrun/media"
	"github.com/voxrun/voxrun/media/clock"
	"github.com/voxrun/voxrun/media/mediatest"
	"github.com/voxrun/voxrun/verbs"
)

// toneAudio plays frames of a tone for every URL and every text.
type toneAudio struct{ frames int }

type tonePlayback struct{ left int }

func (p *tonePlayback) ReadFrame(f []int16) error {
	if p.left == 0 {
		return io.EOF
	}
	p.left--
	copy(f, mediatest.Tone(440, 8000, len(f)))
	return nil
}
func (p *tonePlayback) Close() error { return nil }

func (a toneAudio) OpenURL(context.Context, string, time.Duration) (verbs.Playback, error) {
	return &tonePlayback{left: a.frames}, nil
}
func (a toneAudio) Synthesize(context.Context, string, Voice) (verbs.Playback, error) {
	return &tonePlayback{left: a.frames}, nil
}

func newSimulator(t *testing.T, h *harness) *Simulator {
	t.Helper()
	clk := clock.New(clock.Config{})
	t.Cleanup(func() { clk.Close() })
	h.m.deps.Audio = toneAudio{frames: 10}
	return NewSimulator(h.m, SimulatorConfig{Clock: clk})
}

// watch returns the call's events from its first, until its end.
func watch(t *testing.T, x *Simulation) <-chan Event {
	backlog, live, cancel := x.Subscribe()
	t.Cleanup(cancel)
	events := make(chan Event, 1024)
	for _, e := range backlog {
		events <- e
	}
	go func() {
		for e := range live {
			events <- e
		}
		close(events)
	}()
	return events
}

// next reads events until one of type typ (and kind, when given) arrives.
func next(t *testing.T, ch <-chan Event, typ, kind string) Event {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case e, ok := <-ch:
			require.True(t, ok, "events ended before %s %s", typ, kind)
			if e.Type == typ && (kind == "" || e.Kind == kind) {
				return e
			}
		case <-deadline:
			t.Fatalf("no %s %s event within 5s", typ, kind)
		}
	}
}

func TestSimulatedCallTimelineKeypadAndAudio(t *testing.T) {
	h := newHarness(t)
	sm := newSimulator(t, h)
	srv := newHookServer(t, map[string]string{
		"/call": `[{"verb":"gather","actionHook":"/menu","numDigits":1,"timeout":10,"say":{"text":"press one"}}]`,
		"/menu": `[{"verb":"say","text":"you pressed one"},{"verb":"hangup"}]`,
	})
	x, err := sm.Start(context.Background(), callInfo("sim-a"), h.app(srv))
	require.NoError(t, err)
	events := watch(t, x)

	req := next(t, events, EventHookRequest, "session:new")
	require.Equal(t, srv.URL+"/call", req.URL)
	var payload map[string]any
	require.NoError(t, json.Unmarshal(req.Data, &payload))
	require.Equal(t, "sim-a", payload["call_sid"])
	reply := next(t, events, EventHookReply, "session:new")
	require.Equal(t, 200, reply.Status)
	require.Positive(t, reply.LatencyMS)
	require.JSONEq(t, `[{"verb":"gather","actionHook":"/menu","numDigits":1,"timeout":10,"say":{"text":"press one"}}]`, string(reply.Data))
	start := next(t, events, EventVerbStart, "")
	require.Equal(t, "gather", start.Verb)
	require.Contains(t, string(start.Data), `"actionHook":"/menu"`)
	next(t, events, EventLeg, "answered")
	audio := next(t, events, EventAudio, "")
	require.Equal(t, 1, audio.Clip)
	require.InDelta(t, 200, audio.Duration, 0.1, "ten 20 ms frames")

	require.NoError(t, x.Press(context.Background(), "1"))
	d := next(t, events, EventDTMF, "")
	require.Equal(t, "1", d.Digit)
	end := next(t, events, EventVerbEnd, "")
	require.Equal(t, "gather", end.Verb)
	require.JSONEq(t, `{"digits":"1","reason":"dtmfDetected"}`, string(end.Data))
	hook := next(t, events, EventHookRequest, "verb:hook")
	require.Equal(t, srv.URL+"/menu", hook.URL)
	require.Equal(t, "say", next(t, events, EventVerbStart, "").Verb)
	require.Equal(t, 2, next(t, events, EventAudio, "").Clip)
	require.Equal(t, "hangup", next(t, events, EventVerbStart, "").Verb)
	next(t, events, EventLeg, "hungup")
	last := next(t, events, EventEnd, "")
	require.Equal(t, StatusCompleted, last.Kind)
	<-x.Done()

	wav, ok := x.ClipWAV(1)
	require.True(t, ok)
	require.Equal(t, "RIFF", string(wav[:4]))
	require.Equal(t, uint32(10*media.FrameSamples*2), binary.LittleEndian.Uint32(wav[40:]))
	_, ok = x.ClipWAV(3)
	require.False(t, ok)

	tr := x.Transcript()
	require.False(t, tr.Running)
	require.False(t, tr.Failed)
	require.Equal(t, StatusCompleted, tr.CallStatus)
	require.Equal(t, 2, tr.Clips)
	for i, e := range tr.Events {
		require.Equal(t, i+1, e.Seq, "events are numbered in order")
	}
	require.ErrorIs(t, x.Press(context.Background(), "2"), ErrSimulationEnded)
	got, ok := sm.Get("sim-a")
	require.True(t, ok)
	require.Same(t, x, got)
	require.Len(t, sm.List("acct-1"), 1)
	require.Len(t, h.records.cdrs, 1, "a simulated call writes its CDR like any call")
	require.Equal(t, "simulator", h.records.cdrs[0].Trunk)
}

func TestSimulatedSpeechCompletesAGather(t *testing.T) {
	h := newHarness(t)
	sm := newSimulator(t, h)
	srv := newHookServer(t, map[string]string{
		"/call":   `[{"verb":"gather","input":["speech"],"actionHook":"/speech","timeout":10}]`,
		"/speech": `[{"verb":"hangup"}]`,
	})
	x, err := sm.Start(context.Background(), callInfo("sim-s"), h.app(srv))
	require.NoError(t, err)
	next(t, watch(t, x), EventVerbStart, "")
	// The gather subscribes as it starts; a result said before is ignored.
	require.Eventually(t, func() bool {
		if len(srv.calls("/speech")) == 1 {
			return true
		}
		_ = x.Speak("sales")
		return false
	}, 5*time.Second, 50*time.Millisecond)
	<-x.Done()
	p := srv.calls("/speech")[0].Payload
	require.Equal(t, "speechDetected", p["reason"])
	sp := p["speech"].(map[string]any)
	require.Equal(t, true, sp["is_final"])
	alt := sp["alternatives"].([]any)[0].(map[string]any)
	require.Equal(t, "sales", alt["transcript"])
	require.NotContains(t, h.records.alertTypes(), "no-stt")
	require.ErrorIs(t, x.Speak("again"), ErrSimulationEnded)
}

func TestSimulatedCallOfAFailingApp(t *testing.T) {
	h := newHarness(t)
	sm := newSimulator(t, h)
	srv := newHookServer(t, map[string]string{"/call": "500"})
	x, err := sm.Start(context.Background(), callInfo("sim-f"), h.app(srv))
	require.NoError(t, err)
	<-x.Done()
	tr := x.Transcript()
	require.True(t, tr.Failed)
	require.Equal(t, StatusFailed, tr.CallStatus)
	var reject, reply *Event
	for i, e := range tr.Events {
		switch {
		case e.Type == EventLeg && e.Kind == "rejected":
			reject = &tr.Events[i]
		case e.Type == EventHookReply && e.Kind == "session:new":
			reply = &tr.Events[i]
		}
	}
	require.NotNil(t, reject)
	require.Equal(t, 480, reject.Status)
	require.NotNil(t, reply)
	require.Equal(t, 500, reply.Status)
	require.Contains(t, reply.Error, "status 500")
	require.Equal(t, EventEnd, tr.Events[len(tr.Events)-1].Type)
}

func TestSimulatorLimitsRunningCalls(t *testing.T) {
	h := newHarness(t)
	clk := mediatest.NewManualClock(time.Unix(0, 0))
	sm := NewSimulator(h.m, SimulatorConfig{Clock: clk, MaxRunning: 1})
	srv := newHookServer(t, map[string]string{"/call": `[{"verb":"pause","length":30}]`})
	x, err := sm.Start(context.Background(), callInfo("sim-1"), h.app(srv))
	require.NoError(t, err)
	_, err = sm.Start(context.Background(), callInfo("sim-2"), h.app(srv))
	require.ErrorIs(t, err, ErrTooManySimulations)
	x.HangUp()
	<-x.Done()
	require.Eventually(t, func() bool {
		y, err := sm.Start(context.Background(), callInfo("sim-3"), h.app(srv))
		if err != nil {
			return false
		}
		y.HangUp()
		<-y.Done()
		return true
	}, 5*time.Second, 10*time.Millisecond)
}

// An unobserved call pays nothing for observation.
func TestUnobservedCallsDoNotAllocateForEvents(t *testing.T) {
	var o *observation
	e := verbs.Entry{}
	out := verbs.Outcome{Results: map[string]any{"a": 1}}
	allocs := testing.AllocsPerRun(100, func() {
		o.verbStart(e)
		o.verbEnd(e, out, nil)
		o.status("in-progress", 200)
		o.alert("x", "y")
		o.digit(media.Digit{Key: '1'})
	})
	require.Zero(t, allocs)
}

// scriptedApp answers every request with the same reply: a JS app's logs
// and state come with its verbs.
type scriptedApp struct{ reply apps.Reply }

func (a scriptedApp) Send(context.Context, apps.Request) (apps.Reply, error) { return a.reply, nil }

func TestSimulatedCallShowsAppLogsAndState(t *testing.T) {
	h := newHarness(t)
	sm := newSimulator(t, h)
	app := Application{ApplicationSID: "app-js", AccountSID: "acct-1", CallHook: apps.Hook{URL: "js:call"},
		App: scriptedApp{apps.Reply{Verbs: json.RawMessage(`[{"verb":"hangup"}]`),
			Logs:  []apps.LogLine{{Level: "info", Message: "call from +1555"}, {Level: "warn", Message: "no name"}},
			State: json.RawMessage(`{"step":1}`)}}}
	x, err := sm.Start(context.Background(), callInfo("sim-js"), app)
	require.NoError(t, err)
	<-x.Done()
	var logs []string
	var state string
	for _, e := range x.Transcript().Events {
		switch e.Type {
		case EventLog:
			logs = append(logs, e.Kind+": "+e.Message)
		case EventState:
			state = string(e.Data)
		}
	}
	require.Equal(t, []string{"info: call from +1555", "warn: no name"}, logs)
	require.JSONEq(t, `{"step":1}`, state)
}

// Unknown attributes are a warning in the timeline, not a failed app.
func TestSimulatedCallWarningIsNotAFailure(t *testing.T) {
	h := newHarness(t)
	sm := newSimulator(t, h)
	srv := newHookServer(t, map[string]string{"/call": `[{"verb":"hangup","colour":"blue"}]`})
	x, err := sm.Start(context.Background(), callInfo("sim-w"), h.app(srv))
	require.NoError(t, err)
	<-x.Done()
	tr := x.Transcript()
	require.False(t, tr.Failed)
	found := false
	for _, e := range tr.Events {
		found = found || (e.Type == EventAlert && strings.HasSuffix(e.Kind, "-warning"))
	}
	require.True(t, found, "the warning is in the timeline")
}
