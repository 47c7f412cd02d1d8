package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/voxrun/voxrun/bench/benchnode"
	"github.com/voxrun/voxrun/bench/sippout"
)

// load is one sipp run of the built-in uac scenario (INVITE, 100/180
// optional, 200, ACK, pause, BYE, 200).
type load struct {
	target  string        // host:port of the UAS
	rate    int           // calls per second offered
	calls   int           // calls in all (-m)
	pause   time.Duration // -d: how long each call is held
	limit   int           // -l: simultaneous calls at most
	timeout time.Duration // -timeout: sipp quits after this long
}

// result is what sipp's statistics CSV says at the end of a run.
type result struct {
	created, successful, failed, retrans int
	failures                             map[string]int // nonzero Failed* counters
	elapsed                              time.Duration
	sippCPU                              time.Duration
	err                                  error // sipp's exit status (nonzero when calls failed)
}

func (r result) achieved() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.successful) / r.elapsed.Seconds()
}

func (r result) clean() bool { return r.failed == 0 && r.retrans == 0 && r.successful > 0 }

// procs are the processes started by this tool, killed by PID on exit.
type procs struct {
	mu  sync.Mutex
	set map[int]*os.Process
}

func (p *procs) add(pr *os.Process) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.set == nil {
		p.set = make(map[int]*os.Process)
	}
	p.set[pr.Pid] = pr
}

func (p *procs) remove(pr *os.Process) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.set, pr.Pid)
}

// killAll kills every process still running, each by its PID.
func (p *procs) killAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for pid, pr := range p.set {
		_ = pr.Signal(syscall.SIGKILL)
		delete(p.set, pid)
	}
}

// runSipp runs one load and reads its statistics; onStart, when set, runs
// once sipp has started (the caller samples the server meanwhile).
func runSipp(ctx context.Context, ps *procs, sippBin, dir string, l load) (result, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return result{}, err
	}
	port, err := benchnode.Port("udp")
	if err != nil {
		return result{}, err
	}
	mport, err := benchnode.Port("udp")
	if err != nil {
		return result{}, err
	}
	limit := l.limit
	if limit <= 0 {
		limit = l.rate*int(l.pause/time.Second+3) + 1000
	}
	args := []string{"-sn", "uac", "-r", strconv.Itoa(l.rate), "-m", strconv.Itoa(l.calls),
		"-l", strconv.Itoa(limit), "-d", strconv.Itoa(int(l.pause / time.Millisecond)),
		"-i", "127.0.0.1", "-p", strconv.Itoa(port), "-mi", "127.0.0.1", "-mp", strconv.Itoa(mport),
		"-s", "15551230000", "-nostdin", "-trace_stat", "-fd", "1",
		"-buff_size", "8388608", "-max_socket", "1000",
		"-timeout", strconv.Itoa(int(l.timeout/time.Second)) + "s", l.target}
	cmd := exec.Command(sippBin, args...)
	cmd.Dir = dir
	out, err := os.Create(filepath.Join(dir, "sipp.out"))
	if err != nil {
		return result{}, err
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return result{}, err
	}
	ps.add(cmd.Process)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var werr error
	select {
	case werr = <-done:
	case <-ctx.Done():
		_ = cmd.Process.Signal(syscall.SIGKILL)
		werr = <-done
	}
	ps.remove(cmd.Process)
	r := result{elapsed: time.Since(t0), err: werr, failures: map[string]int{}}
	if st := cmd.ProcessState; st != nil {
		r.sippCPU = st.UserTime() + st.SystemTime()
	}
	stats, err := sippout.Stats(dir)
	if err != nil {
		b, _ := os.ReadFile(filepath.Join(dir, "sipp.out"))
		return r, fmt.Errorf("sipp stats: %v (sipp: %v): %s", err, werr, sippout.Tail(b))
	}
	n := func(k string) int { v, _ := strconv.Atoi(stats[k]); return v }
	r.created, r.successful, r.failed, r.retrans = n("TotalCallCreated"), n("SuccessfulCall(C)"), n("FailedCall(C)"), n("Retransmissions(C)")
	for k := range stats {
		if strings.HasPrefix(k, "Failed") && strings.HasSuffix(k, "(C)") && k != "FailedCall(C)" && n(k) > 0 {
			r.failures[strings.TrimSuffix(k, "(C)")] = n(k)
		}
	}
	return r, nil
}

func (r result) failureText() string {
	if len(r.failures) == 0 {
		return ""
	}
	keys := make([]string, 0, len(r.failures))
	for k := range r.failures {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, r.failures[k])
	}
	return strings.Join(parts, ", ")
}
