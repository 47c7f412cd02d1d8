// Command restcalls is the live-calls REST benchmark of `make bench`: it
// starts voxrun with Redis live state (VOXRUN_TEST_REDIS, logical database
// 13, emptied first) and a sipp callee on loopback, then measures, with the
// same number of concurrent clients, side by side in one run:
//
//   - GET /healthz (the HTTP stack alone: the reference),
//   - GET /Accounts/{sid}/Calls while -held calls are up (each answer lists them all),
//   - GET /Accounts/{sid}/Calls/{callSid},
//   - POST /Accounts/{sid}/Calls, each a real outbound SIP call to sipp that
//     runs a short app_json and hangs up,
//
// reporting requests per second, p50 and p99 latency, the ratio to the
// reference, and for POST how many of the placed calls completed.
//
//	go run ./bench/restcalls -bin bin/voxrun -held 200 -seconds 5 -clients 8
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/voxrun/voxrun/bench/benchnode"
)

func main() {
	bin := flag.String("bin", "bin/voxrun", "the voxrun binary")
	held := flag.Int("held", 200, "calls kept up while GET /Calls is measured")
	seconds := flag.Int("seconds", 5, "how long each measurement runs")
	clients := flag.Int("clients", 8, "concurrent HTTP clients")
	profile := flag.String("profile", "", "write voxrun's CPU profile during GET /Calls to this file")
	flag.Parse()
	if err := run(*bin, *held, *seconds, *clients, *profile); err != nil {
		fmt.Fprintln(os.Stderr, "restcalls:", err)
		os.Exit(1)
	}
}

type node struct {
	base, key, acct string
	client          *http.Client
}

func run(bin string, held, seconds, clients int, profile string) error {
	redisURL := os.Getenv("VOXRUN_TEST_REDIS")
	if redisURL == "" {
		return fmt.Errorf("VOXRUN_TEST_REDIS is not set (run scripts/test-deps.sh and source .cache/test-env.sh)")
	}
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		return err
	}
	opts.DB = 13
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	if err := rdb.FlushDB(context.Background()).Err(); err != nil {
		return fmt.Errorf("redis: %w", err)
	}

	work, err := os.MkdirTemp("", "voxrun-restcalls-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	// The callee: sipp answering every call and waiting for voxrun's BYE.
	uasPort := benchnode.FreePort("udp")
	scenario, err := filepath.Abs(filepath.Join("bench", "restcalls", "uas.xml"))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(4*seconds+120)*time.Second)
	defer cancel()
	uas := exec.CommandContext(ctx, "sipp", "-sf", scenario, "-i", "127.0.0.1", "-p", strconv.Itoa(uasPort),
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(benchnode.FreePort("udp")), "-nostdin", "-buff_size", "8388608", "-trace_stat", "-fd", "1")
	uas.Dir = work
	if err := uas.Start(); err != nil {
		return fmt.Errorf("sipp: %w", err)
	}
	defer func() { _ = uas.Process.Signal(syscall.SIGTERM); _ = uas.Wait() }()

	httpAddr := fmt.Sprintf("127.0.0.1:%d", benchnode.FreePort("tcp"))
	debugAddr := fmt.Sprintf("127.0.0.1:%d", benchnode.FreePort("tcp"))
	dataDir := filepath.Join(work, "data")
	vx := exec.Command(bin, "serve", "--data-dir", dataDir, "--http-addr", httpAddr,
		"--sip-addr", fmt.Sprintf("127.0.0.1:%d", benchnode.FreePort("udp")),
		"--redis-url", fmt.Sprintf("redis://%s/%d", opts.Addr, opts.DB),
		"--api-rate-per-key", "0", "--api-rate-per-address", "0",
		"--log-level", "error", "--drain-timeout", "2s", "--debug-addr", debugAddr)
	vx.Env = append(os.Environ(), "VOXRUN_CONFIG=")
	vx.Stderr = os.Stderr
	if err := vx.Start(); err != nil {
		return err
	}
	defer func() { _ = vx.Process.Signal(syscall.SIGTERM); _ = vx.Wait() }()
	n := &node{base: "http://" + httpAddr, client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients * 2}}}
	if err := n.waitReady(); err != nil {
		return err
	}
	if err := n.credentials(dataDir); err != nil {
		return err
	}
	target := fmt.Sprintf("sip:callee@127.0.0.1:%d", uasPort)
	callsPath := "/v1/Accounts/" + n.acct + "/Calls"

	// Calls held up while the reads are measured.
	var sample string
	for i := 0; i < held; i++ {
		sid, err := n.place(target, `[{"verb":"pause","length":600}]`)
		if err != nil {
			return fmt.Errorf("holding calls: %w", err)
		}
		sample = sid
	}
	if err := n.waitActive(callsPath, held); err != nil {
		return err
	}
	fmt.Printf("voxrun with Redis live state; %d concurrent clients, %d s per measurement, %d calls up during the reads\n", clients, seconds, held)

	d := time.Duration(seconds) * time.Second
	ref := measure(clients, d, func() error { return n.get("/healthz", nil) })
	report("GET /healthz (reference)", ref, ref)
	var listed int
	if profile != "" {
		go func() {
			if err := benchnode.Fetch(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", debugAddr, max(1, seconds-1)), profile); err != nil {
				fmt.Fprintln(os.Stderr, "profile:", err)
			}
		}()
	}
	list := measure(clients, d, func() error {
		var out []map[string]any
		err := n.get(callsPath, &out)
		listed = len(out)
		return err
	})
	report(fmt.Sprintf("GET /Calls (%d calls each)", listed), list, ref)
	one := measure(clients, d, func() error { return n.get(callsPath+"/"+sample, nil) })
	report("GET /Calls/{callSid}", one, ref)

	// Placed calls: answered by sipp, a 0.5 s app, hung up by voxrun.
	post := measure(clients, d, func() error {
		_, err := n.place(target, `[{"verb":"pause","length":0.5},{"verb":"hangup"}]`)
		return err
	})
	report("POST /Calls (a real SIP call each)", post, ref)
	completed, failed, err := n.outcomes(ctx, post.ok)
	if err != nil {
		return err
	}
	fmt.Printf("  of %d placed calls: %d completed, %d did not (busy, no-answer or failed)\n", post.ok, completed, failed)
	return nil
}

// result is one measurement.
type result struct {
	ok, errs int
	elapsed  time.Duration
	lat      []time.Duration
}

func (r result) rate() float64 { return float64(r.ok) / r.elapsed.Seconds() }

func (r result) pct(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	return r.lat[int(float64(len(r.lat)-1)*p)]
}

// measure runs f from clients goroutines for d.
func measure(clients int, d time.Duration, f func() error) result {
	var mu sync.Mutex
	var r result
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			ok, errs := 0, 0
			for time.Now().Before(deadline) {
				t := time.Now()
				if err := f(); err != nil {
					errs++
					continue
				}
				lat = append(lat, time.Since(t))
				ok++
			}
			mu.Lock()
			r.lat = append(r.lat, lat...)
			r.ok += ok
			r.errs += errs
			mu.Unlock()
		}()
	}
	wg.Wait()
	r.elapsed = time.Since(start)
	sort.Slice(r.lat, func(i, j int) bool { return r.lat[i] < r.lat[j] })
	return r
}

func report(name string, r, ref result) {
	fmt.Printf("%-40s %8.0f req/s  p50 %7.2f ms  p99 %7.2f ms  errors %d  (throughput %.2f× the reference)\n",
		name, r.rate(), ms(r.pct(0.5)), ms(r.pct(0.99)), r.errs, r.rate()/ref.rate())
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func (n *node) waitReady() error { return benchnode.WaitReady(n.base + "/readyz") }

func (n *node) credentials(dataDir string) (err error) {
	n.key, n.acct, err = benchnode.Credentials(dataDir)
	return err
}

func (n *node) do(method, path string, body any, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		j, _ := json.Marshal(body)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, n.base+path, rd)
	req.Header.Set("Authorization", "Bearer "+n.key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := n.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	if out != nil {
		return resp.StatusCode, json.Unmarshal(raw, out)
	}
	return resp.StatusCode, nil
}

func (n *node) get(path string, out any) error {
	_, err := n.do("GET", path, nil, out)
	return err
}

func (n *node) place(target, app string) (string, error) {
	var out struct{ Sid string }
	_, err := n.do("POST", "/v1/Accounts/"+n.acct+"/Calls", map[string]any{
		"from": "+15550001111", "to": map[string]any{"type": "sip", "sipUri": target}, "app_json": app,
	}, &out)
	return out.Sid, err
}

// waitActive waits until want calls are in progress.
func (n *node) waitActive(path string, want int) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		var out []map[string]any
		if err := n.get(path+"?callStatus=in-progress", &out); err == nil && len(out) >= want {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("the held calls did not all reach in-progress")
}

// outcomes waits for the placed calls to end and counts them by their
// final status in live state (the held calls are still in progress).
func (n *node) outcomes(ctx context.Context, placed int) (completed, failed int, err error) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		completed, failed = 0, 0
		var out []map[string]any
		if err := n.get("/v1/Accounts/"+n.acct+"/Calls", &out); err != nil {
			return 0, 0, err
		}
		active := 0
		for _, c := range out {
			switch c["call_status"] {
			case "completed":
				completed++
			case "in-progress":
				active++
			case "trying", "ringing", "early-media":
				active++
			default:
				failed++
			}
		}
		if completed+failed >= placed || time.Now().After(deadline) {
			return completed, failed, ctx.Err()
		}
		time.Sleep(200 * time.Millisecond)
	}
}
