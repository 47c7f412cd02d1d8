package sandbox

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func invoke(p *Pool, app, src string) (Result, error) {
	return p.Invoke(context.Background(), Invocation{App: app, Source: src, Handlers: []string{"call"}, AccountSID: "AC1", Request: []byte(`{}`)})
}

// A native builtin that never checks for interrupts (includes on an array
// of length 10^8 walks every index, for seconds): the parent kills the
// worker at twice the deadline and replaces it.
func TestParentKillsAWorkerPastTwiceTheDeadline(t *testing.T) {
	p := newTestPool(t, Config{Workers: 1})
	lim := p.Limits()
	spawned := p.Stats().Spawned
	st := time.Now()
	_, err := invoke(p, "sorter@1", `export default { call() { const a = []; a.length = 1e8; return [{verb: 'say', text: String(a.includes(1))}] } }`)
	took := time.Since(st)
	e, ok := AsError(err)
	require.True(t, ok, "%v", err)
	require.Equal(t, KindTimeout, e.Kind)
	require.Contains(t, e.Message, "killed")
	require.GreaterOrEqual(t, took, 2*lim.ScriptTimeout)
	require.Less(t, took, lim.ScriptTimeout+250*time.Millisecond)

	// The replacement serves the next invocation.
	res, err := invoke(p, "fine@1", `export default { call: () => [{verb: 'hangup'}] }`)
	require.NoError(t, err)
	require.JSONEq(t, `[{"verb":"hangup"}]`, string(res.Verbs))
	require.Equal(t, spawned+1, p.Stats().Spawned)
	require.Equal(t, 1, p.Stats().Workers)
}

func TestAnAppThatKeepsCrashingWorkersIsSuspended(t *testing.T) {
	var mu sync.Mutex
	var alerts []string
	p := newTestPool(t, Config{Workers: 2, CrashLimit: 2, OnSuspend: func(app string, reason error) {
		mu.Lock()
		alerts = append(alerts, app+": "+reason.Error())
		mu.Unlock()
	}})
	// A native loop the worker cannot interrupt: the parent kills it each time.
	bomb := `export default { call() { const a = []; a.length = 1e8; return [String(a.includes(1))] } }`
	for i := range 2 {
		_, err := invoke(p, "bomb@1", bomb)
		e, ok := AsError(err)
		require.True(t, ok, "%v", err)
		require.Equal(t, KindTimeout, e.Kind, "attempt %d: %v", i, err)
		require.Contains(t, e.Message, "killed")
	}
	require.True(t, p.Suspended("bomb@1"))
	_, err := invoke(p, "bomb@1", bomb)
	e, ok := AsError(err)
	require.True(t, ok, "%v", err)
	require.Equal(t, KindSuspended, e.Kind)
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(alerts) == 1 && strings.HasPrefix(alerts[0], "bomb@1: 2 workers crashed")
	}, 5*time.Second, 10*time.Millisecond)

	// Another app, or another version of this one, is not affected; Resume
	// lifts the suspension.
	_, err = invoke(p, "other@1", `export default { call: () => [] }`)
	require.NoError(t, err)
	_, err = invoke(p, "bomb@2", `export default { call: () => [] }`)
	require.NoError(t, err)
	p.Resume("bomb@1")
	require.False(t, p.Suspended("bomb@1"))
}

func TestPollutionDoesNotReachTheNextInvocation(t *testing.T) {
	p := newTestPool(t, Config{Workers: 1}) // one worker: every invocation runs in it
	_, err := invoke(p, "polluter@1", `export default { call() {
  Object.prototype.polluted = 'yes'; Array.prototype.push = function () { return 42; };
  JSON.stringify = () => '[{"verb":"hangup"}]'; String.prototype.repeat = () => 'owned';
  globalThis.leak = 'secret'; Verbs.prototype.say = null;
  return [];
} }`)
	require.NoError(t, err)
	res, err := invoke(p, "victim@1", `export default { call() {
  const a = []; a.push(1);
  return new Verbs().say({text: [({}).polluted, a.length, typeof leak, 'ab'.repeat(2), JSON.stringify({a: 1})].join(' ')});
} }`)
	require.NoError(t, err)
	require.JSONEq(t, `[{"verb":"say","text":" 1 undefined abab {\"a\":1}"}]`, string(res.Verbs))
}

func TestContextAndDeadlines(t *testing.T) {
	p := newTestPool(t, Config{Workers: 1})
	// A caller whose context is already done gets a cancelled error.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := p.Invoke(ctx, Invocation{App: "a@1", Source: `export default { call: () => [] }`, Handlers: []string{"call"}})
	e, ok := AsError(err)
	require.True(t, ok, "%v", err)
	require.Equal(t, KindCancelled, e.Kind)

	// With the only worker busy, a caller that cannot wait is told so.
	done := make(chan error, 1)
	go func() {
		_, err := invoke(p, "spin@1", `export default { call() { for (;;) {} } }`)
		done <- err
	}()
	require.Eventually(t, func() bool { return p.Stats().Idle == 0 }, time.Second, time.Millisecond)
	short, cancel2 := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel2()
	_, err = p.Invoke(short, Invocation{App: "a@1", Source: `export default { call: () => [] }`, Handlers: []string{"call"}})
	e, ok = AsError(err)
	require.True(t, ok, "%v", err)
	require.Contains(t, []ErrorKind{KindOverloaded, KindCancelled}, e.Kind)
	e, ok = AsError(<-done)
	require.True(t, ok)
	require.Equal(t, KindTimeout, e.Kind)

	// Time waiting on host calls is not script time: a script that awaits
	// kv many times stays within its 100 ms.
	res, err := invoke(p, "kv@1", `export default { async call(req, ctx) {
  for (let i = 0; i < 50; i++) await ctx.kv.incr('n');
  return [{verb: 'say', text: String(await ctx.kv.get('n'))}];
} }`)
	require.NoError(t, err)
	require.JSONEq(t, `[{"verb":"say","text":"50"}]`, string(res.Verbs))
	require.Equal(t, 51, res.KVOps)
}

func TestQuotasAndLimitsReachTheScriptAsErrors(t *testing.T) {
	p := newTestPool(t, Config{Workers: 1, Limits: Limits{MaxKVOps: 3, MaxLogLines: 2}})
	res, err := invoke(p, "q@1", `export default { async call(req, ctx) {
  const out = [];
  for (let i = 0; i < 5; i++) { try { await ctx.kv.set('k' + i, 'v'); out.push('ok'); } catch (e) { out.push(e.message); } }
  try { await ctx.kv.set('x'.repeat(300), 'v'); } catch (e) { out.push('long key refused'); }
  for (let i = 0; i < 5; i++) ctx.log.info('line', i);
  try { ctx.fetch('file:///etc/passwd'); } catch (e) { out.push('sync throw'); }
  const f = await ctx.fetch('file:///etc/passwd').catch(e => e.message);
  return [{verb: 'tag', data: {out, f}}];
} }`)
	require.NoError(t, err)
	var doc []struct {
		Data struct {
			Out []string
			F   string
		}
	}
	require.NoError(t, jsonUnmarshal(res.Verbs, &doc))
	require.Equal(t, []string{"ok", "ok", "ok", "ctx.kv: at most 3 operations per invocation", "ctx.kv: at most 3 operations per invocation", "long key refused"}, doc[0].Data.Out)
	require.Contains(t, doc[0].Data.F, "not an absolute http(s) URL")
	require.Len(t, res.Logs, 3)
	require.Equal(t, "3 more log lines dropped (at most 2 per invocation)", res.Logs[2].Message)
	require.True(t, errors.Is(nil, nil))
}

// The guards refuse what amplifies allocation by every route (the global,
// [].constructor, species, subclasses) and leave the rest of the language as
// it was.
func TestGuardsKeepTheLanguageWorking(t *testing.T) {
	p := newTestPool(t, Config{Workers: 1})
	res, err := invoke(p, "lang@1", `export default { call() {
  const refused = [() => Array(1e9), () => new Array(1e9), () => [].constructor(1e9), () => Array.from({length: 1e9}),
    () => [1].map(x => x).constructor(1e9), () => { class A extends Array {}; return new A(1e9) },
    () => 'ab'.repeat(1e7), () => 'a'.padEnd(1e7), () => Array(1000).fill('x'.repeat(2000)).join(''), () => { let s = ' '; while (s.length < 2e6) s += s; return JSON.parse(s) }]
    .map(f => { try { f(); return 'allowed' } catch (e) { return e.name } });
  class B extends Array {}
  const b = new B(2);
  const works = [Array.isArray([]), [] instanceof Array, [].constructor === Array, Array.of(1, 2).length, new Array(3).length,
    Array(1, 2).length, [1, 2, 3].map(x => x * 2).join('-'), b.length, b instanceof B, Array.from([1, 2]).length,
    'ab'.repeat(3), '7'.padStart(3, '0'), JSON.stringify({a: [1, {b: 2}]}, null, 1).length, JSON.parse('{"x":[1]}').x[0],
    JSON.stringify({a: 1, b: 2, c: 3}, ['a', 'c']), JSON.stringify({n: 5}, (k, v) => typeof v === 'number' ? v * 2 : v)];
  return [{verb: 'tag', data: {refused, works}}];
} }`)
	require.NoError(t, err)
	require.JSONEq(t, `[{"verb":"tag","data":{
  "refused":["RangeError","RangeError","RangeError","RangeError","RangeError","RangeError","RangeError","RangeError","RangeError","RangeError"],
  "works":[true,true,true,2,3,2,"2-4-6",2,true,2,"ababab","007",37,1,"{\"a\":1,\"c\":3}","{\"n\":10}"]}}]`, string(res.Verbs))
}

// A worker keeps at most maxPrograms compiled programs; one it evicted is
// sent again (the parent believed the worker had it).
func TestAnEvictedProgramIsSentAgain(t *testing.T) {
	p := newTestPool(t, Config{Workers: 1})
	for i := range maxPrograms + 1 {
		res, err := invoke(p, fmt.Sprintf("app%d@1", i), fmt.Sprintf("export default { call: () => [{verb: 'say', text: '%d'}] }", i))
		require.NoError(t, err)
		require.JSONEq(t, fmt.Sprintf(`[{"verb":"say","text":"%d"}]`, i), string(res.Verbs))
	}
	for i := range maxPrograms + 1 {
		res, err := invoke(p, fmt.Sprintf("app%d@1", i), fmt.Sprintf("export default { call: () => [{verb: 'say', text: '%d'}] }", i))
		require.NoError(t, err)
		require.JSONEq(t, fmt.Sprintf(`[{"verb":"say","text":"%d"}]`, i), string(res.Verbs))
	}
	_, err := p.Invoke(context.Background(), Invocation{App: "nosource@1", Handlers: []string{"call"}})
	e, ok := AsError(err)
	require.True(t, ok)
	require.Equal(t, KindInvalid, e.Kind)
}
