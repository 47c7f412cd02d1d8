package api

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/runtime"
)

// recordingControl is a CallControl that records the commands it gets for the
// calls it runs.
type recordingControl struct {
	mu      sync.Mutex
	running map[string]bool
	got     []runtime.Command
	// sipStatus is what a command with a reply is answered.
	sipStatus int
}

func (r *recordingControl) Control(callSID string, c runtime.Command) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.running[callSID] {
		return false
	}
	r.got = append(r.got, c)
	if c.Reply != nil {
		c.Reply <- runtime.CommandResult{SIPStatus: r.sipStatus}
	}
	return true
}

func TestLiveCalls(t *testing.T) {
	ctl := &recordingControl{running: map[string]bool{"call-a": true}}
	e := newEnv(t, func(c *Config) { c.Calls = ctl })
	ctx := context.Background()
	a, other := e.accounts[0][0], e.accounts[1][0]
	require.NoError(t, e.live.PutCall(ctx, a.account, "call-a", map[string]string{
		"call_sid": "call-a", "call_status": "in-progress", "direction": "inbound", "from": "+1555", "to": "+1666", "sip_status": "200"}))
	require.NoError(t, e.live.PutCall(ctx, a.account, "call-b", map[string]string{
		"call_sid": "call-b", "call_status": "completed", "direction": "outbound", "from": "+1777", "to": "+1888"}))
	base := "/v1/Accounts/" + a.account + "/Calls"

	r := e.do("GET", base, a.key, nil)
	require.Equal(t, 200, r.code, r.raw)
	require.Len(t, r.arr(t), 2)
	r = e.do("GET", base+"?direction=inbound", a.key, nil)
	require.Len(t, r.arr(t), 1)
	r = e.do("GET", base+"?callStatus=completed", a.key, nil)
	require.Equal(t, "call-b", r.arr(t)[0]["call_sid"])

	r = e.do("GET", base+"/call-a", a.key, nil)
	require.Equal(t, 200, r.code)
	require.EqualValues(t, 200, r.obj(t)["sip_status"])

	cases := []struct {
		name string
		body any
		code int
		kind runtime.CommandKind
	}{
		{"redirect by url", map[string]any{"call_hook": "https://example.com/next"}, 202, runtime.CommandRedirect},
		{"redirect by object", map[string]any{"call_hook": map[string]any{"url": "/relative", "method": "GET"}}, 202, runtime.CommandRedirect},
		{"hang up", map[string]any{"call_status": "completed"}, 202, runtime.CommandHangup},
		{"tag", map[string]any{"tag": map[string]any{"x": 1}}, 202, runtime.CommandTag},
		{"two keys", map[string]any{"call_status": "completed", "tag": map[string]any{}}, 400, 0},
		{"bad status", map[string]any{"call_status": "ringing"}, 400, 0},
		{"not yet", map[string]any{"listen_status": "pause"}, 422, 0},
		{"mute", map[string]any{"mute_status": "mute"}, 202, runtime.CommandMute},
		{"bad mute", map[string]any{"mute_status": "loud"}, 400, 0},
		{"dtmf", map[string]any{"dtmf": map[string]any{"digit": "12#", "duration": 200}}, 202, runtime.CommandDTMF},
		{"bad dtmf", map[string]any{"dtmf": map[string]any{"digit": "12x"}}, 400, 0},
		{"whisper with tag", map[string]any{"whisper": map[string]any{"verb": "say", "text": "psst"}, "tag": map[string]any{"a": 1}}, 202, runtime.CommandWhisper},
		{"empty hook", map[string]any{"call_hook": ""}, 400, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctl.mu.Lock()
			n := len(ctl.got)
			ctl.mu.Unlock()
			r := e.do("PUT", base+"/call-a", a.key, tc.body)
			require.Equal(t, tc.code, r.code, r.raw)
			ctl.mu.Lock()
			defer ctl.mu.Unlock()
			if tc.code == 202 {
				want := len(tc.body.(map[string]any))
				require.Len(t, ctl.got, n+want, "one command per key")
				require.Equal(t, tc.kind, ctl.got[len(ctl.got)-1].Kind)
			} else {
				require.Len(t, ctl.got, n)
			}
		})
	}
	require.Equal(t, "/relative", ctl.got[1].Hook.URL)
	for _, c := range ctl.got {
		switch c.Kind {
		case runtime.CommandMute:
			require.True(t, c.Mute)
		case runtime.CommandDTMF:
			require.Equal(t, "12#", c.Digits)
			require.Equal(t, 200*time.Millisecond, c.DigitDuration)
		case runtime.CommandWhisper:
			require.JSONEq(t, `[{"verb":"say","text":"psst"}]`, string(c.Document))
		}
	}

	// sip_request answers with the far end's final status.
	ctl.mu.Lock()
	ctl.sipStatus = 486
	ctl.mu.Unlock()
	r = e.do("PUT", base+"/call-a", a.key, map[string]any{"sip_request": map[string]any{"method": "INFO", "content_type": "application/json", "content": "{}"}})
	require.Equal(t, 200, r.code, r.raw)
	require.EqualValues(t, 486, r.obj(t)["sip_status"])
	require.Equal(t, 400, e.do("PUT", base+"/call-a", a.key, map[string]any{"sip_request": map[string]any{"method": "BYE"}}).code)

	// An ended call, a call of another tenant, a call on no node.
	require.Equal(t, 422, e.do("PUT", base+"/call-b", a.key, map[string]any{"call_status": "completed"}).code)
	require.Equal(t, 404, e.do("PUT", "/v1/Accounts/"+other.account+"/Calls/call-a", other.key, map[string]any{"call_status": "completed"}).code)
	require.Equal(t, 404, e.do("GET", base+"/call-a", other.key, nil).code)
	require.NoError(t, e.live.PutCall(ctx, a.account, "call-c", map[string]string{"call_sid": "call-c", "call_status": "in-progress"}))
	require.Equal(t, 404, e.do("PUT", base+"/call-c", a.key, map[string]any{"call_status": "completed"}).code)

	// DELETE removes the record and does not hang up.
	ctl.mu.Lock()
	n := len(ctl.got)
	ctl.mu.Unlock()
	require.Equal(t, 204, e.do("DELETE", base+"/call-a", a.key, nil).code)
	require.Equal(t, 404, e.do("GET", base+"/call-a", a.key, nil).code)
	ctl.mu.Lock()
	require.Len(t, ctl.got, n)
	ctl.mu.Unlock()
}
