package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/apps"
	"github.com/voxrun/voxrun/apps/webhook"
	"github.com/voxrun/voxrun/media/clock"
	"github.com/voxrun/voxrun/runtime"
	"github.com/voxrun/voxrun/schemas"
	"github.com/voxrun/voxrun/store"
	"github.com/voxrun/voxrun/store/memory"
	"github.com/voxrun/voxrun/verbs"
	"github.com/voxrun/voxrun/verbs/builtin"
)

// testSims is Simulations on a real runtime: a manager with the built-in
// verbs, the webhook transport and in-memory live state; webhook
// applications only (cmd adds the other kinds).
type testSims struct {
	m   *runtime.Manager
	sim *runtime.Simulator
	app apps.App
}

func newTestSims(t *testing.T) *testSims {
	t.Helper()
	live := memory.New()
	v, err := schemas.NewValidator()
	require.NoError(t, err)
	reg := verbs.NewRegistry(v)
	builtin.Register(reg)
	g, err := webhook.NewGuard(webhook.LoopbackAllow, time.Second)
	require.NoError(t, err)
	client, err := webhook.NewClient(webhook.Options{Guard: g, Timeout: 2 * time.Second})
	require.NoError(t, err)
	clk := clock.New(clock.Config{})
	m := runtime.NewManager(runtime.Deps{Live: live, Registry: reg, Node: "test"})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		m.Drain(ctx)
		clk.Close()
		_ = live.Close()
	})
	return &testSims{m: m, sim: runtime.NewSimulator(m, runtime.SimulatorConfig{Clock: clk}), app: client}
}

func (s *testSims) Start(ctx context.Context, acct store.Account, a store.Application, from, to string) (*runtime.Simulation, error) {
	if a.CallHook == nil {
		return nil, errEmptyHook
	}
	info := runtime.CallInfo{CallSID: "sim-" + time.Now().Format("150405.000000000"), AccountSID: acct.AccountSID,
		ApplicationSID: a.ApplicationSID, From: from, To: to}
	return s.sim.Start(ctx, info, runtime.Application{ApplicationSID: a.ApplicationSID, AccountSID: acct.AccountSID,
		CallHook: apps.Hook{URL: a.CallHook.URL}, App: s.app})
}
func (s *testSims) Get(sid string) (*runtime.Simulation, bool) { return s.sim.Get(sid) }
func (s *testSims) List(acct string) []*runtime.Simulation     { return s.sim.List(acct) }

// menuHooks answers the call hook with a gather for one key and the action
// hook with a hangup.
func menuHooks(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/call":
			_, _ = w.Write([]byte(`[{"verb":"gather","actionHook":"/menu","numDigits":1,"timeout":10}]`))
		case "/menu":
			_, _ = w.Write([]byte(`[{"verb":"hangup"}]`))
		case "/hold":
			_, _ = w.Write([]byte(`[{"verb":"pause","length":30}]`))
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func simEnv(t *testing.T) (*env, *testSims) {
	sims := newTestSims(t)
	return newEnv(t, func(c *Config) { c.Simulations = sims }), sims
}

// transcript waits until the simulated call's transcript satisfies ok.
func transcript(t *testing.T, e *env, path, key string, ok func(runtime.Transcript) bool) runtime.Transcript {
	t.Helper()
	var tr runtime.Transcript
	require.Eventually(t, func() bool {
		r := e.do("GET", path, key, nil)
		require.Equal(t, 200, r.code, r.raw)
		require.NoError(t, json.Unmarshal([]byte(r.raw), &tr))
		return ok(tr)
	}, 5*time.Second, 20*time.Millisecond)
	return tr
}

func hasEvent(tr runtime.Transcript, typ, verb string) bool {
	for _, e := range tr.Events {
		if e.Type == typ && (verb == "" || e.Verb == verb) {
			return true
		}
	}
	return false
}

func TestSimulationsOverREST(t *testing.T) {
	e, _ := simEnv(t)
	hooks := menuHooks(t)
	a := e.accounts[0][0]
	appSID := e.create("/v1/Accounts/"+a.account+"/Applications", a.key,
		map[string]any{"name": "menu", "call_hook": map[string]any{"url": hooks.URL + "/call"}})
	base := "/v1/Accounts/" + a.account + "/Simulations"

	r := e.do("POST", base, a.key, map[string]any{"application_sid": appSID, "from": "+1555", "to": "+1666"})
	require.Equal(t, 201, r.code, r.raw)
	sid := r.obj(t)["call_sid"].(string)
	call := base + "/" + sid
	transcript(t, e, call, a.key, func(tr runtime.Transcript) bool { return hasEvent(tr, runtime.EventVerbStart, "gather") })

	list := e.do("GET", base, a.key, nil).arr(t)
	require.Len(t, list, 1)
	require.Equal(t, sid, list[0]["call_sid"])
	require.Equal(t, true, list[0]["running"])

	cases := []struct {
		name, method, path, key string
		body                    any
		code                    int
	}{
		{"bad digits", "POST", call + "/Dtmf", a.key, map[string]any{"digits": "12x"}, 400},
		{"no digits", "POST", call + "/Dtmf", a.key, map[string]any{}, 400},
		{"empty speech", "POST", call + "/Speech", a.key, map[string]any{"text": " "}, 400},
		{"another account's key", "GET", call, e.accounts[0][1].key, nil, 404},
		{"another provider's key", "GET", call, e.spKey[1], nil, 404},
		{"the call under another account", "GET", "/v1/Accounts/" + e.accounts[0][1].account + "/Simulations/" + sid, e.spKey[0], nil, 404},
		{"no key", "GET", call, "", nil, 401},
		{"unknown call", "GET", base + "/nope", a.key, nil, 404},
		{"unknown clip", "GET", call + "/Audio/7", a.key, nil, 404},
		{"unknown application", "POST", base, a.key, map[string]any{"application_sid": "nope"}, 422},
		{"no application", "POST", base, a.key, map[string]any{}, 400},
		{"an application of another account", "POST", "/v1/Accounts/" + e.accounts[0][1].account + "/Simulations",
			e.accounts[0][1].key, map[string]any{"application_sid": appSID}, 422},
		{"the provider sees its account's call", "GET", call, e.spKey[0], nil, 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(tc.method, tc.path, tc.key, tc.body)
			require.Equal(t, tc.code, r.code, r.raw)
		})
	}

	r = e.do("POST", call+"/Dtmf", a.key, map[string]any{"digits": "1"})
	require.Equal(t, 202, r.code, r.raw)
	tr := transcript(t, e, call, a.key, func(tr runtime.Transcript) bool { return !tr.Running })
	require.True(t, hasEvent(tr, runtime.EventDTMF, ""))
	require.True(t, hasEvent(tr, runtime.EventHookRequest, ""))
	require.Equal(t, "completed", tr.CallStatus)
	require.Equal(t, runtime.EventEnd, tr.Events[len(tr.Events)-1].Type)

	r = e.do("POST", call+"/Dtmf", a.key, map[string]any{"digits": "2"})
	require.Equal(t, 409, r.code, "input after the end: %s", r.raw)
	r = e.do("GET", call+"?download=1", a.key, nil)
	require.Equal(t, 200, r.code)
	require.Contains(t, r.hdr["Content-Disposition"], "simulation-"+sid+".json")
}

func TestSimulationAudioIsWAV(t *testing.T) {
	e, sims := simEnv(t)
	a := e.accounts[1][0]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`[{"verb":"play","url":"silence_stream://200"},{"verb":"hangup"}]`))
	}))
	defer srv.Close()
	_ = sims
	appSID := e.create("/v1/Accounts/"+a.account+"/Applications", a.key,
		map[string]any{"name": "tone", "call_hook": map[string]any{"url": srv.URL}})
	r := e.do("POST", "/v1/Accounts/"+a.account+"/Simulations", a.key, map[string]any{"application_sid": appSID})
	require.Equal(t, 201, r.code, r.raw)
	call := "/v1/Accounts/" + a.account + "/Simulations/" + r.obj(t)["call_sid"].(string)
	tr := transcript(t, e, call, a.key, func(tr runtime.Transcript) bool { return !tr.Running })
	// This test's runtime has no audio provider: play raises an alert, the
	// transcript says the app failed, and there is no clip.
	require.True(t, tr.Failed)
	require.Zero(t, tr.Clips)
	require.Equal(t, 404, e.do("GET", call+"/Audio/1", a.key, nil).code)
}

func TestSimulationsUnavailable(t *testing.T) {
	e := newEnv(t)
	a := e.accounts[0][0]
	r := e.do("POST", "/v1/Accounts/"+a.account+"/Simulations", a.key, map[string]any{"application_sid": "x"})
	require.Equal(t, 503, r.code, r.raw)
}

func TestSimulationEventsWebsocket(t *testing.T) {
	e, _ := simEnv(t)
	hooks := menuHooks(t)
	a := e.accounts[0][0]
	appSID := e.create("/v1/Accounts/"+a.account+"/Applications", a.key,
		map[string]any{"name": "menu", "call_hook": map[string]any{"url": hooks.URL + "/call"}})
	r := e.do("POST", "/v1/Accounts/"+a.account+"/Simulations", a.key, map[string]any{"application_sid": appSID})
	require.Equal(t, 201, r.code, r.raw)
	sid := r.obj(t)["call_sid"].(string)
	base := e.serve(t)
	url := "ws" + strings.TrimPrefix(base, "http") + "/v1/Accounts/" + a.account + "/Simulations/" + sid + "/Events"

	dial := func(t *testing.T) *websocket.Conn {
		t.Helper()
		c, _, err := websocket.DefaultDialer.Dial(url, nil)
		require.NoError(t, err)
		t.Cleanup(func() { c.Close() })
		require.NoError(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
		return c
	}
	refusals := []struct{ name, first string }{
		{"a wrong key", `{"type":"auth","key":"nope"}`},
		{"another account's key", `{"type":"auth","key":"` + e.accounts[1][0].key + `"}`},
		{"no auth first", `{"type":"dtmf","digits":"1"}`},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t)
			require.NoError(t, c.WriteMessage(websocket.TextMessage, []byte(tc.first)))
			_, _, err := c.ReadMessage()
			var ce *websocket.CloseError
			require.ErrorAs(t, err, &ce)
			require.Equal(t, websocket.ClosePolicyViolation, ce.Code)
		})
	}

	c := dial(t)
	require.NoError(t, c.WriteJSON(map[string]string{"type": "auth", "key": a.key}))
	var m struct {
		Type   string         `json:"type"`
		Event  *runtime.Event `json:"event"`
		Status string         `json:"call_status"`
		Msg    string         `json:"msg"`
	}
	require.NoError(t, c.ReadJSON(&m))
	require.Equal(t, "ready", m.Type)
	var types []string
	pressed, refused := false, false
	for {
		require.NoError(t, c.ReadJSON(&m))
		if m.Type == "end" {
			require.Equal(t, "completed", m.Status)
			break
		}
		if m.Type == "error" {
			require.Contains(t, m.Msg, "digits must be")
			refused = true
			continue
		}
		require.Equal(t, "event", m.Type, m.Msg)
		types = append(types, m.Event.Type)
		if m.Event.Type == runtime.EventVerbStart && m.Event.Verb == "gather" && !pressed {
			pressed = true
			require.NoError(t, c.WriteJSON(map[string]string{"type": "dtmf", "digits": "x"}))
			require.NoError(t, c.WriteJSON(map[string]string{"type": "dtmf", "digits": "1"}))
		}
	}
	require.True(t, refused, "bad digits are answered with an error message")
	require.Contains(t, types, runtime.EventHookRequest)
	require.Contains(t, types, runtime.EventDTMF)
	require.Contains(t, types, runtime.EventEnd)
}

func TestConsoleIsServed(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/", "", nil)
	require.Equal(t, 302, r.code)
	require.Equal(t, "/console/", r.hdr["Location"])
	r = e.do("GET", "/console/", "", nil)
	require.Equal(t, 200, r.code)
	require.Contains(t, r.hdr["Content-Type"], "text/html")
	require.Contains(t, r.hdr["Content-Security-Policy"], "default-src 'self'")
	require.Contains(t, r.raw, `<script type="module" src="app.js">`)
	for _, f := range []string{"app.js", "api.js", "ui.js", "editor.js", "jsapi.js", "style.css",
		"pages/applications.js", "pages/simulator.js", "pages/jsapps.js", "pages/calls.js", "pages/alerts.js",
		"pages/live.js", "pages/numbers.js", "pages/clients.js"} {
		r := e.do("GET", "/console/"+f, "", nil)
		require.Equal(t, 200, r.code, f)
		if strings.HasSuffix(f, ".js") {
			require.Contains(t, r.hdr["Content-Type"], "javascript", f)
			require.NotContains(t, r.raw, "http://", "%s loads nothing from elsewhere", f)
			require.NotContains(t, r.raw, "https://cdn", f)
		}
	}
	require.Equal(t, 404, e.do("GET", "/console/nope.js", "", nil).code)
}
