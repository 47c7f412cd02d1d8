package sandbox

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Pool runs invocations in warm worker processes. It is safe for concurrent
// use; each worker runs one invocation at a time.
type Pool struct {
	cfg Config
	lim Limits
	// Idle workers are a stack: the worker that finished last runs the
	// next invocation (its caches are warm and the others stay asleep);
	// avail holds one token per idle worker.
	idleMu sync.Mutex
	idle   []*proc
	avail  chan struct{}
	log    *slog.Logger

	mu        sync.Mutex
	closed    bool
	procs     map[*proc]struct{}
	crashes   map[string][]time.Time
	suspended map[string]time.Time
	wg        sync.WaitGroup
	done      chan struct{}

	kvLocks [64]sync.Mutex

	spawned, died atomic.Int64
}

// proc is the parent's side of one worker process.
type proc struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	w      *bufio.Writer
	r      *bufio.Reader
	buf    []byte
	enc    encoder
	stderr *tail
	loaded map[string]bool
	killed atomic.Bool
	reaped sync.Once
}

// tail keeps the first and the last bytes a worker wrote to stderr: why it
// died ("fatal error: runtime: out of memory") comes first, before a trace.
type tail struct {
	mu         sync.Mutex
	head, last []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := len(p)
	if room := 1024 - len(t.head); room > 0 {
		k := min(room, len(p))
		t.head = append(t.head, p[:k]...)
		p = p[k:]
	}
	t.last = append(t.last, p...)
	if len(t.last) > 2048 {
		t.last = append(t.last[:0], t.last[len(t.last)-2048:]...)
	}
	return n, nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.head) + string(t.last)
}

// New starts cfg.Workers workers and returns once they are all ready.
func New(cfg Config) (*Pool, error) {
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if cfg.MemoryLimit <= 0 {
		cfg.MemoryLimit = 256 << 20
	}
	if cfg.CPULimit <= 0 {
		cfg.CPULimit = 10 * time.Minute
	}
	if cfg.CrashLimit <= 0 {
		cfg.CrashLimit = 3
	}
	if cfg.CrashWindow <= 0 {
		cfg.CrashWindow = time.Minute
	}
	if cfg.SuspendFor <= 0 {
		cfg.SuspendFor = 10 * time.Minute
	}
	if cfg.KVNotFound == nil {
		cfg.KVNotFound = func(error) bool { return false }
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if len(cfg.Command) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("sandbox: worker command: %w", err)
		}
		cfg.Command = []string{exe}
	}
	p := &Pool{
		cfg:       cfg,
		lim:       cfg.Limits.withDefaults(),
		avail:     make(chan struct{}, cfg.Workers),
		log:       cfg.Logger,
		procs:     map[*proc]struct{}{},
		crashes:   map[string][]time.Time{},
		suspended: map[string]time.Time{},
		done:      make(chan struct{}),
	}
	errs := make(chan error, cfg.Workers)
	for range cfg.Workers {
		go func() {
			w, err := p.spawn()
			if err == nil {
				p.release(w)
			}
			errs <- err
		}()
	}
	var first error
	for range cfg.Workers {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	if first != nil {
		p.Close()
		return nil, first
	}
	return p, nil
}

// Limits returns the limits each invocation runs under.
func (p *Pool) Limits() Limits { return p.lim }

// spawn starts one worker and waits for its ready frame.
func (p *Pool) spawn() (*proc, error) {
	cmd := exec.Command(p.cfg.Command[0], p.cfg.Command[1:]...)
	// A worker sees nothing of the parent's environment (database DSNs,
	// secrets): only its marker and its limits.
	cmd.Env = []string{
		envWorker + "=1",
		envMemory + "=" + strconv.FormatInt(p.cfg.MemoryLimit, 10),
		envCPU + "=" + strconv.FormatInt(int64(p.cfg.CPULimit/time.Second), 10),
		"GOMAXPROCS=1",
		// One C heap arena: per-thread arenas reserve 64 MiB of address
		// space each (when the binary links the C library).
		"MALLOC_ARENA_MAX=1",
		"GOTRACEBACK=single",
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	// The parent blocks in read(2) on the worker's stdout rather than parking
	// in the netpoller: the kernel wakes the reading thread directly, which
	// is most of a round trip's latency (one thread per invocation in flight).
	if f, ok := stdout.(*os.File); ok {
		if rc, err := f.SyscallConn(); err == nil {
			_ = rc.Control(func(fd uintptr) { _ = syscall.SetNonblock(int(fd), false) })
		}
	}
	w := &proc{cmd: cmd, stdin: stdin, w: bufio.NewWriterSize(stdin, 64<<10), r: bufio.NewReaderSize(stdout, 64<<10),
		stderr: &tail{}, loaded: map[string]bool{}}
	cmd.Stderr = w.stderr
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, ErrClosed
	}
	if err := cmd.Start(); err != nil {
		p.mu.Unlock()
		return nil, fmt.Errorf("sandbox: start worker: %w", err)
	}
	p.procs[w] = struct{}{}
	p.mu.Unlock()
	p.spawned.Add(1)
	ready := make(chan error, 1)
	go func() {
		typ, _, err := readFrame(w.r, &w.buf)
		if err == nil && typ != frameReady {
			err = fmt.Errorf("%w: expected ready, got %d", errFrame, typ)
		}
		ready <- err
	}()
	t := time.NewTimer(30 * time.Second)
	defer t.Stop()
	select {
	case err = <-ready:
		if err != nil {
			p.discard(w)
		}
	case <-t.C:
		err = errors.New("no ready frame in 30 s")
		p.discard(w)
		<-ready // the reader ends once the process is gone
	}
	if err != nil {
		return nil, fmt.Errorf("sandbox: worker did not start: %v: %s", err, strings.TrimSpace(w.stderr.String()))
	}
	return w, nil
}

// discard kills a worker and reaps it (once: Close and a replacement may
// both try).
func (p *Pool) discard(w *proc) {
	w.reaped.Do(func() {
		w.killed.Store(true)
		_ = w.cmd.Process.Kill()
		_ = w.stdin.Close()
		_ = w.cmd.Wait()
		p.mu.Lock()
		delete(p.procs, w)
		p.mu.Unlock()
	})
}

// replace discards a worker and starts another in its place, in the
// background (the pool owns the goroutine; Close waits for it).
func (p *Pool) replace(w *proc) {
	p.died.Add(1)
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		p.discard(w)
		return
	}
	p.wg.Add(1)
	p.mu.Unlock()
	go func() {
		defer p.wg.Done()
		p.discard(w)
		for attempt := 0; ; attempt++ {
			nw, err := p.spawn()
			if err == nil {
				p.release(nw)
				return
			}
			select {
			case <-p.done:
				return // closed while it started
			default:
			}
			if errors.Is(err, ErrClosed) {
				return
			}
			p.log.Error("sandbox: cannot start a worker", "err", err)
			select {
			case <-p.done:
				return
			case <-time.After(time.Duration(min(attempt+1, 10)) * time.Second):
			}
		}
	}()
}

// Close stops every worker. Invocations in progress fail.
func (p *Pool) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	close(p.done)
	procs := make([]*proc, 0, len(p.procs))
	for w := range p.procs {
		procs = append(procs, w)
	}
	p.mu.Unlock()
	for _, w := range procs {
		p.discard(w)
	}
	p.wg.Wait()
	return nil
}

// Stats is a snapshot of the pool.
type Stats struct {
	Workers int   // worker processes alive
	Idle    int   // of which waiting for work
	Spawned int64 // workers started since New
	Died    int64 // workers that died, were killed or retired
	// PIDs are the workers' process IDs (for memory accounting).
	PIDs []int
}

// Stats returns a snapshot of the pool.
func (p *Pool) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.idleMu.Lock()
	idle := len(p.idle)
	p.idleMu.Unlock()
	s := Stats{Workers: len(p.procs), Idle: idle, Spawned: p.spawned.Load(), Died: p.died.Load()}
	for w := range p.procs {
		s.PIDs = append(s.PIDs, w.cmd.Process.Pid)
	}
	return s
}

// Suspended reports whether app is suspended for crashing workers.
func (p *Pool) Suspended(app string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	until, ok := p.suspended[app]
	if ok && time.Now().After(until) {
		delete(p.suspended, app)
		return false
	}
	return ok
}

// Resume lifts an app's suspension (a new version was uploaded).
func (p *Pool) Resume(app string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.suspended, app)
	delete(p.crashes, app)
}

// crashed records that app took a worker down and suspends it at the limit.
func (p *Pool) crashed(app string, cause error) {
	now := time.Now()
	p.mu.Lock()
	list := p.crashes[app][:0:0]
	for _, t := range p.crashes[app] {
		if now.Sub(t) < p.cfg.CrashWindow {
			list = append(list, t)
		}
	}
	list = append(list, now)
	p.crashes[app] = list
	suspend := len(list) >= p.cfg.CrashLimit
	if suspend {
		p.suspended[app] = now.Add(p.cfg.SuspendFor)
		delete(p.crashes, app)
	}
	p.mu.Unlock()
	if suspend {
		p.log.Warn("sandbox: app suspended for crashing workers", "app", app, "crashes", len(list), "for", p.cfg.SuspendFor, "err", cause)
		if p.cfg.OnSuspend != nil {
			reason := fmt.Errorf("%d workers crashed within %s, last: %w", len(list), p.cfg.CrashWindow, cause)
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				p.cfg.OnSuspend(app, reason)
			}()
		}
	}
}

// release puts an idle worker on top of the stack.
func (p *Pool) release(w *proc) {
	p.idleMu.Lock()
	p.idle = append(p.idle, w)
	p.idleMu.Unlock()
	p.avail <- struct{}{}
}

// pop takes the worker on top of the stack; the caller holds its token.
func (p *Pool) pop() *proc {
	p.idleMu.Lock()
	defer p.idleMu.Unlock()
	w := p.idle[len(p.idle)-1]
	p.idle = p.idle[:len(p.idle)-1]
	return w
}

// acquire takes an idle worker, waiting until the deadline.
func (p *Pool) acquire(ctx context.Context, deadline time.Time) (*proc, error) {
	select {
	case <-p.avail:
		return p.pop(), nil
	default:
	}
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-p.avail:
		return p.pop(), nil
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	case <-t.C:
		return nil, errOverloaded
	case <-p.done:
		return nil, ErrClosed
	}
}

var errOverloaded = errors.New("no worker free before the deadline")

// hostCallAllowance is the worker time the parent allows per host call on
// top of twice the script's deadline before it kills the worker.
const hostCallAllowance = 2 * time.Millisecond

// checkApp is the app key of compile checks (never cached, never suspended).
const checkApp = "sandbox:check"

// Check compiles source in a worker and returns a *CompileError with the
// line and column of the first syntax error, or nil. Unlike the package's
// Check it is safe for untrusted sources in a process that must not fail:
// a source nested deeply enough to exhaust the parser's stack takes down a
// worker, not the caller, and is reported as a compile error on line 1.
func (p *Pool) Check(ctx context.Context, source string) error {
	if len(source) > MaxSourceBytes {
		return fmt.Errorf("%w: %d bytes, at most %d", ErrSourceTooBig, len(source), MaxSourceBytes)
	}
	_, err := p.Invoke(ctx, Invocation{App: checkApp, Source: source, check: true})
	if err == nil {
		return nil
	}
	e, ok := AsError(err)
	if !ok {
		return err
	}
	switch e.Kind {
	case KindCompile:
		return &CompileError{Line: e.Line, Column: e.Column, Message: e.Message}
	case KindWorker, KindMemory, KindTimeout:
		return &CompileError{Line: 1, Column: 1, Message: "the source is too deeply nested or too large to compile"}
	}
	return err
}

// Invoke runs inv in a worker and returns its result. A failure is an
// *Error (or ErrClosed); Result still carries the logs and the duration.
func (p *Pool) Invoke(ctx context.Context, inv Invocation) (Result, error) {
	start := time.Now()
	res, err := p.invoke(ctx, inv, start)
	res.Duration = time.Since(start)
	return res, err
}

func (p *Pool) invoke(ctx context.Context, inv Invocation, start time.Time) (Result, error) {
	fail := func(kind ErrorKind, msg string, err error) (Result, error) {
		return Result{}, &Error{Kind: kind, App: inv.App, Message: msg, Err: err}
	}
	if inv.App == "" || inv.Source == "" {
		return fail(KindInvalid, "the invocation names no app or has no source", nil)
	}
	if len(inv.Source) > MaxSourceBytes {
		return fail(KindInvalid, fmt.Sprintf("the source is %d bytes, at most %d", len(inv.Source), MaxSourceBytes), ErrSourceTooBig)
	}
	if ctx.Err() != nil {
		return fail(KindCancelled, "the call ended before the script ran", context.Cause(ctx))
	}
	if !inv.check && p.Suspended(inv.App) {
		return fail(KindSuspended, "the app is suspended: it kept crashing its workers", nil)
	}
	deadline := start.Add(p.lim.WallTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	w, err := p.acquire(ctx, deadline)
	if err != nil {
		switch {
		case errors.Is(err, ErrClosed):
			return Result{}, ErrClosed
		case errors.Is(err, errOverloaded):
			return fail(KindOverloaded, "no sandbox worker was free in time", err)
		}
		return fail(KindCancelled, "the call ended before the script ran", err)
	}
	res, err, healthy := p.run(ctx, w, &inv, deadline)
	if healthy {
		p.release(w)
	} else {
		p.replace(w)
	}
	return res, err
}

// run drives one invocation on w. healthy is false when w must be replaced.
func (p *Pool) run(ctx context.Context, w *proc, inv *Invocation, deadline time.Time) (Result, error, bool) {
	lim := p.lim
	lim.WallTimeout = time.Until(deadline)
	msg := invokeMsg{app: inv.App, handlers: inv.Handlers, request: inv.Request, env: inv.Env, state: inv.State, limits: lim, check: inv.check}
	if !w.loaded[inv.App] || inv.check {
		msg.source = inv.Source
	}
	var res Result
	hs := hostState{inv: inv, deadline: deadline}

	// The kill timer: the worker may use twice its script time outside host
	// calls, and its wall time plus one script time overall.
	killAfter := 2 * p.lim.ScriptTimeout
	segment := time.Now()
	var workerTime time.Duration
	// The timer may fire just as the result arrives: under killMu, a worker
	// whose invocation is over is never killed.
	var killMu sync.Mutex
	running := true
	kill := time.AfterFunc(min(killAfter, time.Until(deadline)+p.lim.ScriptTimeout), func() {
		killMu.Lock()
		defer killMu.Unlock()
		if running {
			w.killed.Store(true)
			_ = w.cmd.Process.Kill()
		}
	})
	defer func() {
		killMu.Lock()
		running = false
		killMu.Unlock()
		kill.Stop()
	}()

	send := func() error {
		w.enc.b = w.enc.b[:0]
		msg.encode(&w.enc)
		return writeFrame(w.w, frameInvoke, w.enc.b)
	}
	err := send()
	for err == nil {
		var typ byte
		var payload []byte
		typ, payload, err = readFrame(w.r, &w.buf)
		if err != nil {
			break
		}
		d := decoder{b: payload}
		switch typ {
		case frameHostCall:
			kill.Stop()
			workerTime += time.Since(segment)
			var c hostCall
			c.decode(&d)
			if d.err != nil {
				err = d.err
				break
			}
			rep := p.host(ctx, &hs, &c)
			w.enc.b = w.enc.b[:0]
			rep.encode(&w.enc)
			err = writeFrame(w.w, frameHostReply, w.enc.b)
			segment = time.Now()
			// Each host call also costs two trips through the pipes, which
			// the worker does not count as script time.
			if hs.fetches+hs.kvOps <= p.lim.MaxFetches+p.lim.MaxKVOps {
				killAfter += hostCallAllowance
			}
			kill.Reset(max(0, min(killAfter-workerTime, time.Until(deadline)+p.lim.ScriptTimeout)))
		case frameResult:
			var m resultMsg
			m.decode(&d)
			if d.err != nil {
				err = d.err
				break
			}
			if m.kind == kindNeedSource && msg.source == "" { // the worker evicted it
				msg.source = inv.Source
				err = send()
				continue
			}
			if !inv.check {
				w.loaded[inv.App] = true
			}
			res.Logs, res.Fetches, res.KVOps = m.logs, hs.fetches, hs.kvOps
			if m.kind != "" {
				e := &Error{Kind: m.kind, App: inv.App, Message: m.message, Line: m.line, Column: m.column}
				if m.kind == KindMemory {
					p.crashed(inv.App, e)
				}
				return res, e, !m.retire
			}
			res.Verbs = cloneNonEmpty(m.verbs)
			res.State = cloneNonEmpty(m.state)
			if ctx.Err() != nil {
				return res, &Error{Kind: KindCancelled, App: inv.App, Message: "the call ended while the script ran", Err: context.Cause(ctx)}, !m.retire
			}
			return res, nil, !m.retire
		default:
			err = fmt.Errorf("%w: unexpected frame %d", errFrame, typ)
		}
	}
	// The worker died, was killed, or broke the protocol.
	res.Fetches, res.KVOps = hs.fetches, hs.kvOps
	var e *Error
	why := strings.TrimSpace(w.stderr.String())
	switch {
	case w.killed.Load():
		e = &Error{Kind: KindTimeout, App: inv.App, Message: fmt.Sprintf("the script did not stop at its deadline (%s); its worker was killed", p.lim.ScriptTimeout), Err: err}
	case strings.Contains(why, "out of memory") || strings.Contains(why, "cannot allocate memory") ||
		strings.Contains(why, "failed to allocate"): // the Go runtime's, or the race detector's (tests)
		e = &Error{Kind: KindMemory, App: inv.App, Message: "the script used more memory than its worker may; the worker died", Err: err}
	default:
		e = &Error{Kind: KindWorker, App: inv.App, Message: "the worker running the script died", Err: err}
	}
	if why != "" {
		p.log.Warn("sandbox: worker lost", "app", inv.App, "kind", e.Kind, "stderr", lastLines(why, 5))
	}
	if !inv.check {
		p.crashed(inv.App, e)
	}
	return res, e, false
}

func cloneNonEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}

func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, " | ")
}
