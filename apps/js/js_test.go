package js

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/apps"
	"github.com/voxrun/voxrun/apps/webhook"
	"github.com/voxrun/voxrun/sandbox"
	"github.com/voxrun/voxrun/store"
	"github.com/voxrun/voxrun/store/memory"
)

func notFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

// env is a sandbox pool (workers are this test binary), live state in
// memory, and the records of every invocation.
type env struct {
	pool *sandbox.Pool
	live *memory.Store
	mu   sync.Mutex
	recs []Record
}

func newEnv(t *testing.T, allow ...string) *env {
	t.Helper()
	live := memory.New()
	t.Cleanup(func() { _ = live.Close() })
	g, err := webhook.NewGuard(allow, time.Second)
	require.NoError(t, err)
	hc := webhook.NewHTTPClient(g)
	t.Cleanup(hc.CloseIdleConnections)
	pool, err := sandbox.New(sandbox.Config{Workers: 2, HTTPClient: hc, KV: live, KVNotFound: notFound})
	require.NoError(t, err)
	t.Cleanup(func() { _ = pool.Close() })
	return &env{pool: pool, live: live}
}

func (e *env) app(t *testing.T, account, source string, vars map[string]string) *App {
	t.Helper()
	a, err := New(Config{Invoker: e.pool, State: e.live, StateNotFound: notFound, Observe: func(_ context.Context, r Record) {
		e.mu.Lock()
		e.recs = append(e.recs, r)
		e.mu.Unlock()
	}}, Program{AppSID: "JA-" + t.Name(), VersionSID: "v1", AccountSID: account, Source: source, Env: vars})
	require.NoError(t, err)
	return a
}

func (e *env) records() []Record {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Record(nil), e.recs...)
}

func payload(callSID string, extra map[string]any) map[string]any {
	p := map[string]any{"call_sid": callSID, "account_sid": "AC1", "from": "+15551230001", "to": "+15557654321",
		"direction": "inbound", "call_status": "ringing", "sip": map[string]any{"headers": map[string]any{"X-A": "<sip:a@b>"}}}
	for k, v := range extra {
		p[k] = v
	}
	return p
}

var (
	callHook = apps.Request{Kind: apps.KindSessionNew, Hook: apps.Hook{URL: "js:JA"}}
	menuHook = apps.Request{Kind: apps.KindVerbHook, Hook: apps.Hook{URL: "/menu"}}
)

func send(t *testing.T, a *App, req apps.Request, p map[string]any) (apps.Reply, error) {
	t.Helper()
	req.Payload = p
	return a.Send(context.Background(), req)
}

// sayHello is the verb document every shape below returns.
const sayHello = `[{"verb":"say","text":"hello +15551230001"},{"verb":"gather","input":["digits"],"actionHook":"/menu","numDigits":1}]`

func TestEveryHandlerShapeAnswersLikeAWebhook(t *testing.T) {
	e := newEnv(t)
	shapes := map[string]string{
		"export default object": `export default {
  call(req) { return [{verb: 'say', text: 'hello ' + req.from}, {verb: 'gather', input: ['digits'], actionHook: '/menu', numDigits: 1}]; },
};`,
		"module.exports with arrows": `module.exports = {
  call: (req, ctx) => [{verb: 'say', text: ` + "`hello ${req.from}`" + `}, {verb: 'gather', input: ['digits'], actionHook: '/menu', numDigits: 1}],
};`,
		"async handler awaiting kv": `export default {
  async call(req, ctx) {
    await ctx.kv.set('seen', req.from);
    const who = await ctx.kv.get('seen');
    return [{verb: 'say', text: 'hello ' + who}, {verb: 'gather', input: ['digits'], actionHook: '/menu', numDigits: 1}];
  },
};`,
		"builder": `export default {
  call(req) { return new Verbs().say({text: 'hello ' + req.from}).gather({input: ['digits'], actionHook: '/menu', numDigits: 1}); },
};`,
		"node-client style builder": `const WR = WebhookResponse;
module.exports = { call(req) { const app = new WR(); app.say({text: 'hello ' + req.from}); app.gather({input: ['digits'], actionHook: '/menu', numDigits: 1}); return app; } };`,
		"class instance and destructuring": `class Ivr {
  call({from}) { const {say, gather} = {say: {text: 'hello ' + from}, gather: {input: ['digits'], actionHook: '/menu', numDigits: 1}};
    return [{verb: 'say', ...say}, {verb: 'gather', ...gather}]; }
}
export default new Ivr();`,
		"transpiled ES module": `exports.default = { call(req) { return new Verbs().say({text: 'hello ' + req.from}).gather({input: ['digits'], actionHook: '/menu', numDigits: 1}); } };`,
	}
	for name, src := range shapes {
		t.Run(name, func(t *testing.T) {
			a := e.app(t, "AC1", src, nil)
			r, err := send(t, a, callHook, payload("CA-shape", nil))
			require.NoError(t, err)
			require.JSONEq(t, sayHello, string(r.Verbs))
			require.True(t, r.HasVerbs())
		})
	}
}

func TestNothingOrNullIsAnEmptyReply(t *testing.T) {
	e := newEnv(t)
	for name, src := range map[string]string{
		"undefined":     `export default { '/menu'(req) {} }`,
		"null":          `export default { '/menu': () => null }`,
		"empty array":   `export default { '/menu': () => [] }`,
		"empty builder": `export default { '/menu': () => new Verbs() }`,
	} {
		t.Run(name, func(t *testing.T) {
			r, err := send(t, e.app(t, "AC1", src, nil), menuHook, payload("CA-empty", map[string]any{"digits": "1"}))
			require.NoError(t, err)
			require.False(t, r.HasVerbs())
		})
	}
}

func TestBuilderEqualsTheLiteral(t *testing.T) {
	e := newEnv(t)
	literal := `[{"verb":"answer"},{"verb":"pause","length":1},{"verb":"say","text":"hi","synthesizer":{"vendor":"espeak"}},
{"verb":"gather","input":["digits","speech"],"actionHook":"/menu","say":{"text":"press 1"}},
{"verb":"dial","target":[{"type":"phone","number":"+15550001"}],"actionHook":"/dialed"},
{"verb":"sip:decline","status":486,"reason":"busy"},{"verb":"sip:refer","referTo":"sip:x@y"},{"verb":"rest:dial","to":{"type":"user","name":"u"}},
{"verb":"tag","data":{"a":1}},{"verb":"hangup","headers":{"X-Reason":"done"}}]`
	src := `export default { call() {
  const v = new Verbs().answer().pause({length: 1}).say({text: 'hi', synthesizer: {vendor: 'espeak'}})
    .gather({input: ['digits', 'speech'], actionHook: '/menu', say: {text: 'press 1'}})
    .dial({target: [{type: 'phone', number: '+15550001'}], actionHook: '/dialed'})
    .sipDecline({status: 486, reason: 'busy'}).sip_refer({referTo: 'sip:x@y'}).restDial({to: {type: 'user', name: 'u'}})
    .addVerb('tag', {data: {a: 1}});
  v.hangup({headers: {'X-Reason': 'done'}});
  if (v.length !== 10 || JSON.stringify(v) !== JSON.stringify(v.toJSON())) throw new Error('builder length or toJSON');
  return v;
} }`
	r, err := send(t, e.app(t, "AC1", src, nil), callHook, payload("CA-b", nil))
	require.NoError(t, err)
	require.JSONEq(t, literal, string(r.Verbs))
	lit, err := send(t, e.app(t, "AC1", "export default { call: () => "+literal+" }", nil), callHook, payload("CA-l", nil))
	require.NoError(t, err)
	require.Equal(t, string(lit.Verbs), string(r.Verbs), "byte for byte")
}

func TestStatePersistsBetweenHooksOfACall(t *testing.T) {
	e := newEnv(t)
	src := `export default {
  call(req, ctx) { ctx.state.tries = 0; ctx.state.caller = req.from; return new Verbs().gather({input: ['digits'], actionHook: '/menu'}); },
  '/menu'(req, ctx) {
    ctx.state.tries++;
    ctx.state.digits = (ctx.state.digits || '') + req.digits;
    if (ctx.state.tries < 2) return new Verbs().gather({input: ['digits'], actionHook: '/menu'});
    return new Verbs().say({text: ctx.state.caller + ' pressed ' + ctx.state.digits}).hangup();
  },
  status(req, ctx) { ctx.log.info('status', req.call_status, JSON.stringify(ctx.state)); },
};`
	a := e.app(t, "AC1", src, nil)
	_, err := send(t, a, callHook, payload("CA-state", nil))
	require.NoError(t, err)
	_, err = send(t, a, menuHook, payload("CA-state", map[string]any{"digits": "4"}))
	require.NoError(t, err)
	// Another call's state is its own.
	_, err = send(t, a, callHook, payload("CA-other", map[string]any{"from": "+19998887777"}))
	require.NoError(t, err)
	r, err := send(t, a, menuHook, payload("CA-state", map[string]any{"digits": "2"}))
	require.NoError(t, err)
	require.JSONEq(t, `[{"verb":"say","text":"+15551230001 pressed 42"},{"verb":"hangup"}]`, string(r.Verbs))

	raw, err := e.live.GetValue(context.Background(), StateKey("AC1", "CA-state"))
	require.NoError(t, err)
	require.JSONEq(t, `{"tries":2,"caller":"+15551230001","digits":"42"}`, string(raw))

	_, err = send(t, a, apps.Request{Kind: apps.KindCallStatus, Hook: apps.Hook{URL: "js:JA"}}, payload("CA-state", map[string]any{"call_status": "completed"}))
	require.NoError(t, err)
	recs := e.records()
	last := recs[len(recs)-1]
	require.Equal(t, "status", last.Hook)
	require.Equal(t, "status completed "+`{"tries":2,"caller":"+15551230001","digits":"42"}`, last.Logs[0].Message)

	// A second App for the same program (another process after a move)
	// sees the same state.
	b := e.app(t, "AC1", src, nil)
	r, err = send(t, b, menuHook, payload("CA-state", map[string]any{"digits": "9"}))
	require.NoError(t, err)
	require.JSONEq(t, `[{"verb":"say","text":"+15551230001 pressed 429"},{"verb":"hangup"}]`, string(r.Verbs))
}

func TestStateLargerThan64KiBFails(t *testing.T) {
	e := newEnv(t)
	a := e.app(t, "AC1", `export default { call(req, ctx) { ctx.state.big = 'x'.repeat(70000); return [] } }`, nil)
	_, err := send(t, a, callHook, payload("CA-big", nil))
	he, ok := apps.AsHookError(err)
	require.True(t, ok, "%v", err)
	require.Equal(t, apps.FailBody, he.Kind)
	require.Contains(t, he.Error(), "ctx.state")
	_, err = e.live.GetValue(context.Background(), StateKey("AC1", "CA-big"))
	require.ErrorIs(t, err, store.ErrNotFound, "nothing was stored")
}

func TestKVIsPerAccount(t *testing.T) {
	e := newEnv(t)
	src := `export default {
  async call(req, ctx) {
    const before = await ctx.kv.get('counter');
    const n = await ctx.kv.incr('counter');
    await ctx.kv.incr('counter', 10, {ttl: 60});
    await ctx.kv.set('profile', {name: req.from}, {ttl: 60});
    const profile = JSON.parse(await ctx.kv.get('profile'));
    await ctx.kv.set('gone', 'x'); await ctx.kv.del('gone');
    return [{verb: 'tag', data: {before, n, after: await ctx.kv.get('counter'), profile, gone: await ctx.kv.get('gone')}}];
  },
};`
	tenant1 := e.app(t, "AC-one", src, nil)
	tenant2 := e.app(t, "AC-two", src, nil)
	r, err := send(t, tenant1, callHook, payload("CA-1", nil))
	require.NoError(t, err)
	require.JSONEq(t, `[{"verb":"tag","data":{"before":null,"n":1,"after":"11","profile":{"name":"+15551230001"},"gone":null}}]`, string(r.Verbs))
	r, err = send(t, tenant1, callHook, payload("CA-2", nil))
	require.NoError(t, err)
	require.JSONEq(t, `[{"verb":"tag","data":{"before":"11","n":12,"after":"22","profile":{"name":"+15551230001"},"gone":null}}]`, string(r.Verbs))
	// The other account starts from nothing: same keys, its own values.
	r, err = send(t, tenant2, callHook, payload("CA-3", map[string]any{"from": "+14440000000"}))
	require.NoError(t, err)
	require.JSONEq(t, `[{"verb":"tag","data":{"before":null,"n":1,"after":"11","profile":{"name":"+14440000000"},"gone":null}}]`, string(r.Verbs))
	v, err := e.live.KVGet(context.Background(), "AC-one", "counter")
	require.NoError(t, err)
	require.Equal(t, "22", v)
}

func TestEnvAndLogs(t *testing.T) {
	e := newEnv(t)
	src := `export default {
  call(req, ctx) {
    ctx.log.info('greeting is', ctx.env.GREETING, {n: 1});
    ctx.log.warn('token length', ctx.env.API_TOKEN.length);
    console.log('console works too');
    ctx.log.error(new Error('not fatal'));
    return [{verb: 'say', text: ctx.env.GREETING + ', ' + req.from}];
  },
};`
	a := e.app(t, "AC1", src, map[string]string{"GREETING": "Welcome", "API_TOKEN": "s3cr3t"})
	r, err := send(t, a, callHook, payload("CA-env", nil))
	require.NoError(t, err)
	require.JSONEq(t, `[{"verb":"say","text":"Welcome, +15551230001"}]`, string(r.Verbs))
	recs := e.records()
	require.Len(t, recs, 1)
	rec := recs[0]
	require.Equal(t, OutcomeOK, rec.Outcome)
	require.Equal(t, "CA-env", rec.CallSID)
	require.Equal(t, "call", rec.Hook)
	require.Equal(t, "AC1", rec.AccountSID)
	var got [][2]string
	for _, l := range rec.Logs {
		got = append(got, [2]string{l.Level, l.Message})
		require.False(t, l.Time.IsZero())
	}
	require.Equal(t, [][2]string{{"info", `greeting is Welcome {"n":1}`}, {"warn", "token length 6"}, {"info", "console works too"}, {"error", "Error: not fatal"}}, got)
}

func TestFetchThroughTheGuard(t *testing.T) {
	var gotAuth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth = r.Header.Get("Authorization")
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"queue": "sales", "echo": body["from"]})
	}))
	defer srv.Close()
	e := newEnv(t, "127.0.0.1") // this node allows loopback, as the embedded defaults do
	src := `export default {
  async call(req, ctx) {
    const res = await ctx.fetch(ctx.env.CRM + '/route', {method: 'POST', headers: {Authorization: 'Bearer ' + ctx.env.TOKEN}, body: {from: req.from}, timeout: 1000});
    const data = await res.json();
    return [{verb: 'tag', data: {status: res.status, ok: res.ok, type: res.headers['content-type'], ...data}}];
  },
};`
	a := e.app(t, "AC1", src, map[string]string{"CRM": srv.URL, "TOKEN": "t0k"})
	r, err := send(t, a, callHook, payload("CA-fetch", nil))
	require.NoError(t, err)
	require.JSONEq(t, `[{"verb":"tag","data":{"status":200,"ok":true,"type":"application/json","queue":"sales","echo":"+15551230001"}}]`, string(r.Verbs))
	require.Equal(t, "Bearer t0k", gotAuth)
}

func TestFailuresAreHookErrors(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name, src string
		req       apps.Request
		kind      apps.FailureKind
		outcome   string
		contains  string
	}{
		{"throws", `export default { call() { throw new TypeError('bad input') } }`, callHook, apps.FailBody, OutcomeError, "TypeError: bad input"},
		{"rejects", "export default {\n  async call() { await 1; throw new Error('async bad') } }", callHook, apps.FailBody, OutcomeError, "Error: async bad (app.js:2:"},
		{"returns an object", `export default { call() { return {verb: 'say'} } }`, callHook, apps.FailBody, OutcomeError, "verb array"},
		{"no handler for the hook", `export default { call() { return [] } }`, menuHook, apps.FailBody, OutcomeError, "'/menu'"},
		{"compile error", "export default {\n  call() { return [ }\n}", callHook, apps.FailBody, OutcomeError, "line 2"},
		{"spins", `export default { call() { for (;;) {} } }`, callHook, apps.FailTimeout, OutcomeTimeout, "100ms"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := len(e.records())
			_, err := send(t, e.app(t, "AC1", tc.src, nil), tc.req, payload("CA-fail", nil))
			he, ok := apps.AsHookError(err)
			require.True(t, ok, "%v", err)
			require.Equal(t, tc.kind, he.Kind, he.Error())
			require.Contains(t, he.Error()+" "+he.Detail, tc.contains)
			require.Contains(t, he.URL, "js:JA-")
			_, ok = sandbox.AsError(err)
			require.True(t, ok, "the sandbox error stays in the chain")
			recs := e.records()
			require.Len(t, recs, before+1)
			require.Equal(t, tc.outcome, recs[before].Outcome)
			require.NotEmpty(t, recs[before].Error)
		})
	}
	// A missing status handler is no error: status replies are ignored.
	_, err := send(t, e.app(t, "AC1", `export default { call() { return [] } }`, nil),
		apps.Request{Kind: apps.KindCallStatus, Hook: apps.Hook{URL: "js:JA"}}, payload("CA-s", nil))
	require.NoError(t, err)
}

func TestHandlerNames(t *testing.T) {
	cases := []struct {
		req  apps.Request
		want []string
	}{
		{apps.Request{Kind: apps.KindSessionNew, Hook: apps.Hook{URL: "http://x/call"}}, []string{"call"}},
		{apps.Request{Kind: apps.KindCallStatus}, []string{"status"}},
		{apps.Request{Kind: apps.KindVerbHook, Hook: apps.Hook{URL: "/menu"}}, []string{"/menu", "menu"}},
		{apps.Request{Kind: apps.KindVerbHook, Hook: apps.Hook{URL: "http://app.example.com/menu?x=1#rc=2"}}, []string{"/menu", "menu"}},
		{apps.Request{Kind: apps.KindVerbHook, Hook: apps.Hook{URL: "menu"}}, []string{"menu", "/menu"}},
		{apps.Request{Kind: apps.KindRedirect, Hook: apps.Hook{URL: "js:JA123/transfer"}}, []string{"/transfer", "transfer"}},
		{apps.Request{Kind: apps.KindVerbHook, Hook: apps.Hook{URL: "/"}}, []string{"call"}},
	}
	for _, tc := range cases {
		require.Equal(t, tc.want, HandlerNames(tc.req), tc.req.Hook.URL)
	}
}
