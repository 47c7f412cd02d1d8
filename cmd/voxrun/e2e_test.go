package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/sip/siptest"
	"github.com/voxrun/voxrun/store/storetest"
)

// rest calls voxrun's REST API with a key and decodes the JSON answer.
func rest(t *testing.T, base, key, method, path string, body any) map[string]any {
	t.Helper()
	var out map[string]any
	restInto(t, base, key, method, path, body, &out)
	return out
}

// restList is a GET of a list of the REST API.
func restList(t *testing.T, base, key, path string) []map[string]any {
	t.Helper()
	var out []map[string]any
	restInto(t, base, key, "GET", path, nil, &out)
	return out
}

// restStatus sends a request with key and returns its status and body,
// whatever they are.
func restStatus(t *testing.T, base, key, method, path string, body any) (int, string) {
	t.Helper()
	b, err := json.Marshal(body)
	require.NoError(t, err)
	req, err := http.NewRequest(method, base+path, bytes.NewReader(b))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

// rssKiB is a process's resident memory, from /proc.
func rssKiB(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(t, err)
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			n, err := strconv.Atoi(strings.Fields(l)[1])
			require.NoError(t, err)
			return n
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// restInto sends a request with key and decodes a success's body into out.
func restInto(t *testing.T, base, key, method, path string, body, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, base+path, rd)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	require.Less(t, resp.StatusCode, 300, "%s %s: %d %s", method, path, resp.StatusCode, raw)
	_ = json.Unmarshal(raw, out)
}

// tenantNode is a started voxrun and its first tenant, for end-to-end tests.
type tenantNode struct {
	p               *proc
	ready           map[string]any
	base, key, acct string
}

// startTenant starts voxrun serve with args on a fresh data directory and
// reads the first tenant's account key and sid.
func startTenant(t *testing.T, args ...string) tenantNode {
	t.Helper()
	dataDir := filepath.Join(t.TempDir(), "data")
	p := startServe(t, dataDir, args...)
	ready := p.waitLog(t, "voxrun ready")
	cred := credentials(t, dataDir)
	return tenantNode{p: p, ready: ready, base: "http://" + p.http + "/v1", key: cred["account_api_key"], acct: cred["account_sid"]}
}

func credentials(t *testing.T, dataDir string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dataDir, "initial-credentials"))
	require.NoError(t, err)
	out := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			out[k] = v
		}
	}
	return out
}

type hookLog struct {
	mu  sync.Mutex
	got map[string][]map[string]any
}

func (h *hookLog) add(path string, p map[string]any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.got[path] = append(h.got[path], p)
}

// webhookApp is a test's webhook application on loopback: it records
// every request's JSON body by path and answers the paths of replies with
// their verb documents, any other path with 204.
func webhookApp(t *testing.T, replies map[string]string) (*httptest.Server, *hookLog) {
	t.Helper()
	hooks := &hookLog{got: map[string][]map[string]any{}}
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p map[string]any
		_ = json.NewDecoder(r.Body).Decode(&p)
		hooks.add(r.URL.Path, p)
		reply, ok := replies[r.URL.Path]
		if !ok {
			w.WriteHeader(204)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, reply)
	}))
	t.Cleanup(app.Close)
	return app, hooks
}

func (h *hookLog) get(path string) []map[string]any {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]map[string]any(nil), h.got[path]...)
}

// A real call end to end: sipp dials a provisioned number over UDP, voxrun
// routes it by the carrier gateway to the application, whose webhook says
// and gathers; sipp presses 1 as RFC 2833 over RTP; the action hook answers
// with a hangup and voxrun's BYE reaches sipp. The hooks, the CDR and the
// call's live record are checked.
func TestCallEndToEndWithSippAndAWebhookApp(t *testing.T) {
	t.Run("embedded defaults", func(t *testing.T) { callEndToEnd(t, nil) })
	t.Run("mysql and redis", func(t *testing.T) {
		rdb, args := mysqlAndRedis(t, 11)
		callEndToEnd(t, rdb, args...)
	})
}

// mysqlAndRedis gives a test a MariaDB database of its own and Redis
// logical database db (emptied first), as serve arguments, with a client
// of that Redis database to read the live state voxrun writes.
func mysqlAndRedis(t *testing.T, db int) (*redis.Client, []string) {
	t.Helper()
	dsn := storetest.MySQLDatabase(t)
	opts, err := redis.ParseURL(storetest.Server(t, storetest.RedisEnv))
	require.NoError(t, err)
	opts.DB = db
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { _ = rdb.Close() })
	require.NoError(t, rdb.FlushDB(context.Background()).Err())
	url := fmt.Sprintf("redis://%s/%d", opts.Addr, opts.DB)
	return rdb, []string{"--mysql-dsn", dsn, "--redis-url", url, "--hook-allow", "127.0.0.0/8"}
}

// callEndToEnd runs the call on a voxrun started with args; with rdb, the
// call's hash is also read from Redis in jambonz's layout.
func callEndToEnd(t *testing.T, rdb *redis.Client, args ...string) {
	sipp := siptest.Tool(t, "sipp", "sip-tester")
	app, hooks := webhookApp(t, map[string]string{
		"/call": `[{"verb":"gather","say":{"text":"Welcome. Press one."},"numDigits":1,"timeout":10,"actionHook":"/menu"}]`,
		"/menu": `[{"verb":"hangup"}]`,
	})

	n := startTenant(t, args...)
	p, ready, base, key, acct := n.p, n.ready, n.base, n.key, n.acct
	sipAddr := ready["sip_udp"].(string)

	provisionNumber(t, base, key, acct, "15551234567", map[string]any{
		"call_hook":        map[string]any{"url": app.URL + "/call"},
		"call_status_hook": map[string]any{"url": app.URL + "/status"},
	})

	runSippCall(t, sipp, "call_gather_dtmf.xml", sipAddr, "15551234567")

	require.Eventually(t, func() bool {
		st := hooks.get("/status")
		return len(st) > 0 && st[len(st)-1]["call_status"] == "completed"
	}, 10*time.Second, 20*time.Millisecond)

	first := hooks.get("/call")
	require.Len(t, first, 1)
	require.Equal(t, "inbound", first[0]["direction"])
	require.Equal(t, "+15550001111", first[0]["from"])
	require.Equal(t, "15551234567", first[0]["to"])
	require.Equal(t, acct, first[0]["account_sid"])
	require.Equal(t, "loopback carrier 15551234567", first[0]["originating_sip_trunk_name"])
	menu := hooks.get("/menu")
	require.Len(t, menu, 1)
	require.Equal(t, "1", menu[0]["digits"], "the RFC 2833 digit from sipp's pcap reached the gather")
	require.Equal(t, "dtmfDetected", menu[0]["reason"])
	var statuses []string
	for _, s := range hooks.get("/status") {
		statuses = append(statuses, s["call_status"].(string))
	}
	require.Equal(t, []string{"trying", "in-progress", "completed"}, statuses)
	callSID := first[0]["call_sid"].(string)

	// The CDR reaches the database (the writer flushes every second).
	require.Eventually(t, func() bool {
		page := rest(t, base, key, "GET", "/Accounts/"+acct+"/RecentCalls?page=1&count=25", nil)
		data, _ := page["data"].([]any)
		for _, d := range data {
			if c, ok := d.(map[string]any); ok && c["call_sid"] == callSID {
				return c["answered"] == true && c["direction"] == "inbound"
			}
		}
		return false
	}, 10*time.Second, 100*time.Millisecond, "the CDR is listed in RecentCalls")

	if rdb != nil {
		ctx := context.Background()
		key := "call:" + acct + ":" + callSID
		h, err := rdb.HGetAll(ctx, key).Result()
		require.NoError(t, err)
		require.Equal(t, "completed", h["call_status"])
		require.Equal(t, "inbound", h["direction"])
		require.NotEmpty(t, h["node"])
		ttl, err := rdb.TTL(ctx, key).Result()
		require.NoError(t, err)
		require.LessOrEqual(t, ttl, time.Hour, "an ended call's hash expires within the hour")
		score, err := rdb.ZScore(ctx, "active-call-sids", key).Result()
		require.NoError(t, err)
		require.Positive(t, score)
	}
	p.stop(t)
}

// provisionNumber makes 127.0.0.1 an inbound gateway of a new carrier of the
// account and points number at a new application with the given hooks.
func provisionNumber(t *testing.T, base, key, acct, number string, hooks map[string]any) {
	t.Helper()
	carrier := rest(t, base, key, "POST", "/VoipCarriers", map[string]any{"name": "loopback carrier " + number, "account_sid": acct})
	rest(t, base, key, "POST", "/SipGateways", map[string]any{"voip_carrier_sid": carrier["sid"], "ipv4": "127.0.0.1", "netmask": 32, "inbound": true})
	app := map[string]any{"name": "app " + number, "account_sid": acct}
	for k, v := range hooks {
		app[k] = v
	}
	application := rest(t, base, key, "POST", "/Applications", app)
	rest(t, base, key, "POST", "/PhoneNumbers", map[string]any{"number": number, "voip_carrier_sid": carrier["sid"], "application_sid": application["sid"], "account_sid": acct})
}

// runSippCall runs one call of a scenario in testdata/sipp against voxrun,
// on 127.0.0.1, bounded in time; extra are more sipp arguments.
func runSippCall(t *testing.T, sipp, scenario, sipAddr, service string, extra ...string) {
	t.Helper()
	abs, err := filepath.Abs(filepath.Join("testdata", "sipp", scenario))
	require.NoError(t, err)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	args := append([]string{"-sf", abs, "-m", "1", "-l", "1",
		"-i", "127.0.0.1", "-p", strconv.Itoa(siptest.FreeUDPPort(t)), "-mi", "127.0.0.1", "-mp", strconv.Itoa(siptest.FreeUDPPort(t)),
		"-s", service, "-timeout", "30s", "-timeout_error", "-nostdin",
		"-trace_err", "-error_file", filepath.Join(dir, "errors.log"),
		"-trace_msg", "-message_file", filepath.Join(dir, "messages.log")}, extra...)
	cmd := exec.CommandContext(ctx, sipp, append(args, sipAddr)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		errs, _ := os.ReadFile(filepath.Join(dir, "errors.log"))
		msgs, _ := os.ReadFile(filepath.Join(dir, "messages.log"))
		t.Fatalf("sipp %s failed: %v\n%s\n--- errors\n%s\n--- messages\n%s", scenario, err, lastBytes(out), errs, msgs)
	}
}

// A registered SIP client's call: challenged, authenticated with the client's
// password (provisioned over REST, encrypted at rest), routed to the
// account's device-calling application.
func TestClientCallIsChallengedAndRoutedToTheDeviceApp(t *testing.T) {
	sipp := siptest.Tool(t, "sipp", "sip-tester")
	hooks := &hookLog{got: map[string][]map[string]any{}}
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p map[string]any
		_ = json.NewDecoder(r.Body).Decode(&p)
		hooks.add(r.URL.Path, p)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `[{"verb":"answer"},{"verb":"pause","length":0.3},{"verb":"hangup"}]`)
	}))
	defer app.Close()
	n := startTenant(t)
	p, ready, base, key, acct := n.p, n.ready, n.base, n.key, n.acct
	application := rest(t, base, key, "POST", "/Applications", map[string]any{"name": "devices", "account_sid": acct, "call_hook": map[string]any{"url": app.URL + "/device"}})
	rest(t, base, key, "PUT", "/Accounts/"+acct, map[string]any{"device_calling_application_sid": application["sid"]})
	rest(t, base, key, "POST", "/Clients", map[string]any{"account_sid": acct, "username": "alice", "password": "s3cret-Pass", "is_active": true})

	runSippCall(t, sipp, "client_call_auth.xml", ready["sip_udp"].(string), "18005550100", "-au", "alice", "-ap", "s3cret-Pass")
	calls := hooks.get("/device")
	require.Len(t, calls, 1)
	require.Equal(t, "18005550100", calls[0]["to"])
	require.Equal(t, "alice", calls[0]["from"])
	p.stop(t)
}

func lastBytes(b []byte) []byte {
	if len(b) > 4000 {
		return b[len(b)-4000:]
	}
	return b
}

// SIGTERM with a call up: /readyz turns 503 and voxrun waits for the call;
// a second signal exits at once with status 1.
func TestDrainWaitsForCallsAndSecondSignalExits(t *testing.T) {
	sipp := siptest.Tool(t, "sipp", "sip-tester")
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/call" {
			io.WriteString(w, `[{"verb":"answer"},{"verb":"pause","length":60}]`)
			return
		}
		w.WriteHeader(204)
	}))
	defer app.Close()
	n := startTenant(t)
	p, ready, base, key, acct := n.p, n.ready, n.base, n.key, n.acct
	provisionNumber(t, base, key, acct, "15550009999", map[string]any{"call_hook": map[string]any{"url": app.URL + "/call"}})

	scenario, err := filepath.Abs(filepath.Join("testdata", "sipp", "call_wait_bye.xml"))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, sipp, "-sf", scenario, "-m", "1", "-l", "1",
		"-i", "127.0.0.1", "-p", strconv.Itoa(siptest.FreeUDPPort(t)), "-mi", "127.0.0.1", "-mp", strconv.Itoa(siptest.FreeUDPPort(t)),
		"-s", "15550009999", "-timeout", "25s", "-nostdin", ready["sip_udp"].(string))
	cmd.Dir = t.TempDir()
	require.NoError(t, cmd.Start())
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()

	// Wait until the call is up: its live record says in-progress.
	require.Eventually(t, func() bool {
		req, _ := http.NewRequest("GET", base+"/Accounts/"+acct+"/CallCount", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		n, _ := m["inbound"].(float64)
		return n >= 1
	}, 15*time.Second, 50*time.Millisecond, "the call is counted")

	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	p.waitLog(t, "waiting for calls to end")
	code, _ := p.get(t, "/readyz")
	require.Equal(t, 503, code, "draining")

	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-p.done:
		var ee *exec.ExitError
		require.ErrorAs(t, err, &ee)
		require.Equal(t, 1, ee.ExitCode(), "the second signal exits at once with status 1")
		p.done <- err
	case <-time.After(5 * time.Second):
		t.Fatal("the second signal did not exit at once")
	}
}

// Live control over REST on a real call: the application keeps the call in a
// long pause; PUT call_hook redirects it to a relative hook whose document
// hangs up, and voxrun's BYE reaches sipp.
func TestLiveControlRedirectsARealCall(t *testing.T) {
	sipp := siptest.Tool(t, "sipp", "sip-tester")
	hooks := &hookLog{got: map[string][]map[string]any{}}
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p map[string]any
		_ = json.NewDecoder(r.Body).Decode(&p)
		hooks.add(r.URL.Path, p)
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/call":
			io.WriteString(w, `[{"verb":"answer"},{"verb":"pause","length":60}]`)
		case "/next":
			io.WriteString(w, `[{"verb":"hangup"}]`)
		default:
			w.WriteHeader(204)
		}
	}))
	defer app.Close()
	n := startTenant(t)
	p, ready, base, key, acct := n.p, n.ready, n.base, n.key, n.acct
	provisionNumber(t, base, key, acct, "15550007777", map[string]any{"call_hook": map[string]any{"url": app.URL + "/call"}})

	done := make(chan struct{})
	go func() {
		defer close(done)
		runSippCall(t, sipp, "call_wait_bye.xml", ready["sip_udp"].(string), "15550007777")
	}()
	var callSID string
	require.Eventually(t, func() bool {
		calls := hooks.get("/call")
		if len(calls) == 0 {
			return false
		}
		callSID = calls[0]["call_sid"].(string)
		got := rest(t, base, key, "GET", "/Accounts/"+acct+"/Calls/"+callSID, nil)
		return got["call_status"] == "in-progress"
	}, 15*time.Second, 50*time.Millisecond)

	req, err := http.NewRequest("PUT", base+"/Accounts/"+acct+"/Calls/"+callSID, strings.NewReader(`{"call_hook":"/next"}`))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 202, resp.StatusCode)
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the redirected call did not hang up")
	}
	require.Len(t, hooks.get("/next"), 1, "the relative hook resolved against the call hook")
	p.stop(t)
}
