// Command jsapps is the JS-app benchmark of `make bench`: the hook round trip
// of a JS app through the sandbox's worker boundary (apps/js → sandbox pool →
// a voxrun worker process → goja and back), and, in the same run and
// interleaved in blocks so that both see the same machine, a keep-alive
// Node.js webhook on loopback that returns the same verbs, called through
// voxrun's own webhook client. It reports p50/p99 of both and their ratio,
// the memory of an idle worker, and the memory per concurrent invocation.
// Everything stays on 127.0.0.1 and stops by itself.
//
//	go run ./bench/jsapps -bin bin/voxrun -n 20000
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/voxrun/voxrun/apps"
	"github.com/voxrun/voxrun/apps/js"
	"github.com/voxrun/voxrun/apps/webhook"
	"github.com/voxrun/voxrun/bench/benchnode"
	"github.com/voxrun/voxrun/sandbox"
	"github.com/voxrun/voxrun/store"
	"github.com/voxrun/voxrun/store/memory"
)

// The app, as JS and as a Node.js webhook: the same verbs for the same payload.
const appSource = `export default {
  call(req, ctx) {
    ctx.state.turn = (ctx.state.turn || 0) + 1;
    return new Verbs()
      .say({text: 'Hello ' + req.from + ', press 1 for sales'})
      .gather({input: ['digits'], actionHook: '/menu', numDigits: 1, timeout: 5});
  },
};`

const nodeServer = `const http = require('http');
const srv = http.createServer((req, res) => {
  if (req.url === '/slow') { setTimeout(() => { res.writeHead(200, {'Content-Type': 'text/plain'}); res.end('ok'); }, 400); return; }
  let b = '';
  req.on('data', (c) => { b += c; });
  req.on('end', () => {
    const p = JSON.parse(b);
    const out = JSON.stringify([
      {verb: 'say', text: 'Hello ' + p.from + ', press 1 for sales'},
      {verb: 'gather', input: ['digits'], actionHook: '/menu', numDigits: 1, timeout: 5}]);
    res.writeHead(200, {'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(out)});
    res.end(out);
  });
});
srv.keepAliveTimeout = 120000;
srv.listen(0, '127.0.0.1', () => console.log(srv.address().port));
`

func main() {
	bin := flag.String("bin", "bin/voxrun", "the voxrun binary (its hidden worker mode runs the scripts)")
	n := flag.Int("n", 20000, "hook round trips measured per side")
	workers := flag.Int("workers", 2, "sandbox worker processes")
	conc := flag.Int("concurrency", 8, "concurrent invocations for the memory figure")
	flag.Parse()
	if err := run(*bin, *n, *workers, *conc); err != nil {
		fmt.Fprintln(os.Stderr, "jsapps:", err)
		os.Exit(1)
	}
}

func payload(i int) map[string]any {
	return map[string]any{"call_sid": "CA" + strconv.Itoa(i%500), "account_sid": "ACbench", "application_sid": "APbench",
		"direction": "inbound", "from": "+1555000" + strconv.Itoa(1000+i%1000), "to": "+15557654321",
		"call_id": "abc@127.0.0.1", "call_status": "ringing", "sip_status": 100}
}

func run(bin string, n, workers, conc int) error {
	bin, err := filepath.Abs(bin)
	if err != nil {
		return err
	}
	live := memory.New()
	defer live.Close()
	notFound := func(err error) bool { return errors.Is(err, store.ErrNotFound) }
	guard, err := webhook.NewGuard(webhook.LoopbackAllow, time.Second)
	if err != nil {
		return err
	}
	hc := webhook.NewHTTPClient(guard)
	pool, err := sandbox.New(sandbox.Config{Command: []string{bin}, Workers: workers, HTTPClient: hc, KV: live, KVNotFound: notFound})
	if err != nil {
		return err
	}
	defer pool.Close()
	jsApp, err := js.New(js.Config{Invoker: pool, State: live, StateNotFound: notFound},
		js.Program{AppSID: "JAbench", VersionSID: "v1", AccountSID: "ACbench", Source: appSource})
	if err != nil {
		return err
	}

	port, stopNode, err := startNode()
	if err != nil {
		return err
	}
	defer stopNode()
	client, err := webhook.NewClient(webhook.Options{Guard: guard})
	if err != nil {
		return err
	}
	hookURL := "http://127.0.0.1:" + port + "/call"

	ctx := context.Background()
	jsSend := func(i int) error {
		r, err := jsApp.Send(ctx, apps.Request{Kind: apps.KindSessionNew, Hook: apps.Hook{URL: "js:JAbench"}, Payload: payload(i)})
		if err == nil && !r.HasVerbs() {
			err = errors.New("no verbs")
		}
		return err
	}
	nodeSend := func(i int) error {
		r, err := client.Send(ctx, apps.Request{Kind: apps.KindSessionNew, Hook: apps.Hook{URL: hookURL}, Payload: payload(i), Secret: "bench-secret"})
		if err == nil && !r.HasVerbs() {
			err = errors.New("no verbs")
		}
		return err
	}
	// The same reply from both.
	a, err := jsApp.Send(ctx, apps.Request{Kind: apps.KindSessionNew, Payload: payload(7)})
	if err != nil {
		return err
	}
	b, err := client.Send(ctx, apps.Request{Kind: apps.KindSessionNew, Hook: apps.Hook{URL: hookURL}, Payload: payload(7)})
	if err != nil {
		return err
	}
	if string(a.Verbs) != string(b.Verbs) {
		return fmt.Errorf("the replies differ:\n js   %s\n node %s", a.Verbs, b.Verbs)
	}
	for i := range 2000 { // warm both
		if err := jsSend(i); err != nil {
			return err
		}
		if err := nodeSend(i); err != nil {
			return err
		}
	}

	var jsLat, nodeLat []time.Duration
	const block = 500
	for done := 0; done < n; done += block {
		for i := range block {
			st := time.Now()
			if err := jsSend(done + i); err != nil {
				return err
			}
			jsLat = append(jsLat, time.Since(st))
		}
		for i := range block {
			st := time.Now()
			if err := nodeSend(done + i); err != nil {
				return err
			}
			nodeLat = append(nodeLat, time.Since(st))
		}
	}
	jp50, jp99 := pct(jsLat, 50), pct(jsLat, 99)
	np50, np99 := pct(nodeLat, 50), pct(nodeLat, 99)
	fmt.Printf("hook round trip, %d each, sequential, %d workers, interleaved in blocks of %d:\n", len(jsLat), workers, block)
	fmt.Printf("  JS app (apps/js → worker → goja) p50 %s  p99 %s\n", us(jp50), us(jp99))
	fmt.Printf("  Node.js webhook (keep-alive)       p50 %s  p99 %s\n", us(np50), us(np99))
	fmt.Printf("  ratio node/js                       p50 %.1f×  p99 %.1f×\n", float64(np50)/float64(jp50), float64(np99)/float64(jp99))

	// Memory: an idle worker, then C invocations at once on C workers.
	var idle int64
	st := pool.Stats()
	for _, pid := range st.PIDs {
		idle += int64(benchnode.RSSKiB(pid))
	}
	fmt.Printf("memory: idle worker RSS %.1f MiB (mean of %d)\n", float64(idle)/float64(len(st.PIDs))/1024, len(st.PIDs))
	return concurrentMemory(bin, conc, hc, "http://127.0.0.1:"+port+"/slow", live, notFound)
}

// concurrentMemory measures the RSS that conc invocations in flight at once
// add (workers and parent together, sampled every 20 ms), each holding a
// 256 KiB string and a 2,000-element array while it awaits a fetch that
// takes 400 ms, so that an invocation's own memory shows.
func concurrentMemory(bin string, conc int, hc *http.Client, slowURL string, live *memory.Store, notFound func(error) bool) error {
	pool, err := sandbox.New(sandbox.Config{Command: []string{bin}, Workers: conc, HTTPClient: hc, KV: live, KVNotFound: notFound})
	if err != nil {
		return err
	}
	defer pool.Close()
	src := `export default { async call(req, ctx) {
  const s = 'x'.repeat(256 * 1024); const a = []; for (let i = 0; i < 2000; i++) a.push({i, s: 'n' + i});
  const r = await ctx.fetch(ctx.env.SLOW);
  return [{verb: 'say', text: s.slice(0, 8) + a.length + (await r.text())}];
} }`
	total := func() int64 {
		var kb int64 = int64(benchnode.RSSKiB(os.Getpid()))
		for _, pid := range pool.Stats().PIDs {
			kb += int64(benchnode.RSSKiB(pid))
		}
		return kb
	}
	ctx := context.Background()
	inv := sandbox.Invocation{App: "mem@1", Source: src, Handlers: []string{"call"}, AccountSID: "ACbench", Request: []byte(`{}`),
		Env: []byte(`{"SLOW":"` + slowURL + `"}`)}
	// Each worker compiles the program once first.
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() { defer wg.Done(); _, _ = pool.Invoke(ctx, inv) }()
	}
	wg.Wait()
	time.Sleep(200 * time.Millisecond)
	before := total()
	var peak atomic.Int64
	stop := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Add(1)
	go func() {
		defer sampler.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
				peak.Store(max(peak.Load(), total()))
			}
		}
	}()
	var failed int
	var firstErr error
	var mu sync.Mutex
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := pool.Invoke(ctx, inv); err != nil {
				mu.Lock()
				failed++
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(stop)
	sampler.Wait()
	fmt.Printf("memory: %d invocations in flight at once (each holding a 256 KiB string and 2,000 objects): RSS %0.1f → %0.1f MiB, %.2f MiB per concurrent invocation (beside its worker); %d failed\n",
		conc, float64(before)/1024, float64(peak.Load())/1024, float64(peak.Load()-before)/float64(conc)/1024, failed)
	if firstErr != nil {
		fmt.Printf("  first failure: %v\n", firstErr)
	}
	return nil
}

// startNode runs the Node.js webhook and returns its port.
func startNode() (string, func(), error) {
	dir, err := os.MkdirTemp("", "voxrun-jsapps-")
	if err != nil {
		return "", nil, err
	}
	script := filepath.Join(dir, "server.js")
	if err := os.WriteFile(script, []byte(nodeServer), 0o600); err != nil {
		return "", nil, err
	}
	cmd := exec.Command("node", script)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("node: %w", err)
	}
	stop := func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = os.RemoveAll(dir)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		stop()
		return "", nil, fmt.Errorf("node did not start: %w", err)
	}
	return strings.TrimSpace(line), stop, nil
}

func pct(d []time.Duration, p int) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}

func us(d time.Duration) string {
	return fmt.Sprintf("%6.1f µs", float64(d)/float64(time.Microsecond))
}
