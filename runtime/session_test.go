package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/voxrun/voxrun/schemas/schematest"
	"github.com/voxrun/voxrun/store"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"))
}

func TestCallGatherActionHookAndHangup(t *testing.T) {
	h := newHarness(t)
	srv := newHookServer(t, map[string]string{
		"/call": `[{"verb":"answer"},{"gather":{"actionHook":"/menu","numDigits":2,"timeout":5}},{"verb":"pause","length":30}]`,
		"/menu": `[{"verb":"tag","data":{"choice":"12"}},{"verb":"hangup","headers":{"X-Done":"yes"}}]`,
	})
	leg := newFakeLeg()
	s, err := h.m.Start(context.Background(), leg, callInfo("call-1"), h.app(srv))
	require.NoError(t, err)

	<-leg.answered
	// The gather subscribes right after the answer; press once it listens.
	require.Eventually(t, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return len(s.digitSubs) > 0
	}, 5*time.Second, 5*time.Millisecond)
	leg.ep.press("12")
	waitDone(t, s)

	require.Equal(t, []string{"answer", "bye"}, leg.Events(), "the action hook's document replaced the pause")
	require.Equal(t, map[string]string{"X-Done": "yes"}, leg.headers)

	first := srv.calls("/call")
	require.Len(t, first, 1)
	p := first[0].Payload
	require.Equal(t, "call-1", p["call_sid"])
	require.Equal(t, "inbound", p["direction"])
	require.Equal(t, "<sip:+15551230000@10.0.0.1>", p["from"])
	require.Equal(t, "trying", p["call_status"])
	require.Equal(t, map[string]any{"greeting": "hi"}, p["env_vars"])
	require.NotEmpty(t, first[0].Sig, "every hook is signed")

	menu := srv.calls("/menu")
	require.Len(t, menu, 1, "a relative actionHook resolves against the call hook")
	require.Equal(t, "12", menu[0].Payload["digits"])
	require.Equal(t, "dtmfDetected", menu[0].Payload["reason"])
	require.Equal(t, "in-progress", menu[0].Payload["call_status"])

	var statuses []string
	for _, c := range srv.calls("/status") {
		statuses = append(statuses, c.Payload["call_status"].(string))
	}
	require.Equal(t, []string{"trying", "in-progress", "completed"}, statuses)
	final := srv.calls("/status")[2].Payload
	require.Equal(t, "jambonz", final["call_termination_by"])
	require.Contains(t, final, "duration")
	require.Equal(t, map[string]any{"choice": "12"}, final["customerData"], "tag replaced customerData")

	// Every payload passes jambonz's own callback schemas (@jambonz/schema).
	dir := t.TempDir()
	checks := map[string]string{}
	add := func(callback string, i int, p map[string]any) {
		b, err := json.Marshal(p)
		require.NoError(t, err)
		name := dir + "/" + callback + "-" + string(rune('a'+i)) + ".json"
		require.NoError(t, os.WriteFile(name, b, 0o600))
		checks[name] = callback
	}
	add("session-new", 0, p)
	add("gather", 0, menu[0].Payload)
	for i, c := range srv.calls("/status") {
		add("call-status", i, c.Payload)
	}
	for file, v := range schematest.Callbacks(t, checks) {
		require.True(t, v.Valid, "%s: %s", file, v.Error)
	}

	require.Len(t, h.records.cdrs, 1)
	cdr := h.records.cdrs[0]
	require.Equal(t, "call-1", cdr.CallSID)
	require.True(t, cdr.Answered)
	require.Equal(t, "inbound", cdr.Direction)
	require.Equal(t, "application", cdr.TerminationReason)

	call, err := h.live.GetCall(context.Background(), "acct-1", "call-1")
	require.NoError(t, err)
	require.Equal(t, "completed", call["call_status"])
	require.Equal(t, "node-1", call["node"])
	_, err = h.live.GetValue(context.Background(), checkpointKey("call-1"))
	require.ErrorIs(t, err, store.ErrNotFound, "the checkpoint goes when the call ends")
}

func TestFirstHookFailures(t *testing.T) {
	cases := []struct {
		name      string
		reply     string
		alert     string
		reasonHas string
	}{
		{"status 500", "500", "webhook-failure", "status 500"},
		{"invalid json", `[{"verb":`, "webhook-failure", "not valid JSON"},
		{"schema-invalid", `[{"verb":"gather","numDigits":"many"}]`, "invalid-app-payload", "/0"},
		{"unknown verb", `[{"verb":"teleport"}]`, "invalid-app-payload", "teleport"},
		{"empty document", `[]`, "invalid-app-payload", "no verbs"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			srv := newHookServer(t, map[string]string{"/call": tc.reply})
			leg := newFakeLeg()
			s, err := h.m.Start(context.Background(), leg, callInfo("c-"+tc.name), h.app(srv))
			require.NoError(t, err)
			waitDone(t, s)
			require.Equal(t, []string{"reject"}, leg.Events())
			require.Equal(t, 480, leg.rejected)
			require.Contains(t, leg.headers["X-Reason"], tc.reasonHas)
			require.Contains(t, h.records.alertTypes(), tc.alert)
			require.Len(t, h.records.cdrs, 1)
			require.Equal(t, 480, h.records.cdrs[0].SIPStatus)
			require.False(t, h.records.cdrs[0].Answered)
		})
	}
}

func TestFirstHookConnectionFailureUsesFallback(t *testing.T) {
	h := newHarness(t)
	srv := newHookServer(t, map[string]string{"/fallback": `[{"verb":"sip:decline","status":486,"reason":"Busy Here"}]`})
	app := h.app(srv)
	app.CallHook.URL = "http://127.0.0.1:1/call"
	fb := app.CallHook
	fb.URL = srv.URL + "/fallback"
	app.FallbackHook = &fb
	leg := newFakeLeg()
	s, err := h.m.Start(context.Background(), leg, callInfo("c-fb"), app)
	require.NoError(t, err)
	waitDone(t, s)
	require.Equal(t, []string{"reject"}, leg.Events())
	require.Equal(t, 486, leg.rejected)
	require.Contains(t, h.records.alertTypes(), "webhook-connection-failure")
	require.Equal(t, "busy", srv.calls("/status")[len(srv.calls("/status"))-1].Payload["call_status"])
}

func TestFarEndHangupCancelsTheVerb(t *testing.T) {
	h := newHarness(t)
	srv := newHookServer(t, map[string]string{"/call": `[{"verb":"answer"},{"verb":"pause","length":60},{"verb":"hangup"}]`})
	leg := newFakeLeg()
	s, err := h.m.Start(context.Background(), leg, callInfo("c-bye"), h.app(srv))
	require.NoError(t, err)
	<-leg.answered
	start := time.Now()
	leg.farEndHangsUp()
	waitDone(t, s)
	require.Less(t, time.Since(start), 2*time.Second)
	require.Equal(t, []string{"answer"}, leg.Events(), "no BYE is sent back for the far end's BYE")
	require.Equal(t, "caller", h.records.cdrs[0].TerminationReason)
}

func TestLiveControlHangupAndRedirect(t *testing.T) {
	h := newHarness(t)
	srv := newHookServer(t, map[string]string{"/call": `[{"verb":"answer"},{"verb":"pause","length":60}]`})

	leg := newFakeLeg()
	s, err := h.m.Start(context.Background(), leg, callInfo("c-ctl"), h.app(srv))
	require.NoError(t, err)
	<-leg.answered
	require.True(t, s.Send(Command{Kind: CommandRedirect, Document: json.RawMessage(`[{"verb":"dtmf","dtmf":"9","duration":100},{"verb":"pause","length":60}]`)}))
	require.Eventually(t, func() bool {
		leg.ep.mu.Lock()
		defer leg.ep.mu.Unlock()
		return string(leg.ep.sent) == "9"
	}, 5*time.Second, 5*time.Millisecond, "the redirected document runs")
	require.True(t, s.Send(Command{Kind: CommandHangup}))
	waitDone(t, s)
	require.Equal(t, []string{"answer", "bye"}, leg.Events())
	require.False(t, s.Send(Command{Kind: CommandHangup}), "an ended call takes no commands")
}

func TestCheckpointRoundTrip(t *testing.T) {
	h := newHarness(t)
	doc := `[{"verb":"answer"},{"verb":"config","synthesizer":{"vendor":"google"}},{"verb":"pause","length":60},{"verb":"tag","data":{"a":1}},{"verb":"hangup"}]`
	srv := newHookServer(t, map[string]string{"/call": doc})
	leg := newFakeLeg()
	s, err := h.m.Start(context.Background(), leg, callInfo("c-cp"), h.app(srv))
	require.NoError(t, err)

	var cp Checkpoint
	require.Eventually(t, func() bool {
		cp, err = h.m.LoadCheckpoint(context.Background(), "c-cp")
		return err == nil && cp.Running != nil && cp.Running.Verb == "pause"
	}, 5*time.Second, 5*time.Millisecond)

	require.Equal(t, "c-cp", cp.CallSID)
	require.True(t, cp.Answered)
	require.Equal(t, "call-id-1", cp.Dialog.CallID)
	require.JSONEq(t, `{"vendor":"google"}`, string(cp.Settings.Synthesizer))
	require.Len(t, cp.Remaining, 2)

	entries, err := h.m.Resume(cp)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Verb.Name())
	}
	require.Equal(t, []string{"pause", "tag", "hangup"}, names, "the running verb restarts, then the rest")

	// Encoding the rebuilt state gives the same checkpoint.
	b1, _ := json.Marshal(cp.Remaining)
	var steps []json.RawMessage
	for _, e := range entries[1:] {
		b, _ := json.Marshal(e.Step)
		steps = append(steps, b)
	}
	b2, _ := json.Marshal(steps)
	require.JSONEq(t, string(b1), string(b2))

	s.Send(Command{Kind: CommandHangup})
	waitDone(t, s)
}

func TestPanicInOneCallLeavesOthersRunning(t *testing.T) {
	h := newHarness(t)
	srv := newHookServer(t, map[string]string{"/call": `[{"verb":"answer"},{"verb":"pause","length":0.2},{"verb":"hangup"}]`})

	bad := newFakeLeg()
	bad.panicOn = "answer"
	good := newFakeLeg()
	s1, err := h.m.Start(context.Background(), bad, callInfo("c-bad"), h.app(srv))
	require.NoError(t, err)
	s2, err := h.m.Start(context.Background(), good, callInfo("c-good"), h.app(srv))
	require.NoError(t, err)
	waitDone(t, s1)
	waitDone(t, s2)
	require.Equal(t, []string{"answer", "bye"}, good.Events())
	require.Contains(t, h.records.alertTypes(), "application-error")
	require.Len(t, h.records.cdrs, 2)
}

func TestEmptyStackHangsUpAndPreconditions(t *testing.T) {
	h := newHarness(t)
	srv := newHookServer(t, map[string]string{
		"/call": `[{"verb":"alert","message":"info=alert-internal"},{"verb":"answer"},{"verb":"alert","message":"answered now"},{"verb":"sip:decline","status":603}]`,
	})
	leg := newFakeLeg()
	s, err := h.m.Start(context.Background(), leg, callInfo("c-pre"), h.app(srv))
	require.NoError(t, err)
	waitDone(t, s)
	require.Equal(t, []string{"180", "answer", "bye"}, leg.Events(), "alert rings only before the answer; sip:decline after the answer is refused; the empty stack hangs up")
	require.Equal(t, "info=alert-internal", leg.ringHeaders["Alert-Info"])
	types := h.records.alertTypes()
	require.Contains(t, types, "application-error")
	n := 0
	for _, t := range types {
		if t == "alert-from-application" {
			n++
		}
	}
	require.Equal(t, 2, n, "each alert verb records its message, as jambonz does")
}

func TestDrainRefusesNewCallsAndEndsRunningOnes(t *testing.T) {
	h := newHarness(t)
	srv := newHookServer(t, map[string]string{"/call": `[{"verb":"answer"},{"verb":"pause","length":60}]`})
	leg := newFakeLeg()
	s, err := h.m.Start(context.Background(), leg, callInfo("c-drain"), h.app(srv))
	require.NoError(t, err)
	<-leg.answered
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	h.m.Drain(ctx)
	waitDone(t, s)
	require.Equal(t, 0, h.m.Active())
	_, err = h.m.Start(context.Background(), newFakeLeg(), callInfo("c-late"), h.app(srv))
	require.True(t, errors.Is(err, ErrDraining))
}
