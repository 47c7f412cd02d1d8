package runtime

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/media/clock"
	"github.com/voxrun/voxrun/schemas/schematest"
	"github.com/voxrun/voxrun/verbs"
)

// fakeTarget is how a fake outbound target behaves.
type fakeTarget struct {
	ring     bool          // send 180 at once
	early    bool          // send 183 with early media at once
	answerIn time.Duration // answer after this long (0: never)
	fail     int           // fail at once with this status
}

// fakeOutbound places calls to scripted targets and keeps their legs.
type fakeOutbound struct {
	targets map[string]fakeTarget
	mu      sync.Mutex
	legs    map[string]*fakeLeg // by target key
	reqs    []PlaceRequest
	cancels map[string]bool
}

func newFakeOutbound(targets map[string]fakeTarget) *fakeOutbound {
	return &fakeOutbound{targets: targets, legs: map[string]*fakeLeg{}, cancels: map[string]bool{}}
}

func (o *fakeOutbound) Place(ctx context.Context, req PlaceRequest) (Leg, error) {
	key := req.Target.Key()
	o.mu.Lock()
	o.reqs = append(o.reqs, req)
	o.mu.Unlock()
	t := o.targets[key]
	if t.fail != 0 {
		return nil, &PlaceError{Status: t.fail, Reason: "scripted"}
	}
	if t.ring {
		req.OnProvisional(180)
	}
	if t.early {
		req.OnProvisional(183)
		req.OnEarlyMedia(&fakeEndpoint{})
	}
	var answer <-chan time.Time
	if t.answerIn > 0 {
		answer = time.After(t.answerIn)
	}
	select {
	case <-answer:
		l := newFakeLeg()
		o.mu.Lock()
		o.legs[key] = l
		o.mu.Unlock()
		return l, nil
	case <-ctx.Done():
		o.mu.Lock()
		o.cancels[key] = true
		o.mu.Unlock()
		return nil, &PlaceError{Status: 487, Reason: "Request Terminated", Err: ctx.Err()}
	}
}

func (o *fakeOutbound) leg(key string) *fakeLeg {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.legs[key]
}

func (o *fakeOutbound) cancelled(key string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.cancels[key]
}

// dialHarness is a harness whose manager can call out and bridge.
func dialHarness(t *testing.T, out *fakeOutbound) *harness {
	h := newHarness(t)
	clk := clock.New(clock.Config{})
	t.Cleanup(func() { _ = clk.Close() })
	h.m.deps.Outbound = out
	h.m.deps.Clock = clk
	return h
}

// statusesBySID groups the status hook's call_status values by call_sid.
func statusesBySID(srv *hookServer) map[string][]string {
	out := map[string][]string{}
	for _, c := range srv.calls("/status") {
		sid := c.Payload["call_sid"].(string)
		out[sid] = append(out[sid], c.Payload["call_status"].(string))
	}
	return out
}

func TestDialRingsAllAndBridgesTheFirstToAnswer(t *testing.T) {
	out := newFakeOutbound(map[string]fakeTarget{
		"phone:+15550000001":    {fail: 486},
		"sip:sip:bob@127.0.0.1": {ring: true, answerIn: 150 * time.Millisecond},
		"user:carol":            {ring: true},
	})
	h := dialHarness(t, out)
	srv := newHookServer(t, map[string]string{
		"/call": `[{"verb":"dial","callerId":"+15551112222","actionHook":"/dialed","headers":{"X-Who":"test","X-N":3},
			"tag":{"campaign":"x"},
			"target":[{"type":"phone","number":"+15550000001"},{"type":"sip","sipUri":"sip:bob@127.0.0.1","headers":{"X-Who":"bob"}},
			{"type":"user","name":"carol"},{"type":"user","name":"carol"}]},
			{"verb":"hangup"}]`,
	})
	leg := newFakeLeg()
	s, err := h.m.Start(context.Background(), leg, callInfo("call-dial"), h.app(srv))
	require.NoError(t, err)

	require.Eventually(t, func() bool { return out.leg("sip:sip:bob@127.0.0.1") != nil }, 5*time.Second, 5*time.Millisecond)
	require.Eventually(t, func() bool { return out.cancelled("user:carol") }, 5*time.Second, 5*time.Millisecond,
		"the others are cancelled when one answers")
	time.Sleep(100 * time.Millisecond) // bridged for a moment
	out.leg("sip:sip:bob@127.0.0.1").farEndHangsUp()
	waitDone(t, s)

	require.Equal(t, []string{"answer", "bye"}, leg.Events(), "answered before dialling; the stack went on after the bridge")
	out.mu.Lock()
	require.Len(t, out.reqs, 3, "a duplicate target is rung once")
	for _, r := range out.reqs {
		require.Equal(t, "+15551112222", r.From)
		require.Equal(t, "3", r.Headers["X-N"])
		if r.Target.Type == "sip" {
			require.Equal(t, "bob", r.Headers["X-Who"], "a target's header wins")
		}
	}
	out.mu.Unlock()

	dialed := srv.calls("/dialed")
	require.Len(t, dialed, 1)
	p := dialed[0].Payload
	require.Equal(t, "completed", p["dial_call_status"])
	require.EqualValues(t, 200, p["dial_sip_status"])
	winner := p["dial_call_sid"].(string)
	require.NotEmpty(t, winner)
	require.Contains(t, p, "duration")

	st := statusesBySID(srv)
	require.Equal(t, []string{"trying", "ringing", "in-progress", "completed"}, st[winner], "the B leg sends its own status events")
	var busy, cancelled int
	for sid, seq := range st {
		if sid == "call-dial" || sid == winner {
			continue
		}
		switch seq[len(seq)-1] {
		case "busy":
			busy++
		case "no-answer":
			cancelled++
		}
	}
	require.Equal(t, 1, busy)
	require.Equal(t, 1, cancelled)
	for _, c := range srv.calls("/status") {
		if c.Payload["call_sid"] == winner {
			require.Equal(t, "call-dial", c.Payload["parent_call_sid"])
			require.Equal(t, "outbound", c.Payload["direction"])
			require.Equal(t, map[string]any{"campaign": "x"}, c.Payload["customerData"])
		}
	}
	h.records.mu.Lock()
	require.Len(t, h.records.cdrs, 4, "one CDR per leg")
	h.records.mu.Unlock()

	// The payloads pass voxrun's hook schemas and jambonz's own callback
	// schemas (@jambonz/schema).
	checks := map[string]map[string]any{"dial": p}
	for i, c := range srv.calls("/status") {
		checks[fmt.Sprintf("call-status#%d", i)] = c.Payload
	}
	requireCallbacks(t, h, checks)
}

// requireCallbacks validates hook payloads (named "<callback>[#n]") with
// voxrun's hook schemas and with jambonz's callback schemas.
func requireCallbacks(t *testing.T, h *harness, payloads map[string]map[string]any) {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{}
	for name, p := range payloads {
		callback, _, _ := strings.Cut(name, "#")
		b, err := json.Marshal(p)
		require.NoError(t, err)
		require.NoError(t, h.validator.ValidateHook(callback, b), "%s: voxrun's schema", name)
		f := filepath.Join(dir, strings.ReplaceAll(name, "#", "-")+".json")
		require.NoError(t, os.WriteFile(f, b, 0o600))
		files[f] = callback
	}
	for file, v := range schematest.Callbacks(t, files) {
		require.True(t, v.Valid, "%s: jambonz's schema: %s", file, v.Error)
	}
}

func TestDialNoAnswerTimesOut(t *testing.T) {
	out := newFakeOutbound(map[string]fakeTarget{"phone:+15550000009": {ring: true}})
	h := dialHarness(t, out)
	srv := newHookServer(t, map[string]string{
		"/call":   `[{"verb":"dial","timeout":0.3,"actionHook":"/dialed","target":[{"type":"phone","number":"+15550000009"}]}]`,
		"/dialed": `[{"verb":"say","text":"nobody home"},{"verb":"hangup"}]`,
	})
	leg := newFakeLeg()
	s, err := h.m.Start(context.Background(), leg, callInfo("call-noanswer"), h.app(srv))
	require.NoError(t, err)
	waitDone(t, s)
	p := srv.calls("/dialed")[0].Payload
	require.Equal(t, "no-answer", p["dial_call_status"])
	require.EqualValues(t, 487, p["dial_sip_status"])
	require.True(t, out.cancelled("phone:+15550000009"))
}

func TestDialAnswerOnBridgeRingsTheCallerUntilTheAnswer(t *testing.T) {
	out := newFakeOutbound(map[string]fakeTarget{"sip:sip:b@127.0.0.1": {ring: true, answerIn: 200 * time.Millisecond}})
	h := dialHarness(t, out)
	srv := newHookServer(t, map[string]string{
		"/call": `[{"verb":"dial","answerOnBridge":true,"timeLimit":0.3,"actionHook":"/dialed","target":[{"type":"sip","sipUri":"sip:b@127.0.0.1"}]}]`,
	})
	leg := newFakeLeg()
	s, err := h.m.Start(context.Background(), leg, callInfo("call-aob"), h.app(srv))
	require.NoError(t, err)
	waitDone(t, s)
	require.Equal(t, []string{"180", "answer", "bye"}, leg.Events(), "the caller hears ringing, then is answered with the bridge")
	require.Equal(t, []string{"bye"}, out.leg("sip:sip:b@127.0.0.1").Events(), "timeLimit hung up the target")
	p := srv.calls("/dialed")[0].Payload
	require.Equal(t, "completed", p["dial_call_status"])
}

func TestDialConfirmHookDeclinesAndAccepts(t *testing.T) {
	out := newFakeOutbound(map[string]fakeTarget{
		"sip:sip:screen@127.0.0.1": {answerIn: 20 * time.Millisecond},
		"sip:sip:ok@127.0.0.1":     {answerIn: 200 * time.Millisecond},
	})
	h := dialHarness(t, out)
	srv := newHookServer(t, map[string]string{
		"/call": `[{"verb":"dial","actionHook":"/dialed","timeLimit":0.3,"target":[
			{"type":"sip","sipUri":"sip:screen@127.0.0.1","confirmHook":"/reject"},
			{"type":"sip","sipUri":"sip:ok@127.0.0.1","confirmHook":"/accept"}]}]`,
		"/reject": `[{"verb":"hangup"}]`,
		"/accept": `[{"verb":"pause","length":0.05}]`,
	})
	leg := newFakeLeg()
	s, err := h.m.Start(context.Background(), leg, callInfo("call-confirm"), h.app(srv))
	require.NoError(t, err)
	waitDone(t, s)
	require.Equal(t, []string{"bye"}, out.leg("sip:sip:screen@127.0.0.1").Events(), "the screening app hung up this target")
	require.Equal(t, []string{"bye"}, out.leg("sip:sip:ok@127.0.0.1").Events(), "bridged, then ended by timeLimit")
	require.Len(t, srv.calls("/reject"), 1)
	acc := srv.calls("/accept")
	require.Len(t, acc, 1)
	require.Equal(t, "call-confirm", acc[0].Payload["parent_call_sid"], "the confirmHook speaks for the B leg")
	p := srv.calls("/dialed")[0].Payload
	require.Equal(t, "completed", p["dial_call_status"])
}

func TestDialCapturesDigitsDuringTheBridge(t *testing.T) {
	out := newFakeOutbound(map[string]fakeTarget{"sip:sip:b@127.0.0.1": {answerIn: 10 * time.Millisecond}})
	h := dialHarness(t, out)
	srv := newHookServer(t, map[string]string{
		"/call": `[{"verb":"dial","dtmfCapture":["*2"],"dtmfHook":"/dtmf","actionHook":"/dialed","target":[{"type":"sip","sipUri":"sip:b@127.0.0.1"}]}]`,
	})
	leg := newFakeLeg()
	s, err := h.m.Start(context.Background(), leg, callInfo("call-dtmf"), h.app(srv))
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.room != "" && len(s.digitSubs) > 0
	}, 5*time.Second, 5*time.Millisecond)
	leg.ep.press("1*2")
	require.Eventually(t, func() bool { return len(srv.calls("/dtmf")) == 1 }, 5*time.Second, 5*time.Millisecond)
	require.Equal(t, "*2", srv.calls("/dtmf")[0].Payload["dtmf"])
	requireCallbacks(t, h, map[string]map[string]any{"dial-dtmf": srv.calls("/dtmf")[0].Payload})
	require.Equal(t, "call-dtmf", srv.calls("/dtmf")[0].Payload["call_sid"])

	leg.farEndHangsUp()
	waitDone(t, s)
	require.Equal(t, []string{"bye"}, out.leg("sip:sip:b@127.0.0.1").Events(), "the caller hung up: the target gets a BYE")
	require.Empty(t, srv.calls("/dialed"), "no action hook once the caller has gone")
}

func TestDialWithoutOutboundAlerts(t *testing.T) {
	h := newHarness(t)
	srv := newHookServer(t, map[string]string{
		"/call": `[{"verb":"dial","target":[{"type":"phone","number":"+15550000001"}]},{"verb":"hangup"}]`,
	})
	leg := newFakeLeg()
	s, err := h.m.Start(context.Background(), leg, callInfo("call-noout"), h.app(srv))
	require.NoError(t, err)
	waitDone(t, s)
	require.Contains(t, h.records.alertTypes(), "application-error")
}

func TestStartOutboundRunsTheAppOnceAnswered(t *testing.T) {
	out := newFakeOutbound(map[string]fakeTarget{
		"phone:+15550000100": {ring: true, answerIn: 50 * time.Millisecond},
		"phone:+15550000200": {fail: 486},
		"phone:+15550000300": {ring: true},
	})
	h := dialHarness(t, out)
	srv := newHookServer(t, map[string]string{"/call": `[{"verb":"pause","length":0.05},{"verb":"hangup"}]`})
	call := func(sid, number string) *Session {
		s, err := h.m.StartOutbound(context.Background(), OutboundCall{
			Info:   CallInfo{CallSID: sid, AccountSID: "acct-1", ApplicationSID: "app-1", From: "+15551110000"},
			Target: Target{Type: "phone", Number: number},
			Tag:    []byte(`{"from":"rest"}`),
		}, h.app(srv))
		require.NoError(t, err)
		require.NotEmpty(t, s.CallID())
		return s
	}

	answered := call("out-1", "+15550000100")
	waitDone(t, answered)
	require.Equal(t, []string{"bye"}, out.leg("phone:+15550000100").Events())
	first := srv.calls("/call")
	require.Len(t, first, 1)
	require.Equal(t, "outbound", first[0].Payload["direction"])
	require.Equal(t, "in-progress", first[0].Payload["call_status"], "the app runs once the call is answered")
	require.Equal(t, map[string]any{"from": "rest"}, first[0].Payload["customerData"])
	out.mu.Lock()
	require.Equal(t, answered.CallID(), out.reqs[0].CallID, "the INVITE carries the Call-ID reported at once")
	out.mu.Unlock()

	busy := call("out-2", "+15550000200")
	waitDone(t, busy)

	ringing := call("out-3", "+15550000300")
	require.Eventually(t, func() bool {
		return len(statusesBySID(srv)["out-3"]) == 2
	}, 5*time.Second, 5*time.Millisecond)
	require.True(t, ringing.Send(Command{Kind: CommandHangup}), "live control reaches a call that rings")
	waitDone(t, ringing)
	require.True(t, out.cancelled("phone:+15550000300"))

	st := statusesBySID(srv)
	require.Equal(t, []string{"trying", "ringing", "in-progress", "completed"}, st["out-1"])
	require.Equal(t, []string{"trying", "busy"}, st["out-2"])
	require.Equal(t, []string{"trying", "ringing", "no-answer"}, st["out-3"])
	require.Len(t, srv.calls("/call"), 1, "no app for unanswered calls")
	h.records.mu.Lock()
	require.Len(t, h.records.cdrs, 3)
	h.records.mu.Unlock()
}

func TestLiveControlDuringADial(t *testing.T) {
	out := newFakeOutbound(map[string]fakeTarget{"sip:sip:b@127.0.0.1": {answerIn: 10 * time.Millisecond}})
	h := dialHarness(t, out)
	srv := newHookServer(t, map[string]string{
		"/call": `[{"verb":"dial","actionHook":"/dialed","target":[{"type":"sip","sipUri":"sip:b@127.0.0.1"}]}]`,
	})
	leg := newFakeLeg()
	s, err := h.m.Start(context.Background(), leg, callInfo("call-live"), h.app(srv))
	require.NoError(t, err)
	var child *Session
	require.Eventually(t, func() bool {
		h.m.mu.Lock()
		defer h.m.mu.Unlock()
		for sid, x := range h.m.sessions {
			if sid != "call-live" {
				child = x
			}
		}
		if child == nil || child.State() != verbs.StateAnswered {
			return false
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.room != ""
	}, 5*time.Second, 5*time.Millisecond)

	send := func(sid string, c Command) CommandResult {
		reply := make(chan CommandResult, 1)
		c.Reply = reply
		require.True(t, h.m.Control(sid, c))
		select {
		case r := <-reply:
			return r
		case <-time.After(5 * time.Second):
			t.Fatal("no reply")
		}
		return CommandResult{}
	}
	require.NoError(t, send(child.CallSID(), Command{Kind: CommandMute, Mute: true}).Err, "the B leg is reachable by its own call_sid")
	child.mu.Lock()
	require.True(t, child.muted)
	child.mu.Unlock()
	require.NoError(t, send("call-live", Command{Kind: CommandWhisper, Document: []byte(`[{"verb":"play","url":"silence_stream://100"}]`)}).Err)
	require.ErrorIs(t, send("call-live", Command{Kind: CommandWhisper, Document: []byte(`[{"verb":"hangup"}]`)}).Err, ErrWhisperVerbs)
	require.ErrorIs(t, send("call-live", Command{Kind: CommandSIPRequest, SIP: &SIPRequest{Method: "INFO"}}).Err, ErrNoSIPRequest, "a leg that cannot send requests says so")
	require.NoError(t, send("call-live", Command{Kind: CommandDTMF, Digits: "12"}).Err)
	require.Eventually(t, func() bool {
		leg.ep.mu.Lock()
		defer leg.ep.mu.Unlock()
		return string(leg.ep.sent) == "12"
	}, 5*time.Second, 5*time.Millisecond)
	s.mu.Lock()
	bridged := s.room != "" && s.running == "dial"
	s.mu.Unlock()
	require.True(t, bridged, "the dial is still bridged: live commands do not cancel it")

	require.True(t, h.m.Control(child.CallSID(), Command{Kind: CommandHangup}), "hanging up the B leg ends the bridge")
	waitDone(t, s)
	require.Equal(t, []string{"bye"}, out.leg("sip:sip:b@127.0.0.1").Events())
	require.Equal(t, "completed", srv.calls("/dialed")[0].Payload["dial_call_status"])
}

func TestDialPassesOneTargetsEarlyMediaToTheCaller(t *testing.T) {
	out := newFakeOutbound(map[string]fakeTarget{"phone:+15550000777": {early: true, answerIn: 200 * time.Millisecond}})
	h := dialHarness(t, out)
	srv := newHookServer(t, map[string]string{
		"/call": `[{"verb":"dial","answerOnBridge":true,"timeLimit":0.2,"actionHook":"/dialed","target":[{"type":"phone","number":"+15550000777"}]}]`,
	})
	leg := newFakeLeg()
	s, err := h.m.Start(context.Background(), leg, callInfo("call-early"), h.app(srv))
	require.NoError(t, err)
	waitDone(t, s)
	require.Equal(t, []string{"183", "answer", "bye"}, leg.Events(),
		"the caller gets 183 and hears the target's early media, then is answered with the bridge")
	st := statusesBySID(srv)
	require.Equal(t, []string{"trying", "early-media", "in-progress", "completed"}, st["call-early"])
	require.Equal(t, "completed", srv.calls("/dialed")[0].Payload["dial_call_status"])
}

// child_call_hook: the B leg leaves the bridge with an application of its
// own (its hook, its verbs, its own end); the caller's dial ends and its
// document goes on.
func TestChildCallHookGivesTheBLegItsOwnApplication(t *testing.T) {
	out := newFakeOutbound(map[string]fakeTarget{"sip:sip:b@127.0.0.1": {answerIn: 10 * time.Millisecond}})
	h := dialHarness(t, out)
	srv := newHookServer(t, map[string]string{
		"/call":   `[{"verb":"dial","actionHook":"/dialed","target":[{"type":"sip","sipUri":"sip:b@127.0.0.1"}]},{"verb":"hangup"}]`,
		"/adult":  `[{"verb":"pause","length":0.1},{"verb":"hangup"}]`,
		"/dialed": `[]`,
	})
	leg := newFakeLeg()
	s, err := h.m.Start(context.Background(), leg, callInfo("call-adult"), h.app(srv))
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.bridged != nil
	}, 5*time.Second, 5*time.Millisecond)
	s.mu.Lock()
	child := s.bridged
	s.mu.Unlock()

	reply := make(chan CommandResult, 1)
	require.True(t, h.m.Control("call-adult", Command{Kind: CommandChildRedirect, Hook: &Hook{URL: "/adult"}, Reply: reply}))
	require.NoError(t, (<-reply).Err)
	waitDone(t, s)
	waitDone(t, child)

	require.Equal(t, []string{"answer", "bye"}, leg.Events(), "the caller's document went on after the dial")
	require.Equal(t, "completed", srv.calls("/dialed")[0].Payload["dial_call_status"])
	adult := srv.calls("/adult")
	require.Len(t, adult, 1, "the B leg asked its own hook (resolved against the call hook)")
	require.Equal(t, child.CallSID(), adult[0].Payload["call_sid"])
	require.Equal(t, "call-adult", adult[0].Payload["parent_call_sid"])
	require.Equal(t, []string{"bye"}, out.leg("sip:sip:b@127.0.0.1").Events(), "its own hangup verb ended it")
	st := statusesBySID(srv)[child.CallSID()]
	require.Equal(t, "completed", st[len(st)-1])
	h.records.mu.Lock()
	require.Len(t, h.records.cdrs, 2, "a CDR per leg")
	h.records.mu.Unlock()

	// Without a dial in progress, child_call_hook is refused.
	leg2 := newFakeLeg()
	srv2 := newHookServer(t, map[string]string{"/call": `[{"verb":"answer"},{"verb":"pause","length":2}]`})
	s2, err := h.m.Start(context.Background(), leg2, callInfo("call-nodial"), h.app(srv2))
	require.NoError(t, err)
	<-leg2.answered
	reply2 := make(chan CommandResult, 1)
	require.True(t, h.m.Control("call-nodial", Command{Kind: CommandChildRedirect, Hook: &Hook{URL: "/adult"}, Reply: reply2}))
	require.ErrorIs(t, (<-reply2).Err, ErrNotBridged)
	h.m.Control("call-nodial", Command{Kind: CommandHangup})
	waitDone(t, s2)
}

// dialMusic plays to the caller while the targets ring (as early media with
// answerOnBridge: 183, no 180), callerName goes with every INVITE, and a
// dial rings at most ten targets.
func TestDialMusicCallerNameAndTheTenTargetCap(t *testing.T) {
	targets := map[string]fakeTarget{}
	var list []string
	for i := range 12 {
		n := fmt.Sprintf("+1555000%04d", i)
		targets["phone:"+n] = fakeTarget{ring: true}
		list = append(list, `{"type":"phone","number":"`+n+`"}`)
	}
	targets["phone:+15550000003"] = fakeTarget{ring: true, answerIn: 300 * time.Millisecond}
	out := newFakeOutbound(targets)
	h := dialHarness(t, out)
	audio := &fakeAudio{}
	h.m.deps.Audio = audio
	srv := newHookServer(t, map[string]string{
		"/call": `[{"verb":"dial","answerOnBridge":true,"callerName":"Front Desk","dialMusic":"https://example.com/hold.mp3",
			"timeLimit":0.1,"actionHook":"/dialed","target":[` + strings.Join(list, ",") + `]}]`,
	})
	leg := newFakeLeg()
	s, err := h.m.Start(context.Background(), leg, callInfo("call-music"), h.app(srv))
	require.NoError(t, err)
	waitDone(t, s)

	require.Equal(t, []string{"183", "answer", "bye"}, leg.Events(), "dial music as early media, no 180, then the bridge")
	audio.mu.Lock()
	require.Contains(t, audio.urls, "https://example.com/hold.mp3")
	audio.mu.Unlock()
	out.mu.Lock()
	require.Len(t, out.reqs, verbs.MaxDialTargets, "at most ten targets are rung")
	for _, r := range out.reqs {
		require.Equal(t, "Front Desk", r.CallerName)
	}
	out.mu.Unlock()
	require.Equal(t, "completed", srv.calls("/dialed")[0].Payload["dial_call_status"])
}
