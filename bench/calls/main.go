// Command calls is the full-call load benchmark of `make bench`: it starts
// voxrun on embedded defaults, provisions a carrier, a number and an
// application (answer, pause, hangup) over the REST API: a loopback webhook
// app, or with -app js the same as a JS app run in voxrun's sandbox, offers calls with sipp
// at a fixed rate over loopback UDP, and reports the calls that completed and
// failed, sipp's retransmissions, the INVITE → 200 OK time (p50, p99), and
// voxrun's CPU and memory. Everything stays on 127.0.0.1 and stops by itself.
//
//	go run ./bench/calls -bin bin/voxrun -rate 500 -seconds 20 -pause 1s [-app js]
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"time"

	"github.com/voxrun/voxrun/bench/benchnode"
	"github.com/voxrun/voxrun/bench/sippout"
)

func main() {
	bin := flag.String("bin", "bin/voxrun", "the voxrun binary")
	rate := flag.Int("rate", 500, "calls per second offered")
	seconds := flag.Int("seconds", 20, "how long calls are offered")
	pause := flag.Duration("pause", time.Second, "how long the application keeps each call up")
	heap := flag.String("heap", "", "write voxrun's heap profile, taken half-way through, to this file")
	kind := flag.String("app", "webhook", "the application: webhook (a loopback HTTP server) or js (a JS app in voxrun's sandbox)")
	flag.Parse()
	if *kind != "webhook" && *kind != "js" {
		fmt.Fprintln(os.Stderr, "calls: -app is webhook or js")
		os.Exit(2)
	}
	if err := run(*bin, *rate, *seconds, *pause, *heap, *kind); err != nil {
		fmt.Fprintln(os.Stderr, "calls:", err)
		os.Exit(1)
	}
}

func run(bin string, rate, seconds int, pause time.Duration, heapFile, kind string) error {
	work, err := os.MkdirTemp("", "voxrun-calls-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	// The application: a loopback webhook server.
	doc := fmt.Sprintf(`[{"verb":"answer"},{"verb":"pause","length":%g},{"verb":"hangup"}]`, pause.Seconds())
	appLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	appSrv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if r.URL.Path != "/call" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, doc)
	})}
	go func() { _ = appSrv.Serve(appLn) }()
	defer appSrv.Close()

	httpAddr := fmt.Sprintf("127.0.0.1:%d", benchnode.FreePort("tcp"))
	sipAddr := fmt.Sprintf("127.0.0.1:%d", benchnode.FreePort("udp"))
	dataDir := filepath.Join(work, "data")
	debugAddr := fmt.Sprintf("127.0.0.1:%d", benchnode.FreePort("tcp"))
	vx := exec.Command(bin, "serve", "--data-dir", dataDir, "--http-addr", httpAddr, "--sip-addr", sipAddr,
		"--log-level", "error", "--drain-timeout", "5s", "--debug-addr", debugAddr)
	vx.Env = append(os.Environ(), "VOXRUN_CONFIG=")
	vx.Stderr = os.Stderr
	if err := vx.Start(); err != nil {
		return err
	}
	defer func() { _ = vx.Process.Signal(syscall.SIGTERM); _ = vx.Wait() }()
	if err := benchnode.WaitReady("http://" + httpAddr + "/readyz"); err != nil {
		return err
	}
	js := ""
	if kind == "js" {
		js = fmt.Sprintf("export default { call: () => [{verb: 'answer'}, {verb: 'pause', length: %g}, {verb: 'hangup'}] };", pause.Seconds())
	}
	if err := provision("http://"+httpAddr+"/v1", dataDir, "http://"+appLn.Addr().String(), js); err != nil {
		return err
	}

	sippDir := filepath.Join(work, "sipp")
	if err := os.MkdirAll(sippDir, 0o755); err != nil {
		return err
	}
	scenario, err := filepath.Abs(filepath.Join("bench", "calls", "uac_wait_bye.xml"))
	if err != nil {
		return err
	}
	total := rate * seconds
	limit := int(float64(rate)*(pause.Seconds()+3)) + 100
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(seconds)*time.Second+pause+60*time.Second)
	defer cancel()
	cpu0 := benchnode.CPUTime(vx.Process.Pid)
	t0 := time.Now()
	sipp := exec.CommandContext(ctx, "sipp", "-sf", scenario, "-r", strconv.Itoa(rate), "-m", strconv.Itoa(total),
		"-l", strconv.Itoa(limit), "-i", "127.0.0.1", "-p", strconv.Itoa(benchnode.FreePort("udp")),
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(benchnode.FreePort("udp")), "-s", "15551230000",
		"-timeout", strconv.Itoa(seconds+int(pause.Seconds())+40)+"s", "-nostdin", "-trace_rtt", "-rtt_freq", "1",
		"-trace_stat", "-fd", "1", "-trace_err", "-buff_size", "8388608", sipAddr)
	sipp.Dir = sippDir
	if heapFile != "" {
		go func() {
			time.Sleep(time.Duration(seconds) * time.Second / 2)
			if err := benchnode.Fetch("http://"+debugAddr+"/debug/pprof/heap", heapFile); err != nil {
				fmt.Fprintln(os.Stderr, "heap profile:", err)
			}
		}()
	}
	out, serr := sipp.CombinedOutput()
	elapsed := time.Since(t0)
	cpu := benchnode.CPUTime(vx.Process.Pid) - cpu0
	rss := benchnode.RSSKiB(vx.Process.Pid)

	if os.Getenv("VOXRUN_BENCH_KEEP") != "" {
		errs, _ := os.ReadFile(firstGlob(sippDir, "*_errors.log"))
		fmt.Printf("sipp errors (tail):\n%s\n", sippout.Tail(errs))
	}
	stats, err := sippout.Stats(sippDir)
	if err != nil {
		return fmt.Errorf("sipp stats: %v (sipp: %v)\n%s", err, serr, sippout.Tail(out))
	}
	rtts, err := sippout.ResponseTimes(sippDir)
	if err != nil {
		return fmt.Errorf("sipp rtt: %v", err)
	}
	sort.Float64s(rtts)
	pct := func(p float64) float64 {
		if len(rtts) == 0 {
			return 0
		}
		return rtts[int(float64(len(rtts)-1)*p)]
	}
	fmt.Printf("offered %d calls at %d/s for %ds, %s app keeps each %v\n", total, rate, seconds, kind, pause)
	fmt.Printf("successful %s, failed %s, retransmissions %s (elapsed %.1fs)\n",
		stats["SuccessfulCall(C)"], stats["FailedCall(C)"], stats["Retransmissions(C)"], elapsed.Seconds())
	fmt.Printf("INVITE -> 200 OK: p50 %.2f ms, p99 %.2f ms, max %.2f ms (%d calls)\n", pct(0.5), pct(0.99), pct(1), len(rtts))
	fmt.Printf("voxrun CPU %.2f cores over the run, RSS %d MiB at the end\n", cpu.Seconds()/elapsed.Seconds(), rss/1024)
	if serr != nil {
		fmt.Printf("sipp exited with %v\n", serr)
	}
	return nil
}

// provision makes the carrier, the number and the application: a webhook
// app at appURL, or the JS app js when it is set.
func provision(base, dataDir, appURL, js string) error {
	key, acct, err := benchnode.Credentials(dataDir)
	if err != nil {
		return err
	}
	post := func(path string, body map[string]any) (string, error) {
		j, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", base+path, bytes.NewReader(j))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		var out struct{ Sid string }
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 201 {
			return "", fmt.Errorf("POST %s: %d %s", path, resp.StatusCode, raw)
		}
		_ = json.Unmarshal(raw, &out)
		return out.Sid, nil
	}
	carrier, err := post("/VoipCarriers", map[string]any{"name": "bench", "account_sid": acct})
	if err != nil {
		return err
	}
	if _, err := post("/SipGateways", map[string]any{"voip_carrier_sid": carrier, "ipv4": "127.0.0.1", "netmask": 32, "inbound": true}); err != nil {
		return err
	}
	application := map[string]any{"name": "bench", "account_sid": acct, "call_hook": map[string]any{"url": appURL + "/call"}}
	if js != "" {
		jsApp, err := post("/Accounts/"+acct+"/JsApps", map[string]any{"name": "bench"})
		if err != nil {
			return err
		}
		if _, err := post("/Accounts/"+acct+"/JsApps/"+jsApp+"/Versions?activate=true", map[string]any{"source": js}); err != nil {
			return err
		}
		application = map[string]any{"name": "bench", "account_sid": acct, "js_app_sid": jsApp}
	}
	app, err := post("/Applications", application)
	if err != nil {
		return err
	}
	_, err = post("/PhoneNumbers", map[string]any{"number": "15551230000", "voip_carrier_sid": carrier, "application_sid": app, "account_sid": acct})
	return err
}

func firstGlob(dir, pattern string) string {
	m, _ := filepath.Glob(filepath.Join(dir, pattern))
	if len(m) == 0 {
		return ""
	}
	return m[0]
}
