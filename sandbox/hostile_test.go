package sandbox

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/apps/webhook"
	"github.com/voxrun/voxrun/store/memory"
)

// newTestPool starts a pool whose workers are this test binary, with ctx.fetch
// through the real SSRF guard (empty allow-list) and ctx.kv on the in-memory
// live state.
func newTestPool(t *testing.T, cfg Config) *Pool {
	t.Helper()
	if cfg.HTTPClient == nil {
		g, err := webhook.NewGuard(nil, time.Second)
		require.NoError(t, err)
		cfg.HTTPClient = webhook.NewHTTPClient(g)
		t.Cleanup(cfg.HTTPClient.CloseIdleConnections)
	}
	if cfg.KV == nil {
		live := memory.New()
		t.Cleanup(func() { _ = live.Close() })
		cfg.KV = live
		cfg.KVNotFound = isNotFound
	}
	p, err := New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func isNotFound(err error) bool { return err != nil && strings.Contains(err.Error(), "not found") }

// rss is this process's resident set in bytes.
func rss(t *testing.T) int64 { return statusKB(t, os.Getpid(), "VmRSS:") << 10 }

func statusKB(t *testing.T, pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			require.NoError(t, err)
			return n
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

const benignSource = `export default {
  call(req, ctx) {
    ctx.state.n = (ctx.state.n || 0) + 1;
    return new Verbs().say({text: 'hello ' + req.from}).gather({input: ['digits'], actionHook: '/menu'});
  },
}`

func benign(i int) Invocation {
	return Invocation{App: "benign@1", Source: benignSource, Handlers: []string{"call"}, AccountSID: "AC-benign",
		Request: []byte(`{"from":"+1555000` + strconv.Itoa(i%10) + `","call_sid":"c` + strconv.Itoa(i) + `"}`)}
}

func p99(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)*99/100]
}

// TestHostileSuite runs the hostile scripts one after another while
// a benign tenant keeps invoking its own app: each hostile case ends by its
// deadline + 250 ms, the parent's RSS grows less than 50 MB, and the benign
// tenant's p99 stays under twice its baseline.
func TestHostileSuite(t *testing.T) {
	var suspended []string
	var smu sync.Mutex
	p := newTestPool(t, Config{Workers: 3, CrashLimit: 100, OnSuspend: func(app string, _ error) {
		smu.Lock()
		suspended = append(suspended, app)
		smu.Unlock()
	}})
	lim := p.Limits()
	ctx := context.Background()

	var hits atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = w.Write([]byte(`secret`))
	}))
	defer target.Close()
	_, port, _ := net.SplitHostPort(target.Listener.Addr().String())

	// Baseline: the benign tenant alone.
	for i := range 50 { // warm up
		_, err := p.Invoke(ctx, benign(i))
		require.NoError(t, err)
	}
	for i := range 20 { // the benign tenant's program is compiled and checked
		res, err := p.Invoke(ctx, benign(i))
		require.NoError(t, err)
		require.JSONEq(t, `[{"verb":"say","text":"hello +1555000`+strconv.Itoa(i%10)+`"},{"verb":"gather","input":["digits"],"actionHook":"/menu"}]`, string(res.Verbs))
	}

	rss0 := rss(t)
	var peak atomic.Int64
	peak.Store(rss0)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	// The neighbour invokes its app all along, every millisecond; each
	// sample counts as "alone" (the quiet stretch before each hostile case)
	// or "beside" (while the case runs), so that both see the same
	// background load on the machine.
	var alone, during []time.Duration
	var beside atomic.Bool
	var benignErrs atomic.Int64
	wg.Add(2)
	go func() { // the neighbour
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			st := time.Now()
			b := beside.Load()
			if _, err := p.Invoke(ctx, benign(i)); err != nil {
				benignErrs.Add(1)
			}
			if b {
				during = append(during, time.Since(st))
			} else {
				alone = append(alone, time.Since(st))
			}
			time.Sleep(time.Millisecond)
		}
	}()
	go func() { // the parent's RSS
		defer wg.Done()
		tk := time.NewTicker(5 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tk.C:
				if r := rss(t); r > peak.Load() {
					peak.Store(r)
				}
			}
		}
	}()

	fetchAll := func(urls ...string) string {
		var b strings.Builder
		b.WriteString("export default { async call(req, ctx) { const out = [];\n")
		for _, u := range urls {
			fmt.Fprintf(&b, "try { await ctx.fetch(%q); out.push('reached'); } catch (e) { out.push(String(e.message)); }\n", u)
		}
		b.WriteString("ctx.log.info(JSON.stringify(out)); return []; } }")
		return b.String()
	}

	cases := []struct {
		name  string
		src   string
		kinds []ErrorKind // acceptable failures; empty: must succeed
		check func(t *testing.T, res Result, err error)
	}{
		{name: "infinite loop", src: `export default { call() { for (;;) {} } }`, kinds: []ErrorKind{KindTimeout}},
		{name: "unbounded recursion", src: `function f(n) { return f(n + 1) + 1 }
export default { call() { return f(0) } }`, kinds: []ErrorKind{KindException},
			check: func(t *testing.T, _ Result, err error) { require.ErrorContains(t, err, "call stack") }},
		{name: "repeat 1<<28", src: `export default { call() { return ['x'.repeat(1 << 28)] } }`, kinds: []ErrorKind{KindException},
			check: func(t *testing.T, _ Result, err error) { require.ErrorContains(t, err, "RangeError") }},
		{name: "padStart 1<<28", src: `export default { call() { return [''.padStart(1 << 28, 'ab')] } }`, kinds: []ErrorKind{KindException}},
		{name: "Array(n).fill and join", src: `export default { call() { return Array(1e9).fill(0).join(',') } }`, kinds: []ErrorKind{KindException}},
		{name: "JSON.parse of 10 MB", src: `export default { call() {
  let s = '1'; while (s.length < 5e6) s = s + ',' + s;
  return JSON.parse('[' + s + ']');
} }`, kinds: []ErrorKind{KindException, KindTimeout}, check: func(t *testing.T, _ Result, err error) {
			// Building the string may use up the 100 ms on a slow machine
			// (the race detector); otherwise JSON.parse refuses it.
			if e, _ := AsError(err); e.Kind == KindException {
				require.ErrorContains(t, err, "JSON.parse")
			}
		}},
		{name: "JSON.stringify of a shared-reference bomb", src: `export default { call() {
  let a = ['0123456789'.repeat(100)]; for (let i = 0; i < 40; i++) a = [a, a];
  return [{verb: 'say', text: JSON.stringify(a)}];
} }`, kinds: []ErrorKind{KindException, KindTimeout}},
		{name: "returned reference bomb", src: `export default { call() {
  let a = {verb: 'say', text: 'x'.repeat(1000)}; let b = [a]; for (let i = 0; i < 40; i++) b = b.concat(b);
  return b;
} }`, kinds: []ErrorKind{KindException, KindTimeout, KindMemory}},
		{name: "array push loop", src: `export default { call() { const a = []; for (;;) a.push({n: a.length, s: 'xxxxxxxx'}); } }`,
			kinds: []ErrorKind{KindTimeout, KindMemory}},
		{name: "string doubling", src: `export default { call() { let s = 'x'; for (;;) s = s + s; } }`,
			kinds: []ErrorKind{KindTimeout, KindMemory, KindException}},
		{name: "catastrophic regex with a back-reference", src: `export default { call() {
  const re = /^(a+)+\1b$/; const s = 'a'.repeat(40);
  for (;;) re.test(s);
} }`, kinds: []ErrorKind{KindTimeout}},
		{name: "catastrophic regex with a lookahead", src: `export default { call() {
  const re = /^(?=(a|aa)+$)(a|aa)+c/; const s = 'a'.repeat(60);
  for (;;) re.test(s);
} }`, kinds: []ErrorKind{KindTimeout}},
		{name: "require('fs')", src: `const fs = require('fs');
export default { call() { return [{verb: 'say', text: fs.readFileSync('/etc/passwd', 'utf8')}] } }`, kinds: []ErrorKind{KindException},
			check: func(t *testing.T, _ Result, err error) { require.ErrorContains(t, err, "require is not available") }},
		{name: "process.exit()", src: `export default { call() { process.exit(1) } }`, kinds: []ErrorKind{KindException},
			check: func(t *testing.T, _ Result, err error) { require.ErrorContains(t, err, "process is not defined") }},
		{name: "never-settling promise", src: `export default { async call() { await new Promise(() => {}); return [] } }`, kinds: []ErrorKind{KindException}},
		{name: "fetch to loopback, metadata, [::1] and a name that resolves to loopback", src: fetchAll(
			"http://127.0.0.1:"+port+"/", "http://169.254.169.254/latest/meta-data/", "http://[::1]:"+port+"/", "http://localhost:"+port+"/"),
			check: func(t *testing.T, res Result, err error) {
				require.NoError(t, err)
				require.Len(t, res.Logs, 1)
				require.NotContains(t, res.Logs[0].Message, "reached")
				require.Equal(t, 4, strings.Count(res.Logs[0].Message, "destination is not allowed"), res.Logs[0].Message)
			}},
		{name: "1,000 fetches in one hook", src: `export default { async call(req, ctx) {
  let refused = 0, quota = 0;
  for (let i = 0; i < 1000; i++) {
    try { await ctx.fetch('http://127.0.0.1:` + port + `/x' + i); } catch (e) { if (e.message.includes('at most')) quota++; else refused++; }
  }
  ctx.log.info(refused, quota); return [];
} }`, check: func(t *testing.T, res Result, err error) {
			if e, ok := AsError(err); ok && e.Kind == KindTimeout && !strings.Contains(e.Message, "killed") {
				// 1,000 rejected promises can take more than 100 ms of script
				// time on a slow machine (the race detector): the hook still
				// ended at its deadline, and no more fetches went out.
				require.LessOrEqual(t, res.Fetches, lim.MaxFetches)
				return
			}
			require.NoError(t, err)
			require.Equal(t, fmt.Sprintf("%d %d", lim.MaxFetches, 1000-lim.MaxFetches), res.Logs[0].Message)
			require.Equal(t, lim.MaxFetches, res.Fetches, "the rest were refused in the worker")
		}},
	}
	for i, tc := range cases {
		// Each case starts with the pool back at full strength (workers that
		// earlier cases killed or retired have been replaced): what is
		// measured is the case's own deadline, not the pool's capacity.
		require.Eventually(t, func() bool { return p.Stats().Idle >= 2 }, 20*time.Second, time.Millisecond)
		time.Sleep(60 * time.Millisecond)
		beside.Store(true)
		t.Run(tc.name, func(t *testing.T) {
			defer beside.Store(false)
			st := time.Now()
			res, err := p.Invoke(ctx, Invocation{App: fmt.Sprintf("hostile-%d@1", i), Source: tc.src, Handlers: []string{"call"},
				AccountSID: "AC-hostile", Request: []byte(`{}`)})
			took := time.Since(st)
			require.LessOrEqual(t, took, lim.ScriptTimeout+250*time.Millisecond, "ended after %s (%v)", took, err)
			if len(tc.kinds) > 0 {
				e, ok := AsError(err)
				require.True(t, ok, "want one of %v, got %v", tc.kinds, err)
				require.Contains(t, tc.kinds, e.Kind, e.Error())
			}
			if tc.check != nil {
				tc.check(t, res, err)
			}
			t.Logf("%s in %s: %v", tc.name, took.Round(time.Millisecond), err)
		})
	}
	close(stop)
	wg.Wait()

	require.Zero(t, hits.Load(), "no fetch reached the loopback server")
	require.Zero(t, benignErrs.Load(), "the neighbour never failed")
	baseP99 := p99(alone)
	growth := peak.Load() - rss0
	duringP99 := p99(during)
	t.Logf("parent RSS %d MiB, peak growth %.1f MiB; benign p99 %s alone (%d invocations), %s beside the hostile suite (%d); workers spawned %d",
		rss0>>20, float64(growth)/(1<<20), baseP99, len(alone), duringP99, len(during), p.Stats().Spawned)
	require.Less(t, growth, int64(50<<20), "parent RSS growth")
	require.Less(t, duringP99, 2*baseP99, "benign p99 beside the hostile suite")
	smu.Lock()
	require.Empty(t, suspended)
	smu.Unlock()
}
