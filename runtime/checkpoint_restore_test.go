package runtime

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A session rebuilt from its checkpoint (on another node, after a restart)
// has the same state: snapshotting it before its first verb gives the same
// checkpoint back, field for field.
func TestSessionRebuiltFromItsCheckpointIsEqual(t *testing.T) {
	h := newHarness(t)
	doc := `[{"verb":"answer"},{"verb":"config","synthesizer":{"vendor":"google","voice":"en-US-Wavenet-C"}},` +
		`{"verb":"tag","data":{"lead":7,"name":"Ada"}},{"verb":"pause","length":60},{"verb":"say","text":"bye"},{"verb":"hangup"}]`
	srv := newHookServer(t, map[string]string{"/call": doc})
	leg := newFakeLeg()
	s, err := h.m.Start(context.Background(), leg, callInfo("c-restore"), h.app(srv))
	require.NoError(t, err)

	var cp Checkpoint
	require.Eventually(t, func() bool {
		cp, err = h.m.LoadCheckpoint(context.Background(), "c-restore")
		return err == nil && cp.Running != nil && cp.Running.Verb == "pause"
	}, 5*time.Second, 5*time.Millisecond)

	rebuilt, err := h.m.restore(cp, newFakeLeg(), h.app(srv))
	require.NoError(t, err)
	step, ok := rebuilt.pop()
	require.True(t, ok)
	again := rebuilt.snapshot(&step.Step)
	again.UpdatedAt, cp.UpdatedAt = time.Time{}, time.Time{}
	want, _ := json.Marshal(cp)
	got, _ := json.Marshal(again)
	require.JSONEq(t, string(want), string(got), "the rebuilt session checkpoints the same state")
	require.JSONEq(t, `{"lead":7,"name":"Ada"}`, string(again.CustomerData))
	require.Equal(t, "in-progress", again.Status)

	s.Send(Command{Kind: CommandHangup})
	waitDone(t, s)
}

// State changes write checkpoints too: a dial's B leg has one, with its
// dialog, as soon as it answers.
func TestStateChangesWriteCheckpoints(t *testing.T) {
	out := newFakeOutbound(map[string]fakeTarget{"sip:sip:b@127.0.0.1": {answerIn: 10 * time.Millisecond}})
	h := dialHarness(t, out)
	srv := newHookServer(t, map[string]string{
		"/call": `[{"verb":"dial","target":[{"type":"sip","sipUri":"sip:b@127.0.0.1"}]}]`,
	})
	leg := newFakeLeg()
	s, err := h.m.Start(context.Background(), leg, callInfo("c-cp-dial"), h.app(srv))
	require.NoError(t, err)
	var child *Session
	require.Eventually(t, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		child = s.bridged
		return child != nil
	}, 5*time.Second, 5*time.Millisecond)
	cp, err := h.m.LoadCheckpoint(context.Background(), child.CallSID())
	require.NoError(t, err)
	require.True(t, cp.Answered)
	require.Equal(t, "in-progress", cp.Status)
	require.Equal(t, "call-id-1", cp.Dialog.CallID, "the B leg's dialog, for taking it over")
	require.Equal(t, "bridge:"+child.CallSID(), mustCheckpoint(t, h, "c-cp-dial").Room)

	h.m.Control(child.CallSID(), Command{Kind: CommandHangup})
	waitDone(t, s)
	_, err = h.m.LoadCheckpoint(context.Background(), child.CallSID())
	require.Error(t, err, "an ended leg's checkpoint is removed")
}

func mustCheckpoint(t *testing.T, h *harness, sid string) Checkpoint {
	t.Helper()
	cp, err := h.m.LoadCheckpoint(context.Background(), sid)
	require.NoError(t, err)
	return cp
}
