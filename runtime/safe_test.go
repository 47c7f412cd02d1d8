package runtime

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/verbs"
)

// panicAudio panics when asked for audio: a bug deep in a verb's helper.
type panicAudio struct{}

func (panicAudio) OpenURL(context.Context, string, time.Duration) (verbs.Playback, error) {
	panic("audio: index out of range")
}

func (panicAudio) Synthesize(context.Context, string, Voice) (verbs.Playback, error) {
	panic("tts: nil map")
}

// A panic in a goroutine a verb or the runtime starts for a call (gather's
// prompt, a dial attempt) ends that call with an alert; the process and a
// neighbouring call carry on.
func TestPanicsInCallTasksEndOnlyThatCall(t *testing.T) {
	out := newFakeOutbound(map[string]fakeTarget{})
	h := dialHarness(t, out)
	h.m.deps.Audio = panicAudio{}
	srv := newHookServer(t, map[string]string{
		"/call":  `[{"verb":"gather","say":{"text":"press one"},"numDigits":1,"timeout":5,"actionHook":"/menu"}]`,
		"/other": `[{"verb":"pause","length":0.5},{"verb":"hangup"}]`,
	})

	neighbour := newFakeLeg()
	app := h.app(srv)
	app.CallHook.URL = srv.URL + "/other"
	n, err := h.m.Start(context.Background(), neighbour, callInfo("call-neighbour"), app)
	require.NoError(t, err)

	leg := newFakeLeg()
	s, err := h.m.Start(context.Background(), leg, callInfo("call-prompt-panic"), h.app(srv))
	require.NoError(t, err)
	waitDone(t, s)
	require.Equal(t, []string{"answer", "bye"}, leg.Events(), "the call with the panicking prompt is hung up")
	require.Contains(t, h.records.alertTypes(), "application-error")
	require.Empty(t, srv.calls("/menu"), "the gather did not report a result")

	// A panic in a dial attempt's goroutine.
	h.m.deps.Outbound = panicOutbound{}
	srv2 := newHookServer(t, map[string]string{
		"/call": `[{"verb":"dial","actionHook":"/dialed","target":[{"type":"phone","number":"+15550000001"}]},{"verb":"pause","length":5}]`,
	})
	leg2 := newFakeLeg()
	s2, err := h.m.Start(context.Background(), leg2, callInfo("call-dial-panic"), h.app(srv2))
	require.NoError(t, err)
	waitDone(t, s2)
	require.Equal(t, "bye", leg2.Events()[len(leg2.Events())-1], "the call is hung up, not left in the pause")

	waitDone(t, n)
	require.Equal(t, []string{"answer", "bye"}, neighbour.Events(), "the neighbouring call ran to its end")
}

type panicOutbound struct{}

func (panicOutbound) Place(context.Context, PlaceRequest) (Leg, error) {
	panic("outbound: nil pointer")
}
