// Command sipload is the SIP signalling benchmark of issue 4: sipp's built-in
// uac scenario (INVITE, 200, ACK, pause, BYE) over loopback UDP against two
// UASs built into this process, side by side in one run:
//
//   - bare: a UAS on sipgo alone (200 with a fixed SDP, dialog state in
//     sipgo's DialogServerCache, ACK and BYE handled, no RTP);
//   - voxrun: sip.Server (intake, admission with loopback exempt from pike,
//     no call budget) with sip/leg's Agent, which answers 200 with SDP and
//     keeps the dialog until the BYE. sip/leg gives every call an RTP session
//     (two UDP sockets from a port range, an entry on one media clock,
//     comfort silence once answered); it has no leg without media, so there
//     is no media-less voxrun variant.
//
// In order: a hold test (N calls held open; heap, RSS and goroutines per
// held dialog); then the rate is stepped up (a fresh server per step, one
// sipp run each) to find each server's knee, the highest rate reached with 0
// failed calls and 0 retransmissions, reporting calls/s achieved, failures,
// retransmissions, this process's CPU, its peak RSS (/proc/self/status,
// sampled), the peak of dialogs held and the ratio voxrun/bare per step; then
// the past-the-knee test: 3× voxrun's knee with a calls/s budget (503 beyond
// it), whether every INVITE got a final answer, and how soon the server holds
// no dialog again. It measures signalling, not routing, applications or media
// quality.
//
// Everything stays on 127.0.0.1, every phase is bounded in time, and every
// sipp it starts is killed by PID at the end.
//
//	go run ./bench/sipload -seconds 10 [-cpuprofile cpu.pb]   # -seconds 60 for the figure
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/voxrun/voxrun/bench/benchnode"
	"github.com/voxrun/voxrun/sip/admission"
)

type options struct {
	sipp           string
	rates          []int
	seconds        int
	callPause      time.Duration
	hold           int
	holdRate       int
	holdPause      time.Duration
	overloadSecs   int
	overloadBudget float64
	cleanWithin    time.Duration
	cpuProfile     string
	rtpMin, rtpMax int
	servers        []string
	keep           bool
	settleWait     time.Duration
}

func main() {
	var o options
	rates := flag.String("rates", "1000,2000,4000,6000,8000", "offered calls/s, stepped up")
	flag.StringVar(&o.sipp, "sipp", "sipp", "the sipp binary")
	flag.IntVar(&o.seconds, "seconds", 10, "how long each step offers calls (60 for the issue's figure)")
	flag.DurationVar(&o.callPause, "pause", 0, "how long sipp holds each call before its BYE (-d)")
	flag.IntVar(&o.hold, "hold", 5000, "calls held open in the memory test (0 skips it)")
	flag.IntVar(&o.holdRate, "hold-rate", 1000, "calls/s while the hold test builds up")
	flag.DurationVar(&o.holdPause, "hold-pause", 45*time.Second, "how long the hold test holds each call")
	flag.IntVar(&o.overloadSecs, "overload-seconds", 30, "how long 3× the knee is offered (0 skips it)")
	flag.Float64Var(&o.overloadBudget, "overload-budget", -1, "calls/s budget (503 beyond) in the overload test: -1 the measured knee, 0 none")
	flag.DurationVar(&o.cleanWithin, "clean-within", 30*time.Second, "how soon after the overload the server must hold no dialog")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the voxrun step at the highest rate to this file")
	flag.IntVar(&o.rtpMin, "rtp-min", 10000, "lowest RTP port of voxrun's range")
	flag.IntVar(&o.rtpMax, "rtp-max", 32000, "highest RTP port of voxrun's range (below the ephemeral range sipp uses)")
	servers := flag.String("servers", "bare,voxrun", "the servers measured, in order")
	flag.BoolVar(&o.keep, "keep", false, "keep sipp's files (statistics, errors) and print where")
	flag.DurationVar(&o.settleWait, "settle", 34*time.Second, "wait before the second hold test, so that the first one's transactions (64*T1) are gone")
	flag.Parse()
	o.servers = strings.Split(*servers, ",")
	for _, s := range strings.Split(*rates, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			fmt.Fprintf(os.Stderr, "sipload: bad rate %q\n", s)
			os.Exit(2)
		}
		o.rates = append(o.rates, n)
	}
	var ps procs
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, o, &ps)
	stop()
	ps.killAll()
	if err != nil {
		fmt.Fprintln(os.Stderr, "sipload:", err)
		os.Exit(1)
	}
}

// step is one sipp run against one server.
type step struct {
	kind    string
	rate    int
	res     result
	cpu     time.Duration // this process's CPU during the run
	peakRSS int           // KiB
	peakDlg int           // dialogs held at once, sampled
	drained time.Duration // from sipp's end to 0 dialogs (-1: not within the wait)
}

func run(ctx context.Context, o options, ps *procs) error {
	work, err := os.MkdirTemp("", "voxrun-sipload-")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Println("sipp files kept in", work)
	} else {
		defer os.RemoveAll(work)
	}
	t0 := time.Now()
	fmt.Printf("sipload: %d cores, GOMAXPROCS %d, sipp %s; rates %v, %d s each, pause %v\n",
		runtime.NumCPU(), runtime.GOMAXPROCS(0), o.sipp, o.rates, o.seconds, o.callPause)
	fmt.Println("note: voxrun allocates an RTP session per call (2 UDP sockets, a media clock entry, comfort silence once answered); the bare UAS does none")

	kinds := o.servers
	newServer := func(kind string, budget admission.BudgetConfig) (server, error) {
		if kind == "bare" {
			return newBare()
		}
		return newVox(budget, o.rtpMin, o.rtpMax)
	}

	// 1. Memory per held dialog, first, while the heap holds nothing else.
	// Measured twice: once every call is up (each call's INVITE server
	// transaction is still kept, RFC 6026 Timer L = 64*T1 = 32 s) and again
	// 34 s after the last INVITE, when only the dialogs remain.
	var holds []holdRow
	if o.hold > 0 {
		for i, kind := range kinds {
			if i > 0 && o.settleWait > 0 {
				time.Sleep(o.settleWait) // the previous server's transactions expire
			}
			row, err := holdTest(ctx, o, ps, work, kind, newServer)
			if err != nil {
				return err
			}
			holds = append(holds, row)
		}
	}

	// 2. Step the rate.
	var steps []step
	knee := map[string]int{}
	broken := map[string]bool{}
	for i, rate := range o.rates {
		for _, kind := range kinds {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			srv, err := newServer(kind, admission.BudgetConfig{})
			if err != nil {
				return fmt.Errorf("%s: %w", kind, err)
			}
			var prof *os.File
			if o.cpuProfile != "" && kind == "voxrun" && i == len(o.rates)-1 {
				if prof, err = os.Create(o.cpuProfile); err == nil {
					err = pprof.StartCPUProfile(prof)
				}
				if err != nil {
					return err
				}
			}
			sm := startSampler(srv.Active)
			cpu0 := cpuSelf()
			res, err := runSipp(ctx, ps, o.sipp, filepath.Join(work, fmt.Sprintf("%s-%d", kind, rate)), load{
				target: srv.Addr(), rate: rate, calls: rate * o.seconds, pause: o.callPause,
				timeout: time.Duration(o.seconds)*time.Second + o.callPause + 40*time.Second,
			})
			cpu := cpuSelf() - cpu0
			if prof != nil {
				pprof.StopCPUProfile()
				prof.Close()
			}
			st := step{kind: kind, rate: rate, res: res, cpu: cpu, peakRSS: sm.stop(), peakDlg: sm.peakActive}
			st.drained = waitIdle(srv, 10*time.Second)
			if v, ok := srv.(*vox); ok && err == nil {
				fmt.Printf("  voxrun %s\n", v)
			}
			_ = srv.Close()
			settle()
			if err != nil {
				return fmt.Errorf("%s at %d/s: %w", kind, rate, err)
			}
			if st.res.clean() && !broken[kind] {
				knee[kind] = rate
			} else {
				broken[kind] = true
			}
			steps = append(steps, st)
			printStep(st, 10*time.Second)
		}
	}

	// 3. Past the knee: 3× voxrun's knee.
	var over *step
	var overBudget float64
	var overClean time.Duration
	var overPorts int
	if o.overloadSecs > 0 && ctx.Err() == nil {
		k := knee["voxrun"]
		if k == 0 {
			k = o.rates[0]
		}
		overBudget = o.overloadBudget
		if overBudget < 0 {
			overBudget = float64(k)
		}
		rate := 3 * k
		// As voxrun serve does by default (sip_max_calls): calls in
		// progress bounded to 90% of the RTP port pairs, so that the budget
		// sheds calls (503) before Accept runs out of ports.
		maxCalls := (o.rtpMax - o.rtpMin + 1) / 2 * 9 / 10
		v, err := newVox(admission.BudgetConfig{CallsPerSecond: overBudget, MaxConcurrent: maxCalls}, o.rtpMin, o.rtpMax)
		if err != nil {
			return err
		}
		sm := startSampler(v.Active)
		cpu0 := cpuSelf()
		res, err := runSipp(ctx, ps, o.sipp, filepath.Join(work, "overload"), load{
			target: v.Addr(), rate: rate, calls: rate * o.overloadSecs, pause: o.callPause,
			timeout: time.Duration(o.overloadSecs)*time.Second + o.callPause + 45*time.Second,
		})
		st := step{kind: "voxrun", rate: rate, res: res, cpu: cpuSelf() - cpu0, peakRSS: sm.stop(), peakDlg: sm.peakActive}
		// The offer ends when sipp has sent its last INVITE; sipp then waits
		// for the calls still open, so the wait here starts at sipp's exit.
		overClean = waitIdle(v, o.cleanWithin)
		overPorts = v.ports.InUse()
		fmt.Printf("  voxrun %s\n", v)
		_ = v.Close()
		if err != nil {
			return fmt.Errorf("overload: %w", err)
		}
		st.drained = overClean
		over = &st
		printStep(st, o.cleanWithin)
	}

	// Report.
	fmt.Printf("\n## results (%.0f s in all)\n\n", time.Since(t0).Seconds())
	fmt.Println("| offered | server | calls/s achieved | successful | failed | retransmissions | process CPU | peak RSS | peak dialogs | voxrun/bare |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|")
	for i, s := range steps {
		ratio := ""
		if s.kind == "voxrun" && i > 0 && steps[i-1].kind == "bare" && steps[i-1].res.achieved() > 0 {
			ratio = fmt.Sprintf("%.2f", s.res.achieved()/steps[i-1].res.achieved())
		}
		fmt.Printf("| %d/s × %d s | %s | %.0f | %d | %d%s | %d | %.2f cores | %d MiB | %d | %s |\n",
			s.rate, o.seconds, s.kind, s.res.achieved(), s.res.successful, s.res.failed, failNote(s.res), s.res.retrans,
			s.cpu.Seconds()/s.res.elapsed.Seconds(), s.peakRSS/1024, s.peakDlg, ratio)
	}
	fmt.Printf("\nknee (0 failed, 0 retransmissions): bare %d/s, voxrun %d/s", knee["bare"], knee["voxrun"])
	if knee["bare"] > 0 {
		fmt.Printf(", ratio %.2f", float64(knee["voxrun"])/float64(knee["bare"]))
	}
	fmt.Println()
	if len(holds) > 0 {
		fmt.Printf("\n| hold %d calls at %d/s (pause %v) | held | heap per dialog | RSS per dialog | goroutines per dialog | peak RSS | sipp failed / retrans |\n", o.hold, o.holdRate, o.holdPause)
		fmt.Println("|---|---|---|---|---|---|---|")
		for _, h := range holds {
			fmt.Printf("| %s, all up | %d | %.1f KB | %.1f KB | %.2f | %d MiB | %d / %d |\n", h.kind, h.up.held, h.up.heap/1024, h.up.rss/1024, h.up.gor, h.peakRSS/1024, h.res.failed, h.res.retrans)
			if h.late.held > 0 {
				fmt.Printf("| %s, transactions expired | %d | %.1f KB | %.1f KB | %.2f | | |\n", h.kind, h.late.held, h.late.heap/1024, h.late.rss/1024, h.late.gor)
			}
		}
	}
	if over != nil {
		r := over.res
		unanswered := r.failures["FailedMaxUDPRetrans"] + r.failures["FailedTimeoutOnRecv"]
		fmt.Printf("\npast the knee: voxrun offered %d/s for %d s (budget %.0f calls/s, 503 beyond): created %d, successful %d, failed %d (%s), retransmissions %d, sipp ran %.1f s, CPU %.2f cores, peak RSS %d MiB\n",
			over.rate, o.overloadSecs, overBudget, r.created, r.successful, r.failed, r.failureText(), r.retrans,
			r.elapsed.Seconds(), over.cpu.Seconds()/r.elapsed.Seconds(), over.peakRSS/1024)
		fmt.Printf("every INVITE answered (no call failed for lack of an answer): %v; clean (0 dialogs) %s after sipp ended, RTP ports in use then %d\n",
			unanswered == 0 && r.created == r.successful+r.failed, cleanText(overClean, o.cleanWithin), overPorts)
	}
	return nil
}

func failNote(r result) string {
	if t := r.failureText(); t != "" {
		return " (" + t + ")"
	}
	return ""
}

func cleanText(d, within time.Duration) string {
	if d < 0 {
		return fmt.Sprintf("NOT within %v", within)
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

func printStep(s step, within time.Duration) {
	fmt.Printf("%-6s %6d/s: achieved %.0f/s, created %d, successful %d, failed %d%s, retrans %d, CPU %.2f cores (sipp %.2f), peak RSS %d MiB, peak dialogs %d, idle %s after\n",
		s.kind, s.rate, s.res.achieved(), s.res.created, s.res.successful, s.res.failed, failNote(s.res), s.res.retrans,
		s.cpu.Seconds()/s.res.elapsed.Seconds(), s.res.sippCPU.Seconds()/s.res.elapsed.Seconds(), s.peakRSS/1024, s.peakDlg, cleanText(s.drained, within))
}

// waitIdle waits until srv holds no dialog; -1 when it still does at limit.
func waitIdle(srv server, limit time.Duration) time.Duration {
	t0 := time.Now()
	for srv.Active() > 0 {
		if time.Since(t0) > limit {
			return -1
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Since(t0)
}

// settle collects garbage and returns what it can to the OS, so that the
// next phase starts from a comparable RSS.
func settle() {
	runtime.GC()
	debug.FreeOSMemory()
}

func heapInUse() int64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// sampler records the peak VmRSS of this process.
type sampler struct {
	stopc      chan struct{}
	wg         sync.WaitGroup
	peak       int
	active     func() int // nil: not sampled
	peakActive int
}

func startSampler(active func() int) *sampler {
	s := &sampler{stopc: make(chan struct{}), peak: benchnode.RSSKiB(os.Getpid()), active: active}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-s.stopc:
				return
			case <-t.C:
				s.peak = max(s.peak, benchnode.RSSKiB(os.Getpid()))
				if s.active != nil {
					s.peakActive = max(s.peakActive, s.active())
				}
			}
		}
	}()
	return s
}

func (s *sampler) stop() int {
	close(s.stopc)
	s.wg.Wait()
	return max(s.peak, benchnode.RSSKiB(os.Getpid()))
}

// cpuSelf is this process's user+system CPU time.
func cpuSelf() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// perDialog is memory per held dialog, against the server's idle baseline.
type perDialog struct {
	held           int
	heap, rss, gor float64 // bytes, bytes, goroutines
}

type holdRow struct {
	kind     string
	up, late perDialog
	res      result
	peakRSS  int
}

// holdTest holds o.hold calls open on a fresh server and measures what each
// costs, once all are up and again once their INVITE transactions expired.
func holdTest(ctx context.Context, o options, ps *procs, work, kind string, newServer func(string, admission.BudgetConfig) (server, error)) (holdRow, error) {
	row := holdRow{kind: kind}
	srv, err := newServer(kind, admission.BudgetConfig{})
	if err != nil {
		return row, err
	}
	defer srv.Close()
	settle()
	heap0, rss0, g0 := heapInUse(), benchnode.RSSKiB(os.Getpid()), runtime.NumGoroutine()
	measure := func() perDialog {
		runtime.GC()
		held := srv.Active()
		n := float64(max(held, 1))
		return perDialog{held: held, heap: float64(heapInUse()-heap0) / n,
			rss: float64(benchnode.RSSKiB(os.Getpid())-rss0) * 1024 / n, gor: float64(runtime.NumGoroutine()-g0) / n}
	}
	sm := startSampler(srv.Active)
	type out struct {
		r   result
		err error
	}
	done := make(chan out, 1)
	t0 := time.Now()
	buildUp := time.Duration(o.hold/o.holdRate) * time.Second
	go func() {
		r, err := runSipp(ctx, ps, o.sipp, filepath.Join(work, "hold-"+kind), load{
			target: srv.Addr(), rate: o.holdRate, calls: o.hold, pause: o.holdPause, limit: o.hold + 100,
			timeout: buildUp + o.holdPause + 60*time.Second,
		})
		done <- out{r, err}
	}()
	// Wait until every call is up (or most of the hold has passed).
	for time.Since(t0) < buildUp+o.holdPause/2 && srv.Active() < o.hold {
		time.Sleep(100 * time.Millisecond)
	}
	row.up = measure()
	if late := buildUp + 34*time.Second; late < o.holdPause-2*time.Second {
		time.Sleep(time.Until(t0.Add(late)))
		row.late = measure()
	}
	res := <-done
	row.peakRSS = sm.stop()
	row.res = res.r
	waitIdle(srv, 15*time.Second)
	if res.err != nil {
		return row, fmt.Errorf("hold %s: %w", kind, res.err)
	}
	fmt.Printf("hold %-6s: %d up: heap %.1f KB, RSS %.1f KB, goroutines %.2f per dialog; %d after transactions expired: heap %.1f KB, RSS %.1f KB; sipp successful %d failed %d retrans %d\n",
		kind, row.up.held, row.up.heap/1024, row.up.rss/1024, row.up.gor, row.late.held, row.late.heap/1024, row.late.rss/1024,
		res.r.successful, res.r.failed, res.r.retrans)
	return row, nil
}
