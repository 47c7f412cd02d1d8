package sandbox

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/dlclark/regexp2/v2"
	"github.com/dop251/goja"
)

// The worker's environment, set by the parent.
const (
	envWorker = "VOXRUN_SANDBOX_WORKER" // "1": this process is a worker
	envMemory = "VOXRUN_SANDBOX_MEMORY" // bytes of address space beyond start-up
	envCPU    = "VOXRUN_SANDBOX_CPU"    // seconds of CPU in the worker's life
)

// frameReady is the worker's first frame: limits applied, ready for work.
const frameReady byte = 6

// maxWorkerStack bounds a goroutine's stack in a worker.
const maxWorkerStack = 64 << 20

// maxPrograms bounds a worker's cache of compiled programs.
const maxPrograms = 256

// IsWorker reports whether this process was started as a sandbox worker.
// cmd/voxrun (and test binaries that run workers) call it first thing and,
// when true, exit with WorkerMain's code.
func IsWorker() bool { return os.Getenv(envWorker) == "1" }

// WorkerMain runs the worker: it applies its own limits, then serves
// invocations on stdin and stdout until stdin closes. It returns the exit code.
func WorkerMain() int {
	memory, _ := strconv.ParseInt(os.Getenv(envMemory), 10, 64)
	cpu, _ := strconv.ParseInt(os.Getenv(envCPU), 10, 64)
	if err := applyLimits(memory, cpu); err != nil {
		fmt.Fprintln(os.Stderr, "sandbox worker:", err)
		return 1
	}
	// regexp2 checks match deadlines against a clock of this period; its
	// default (100 ms) would let one match run past the script's deadline.
	regexp2.SetTimeoutCheckPeriod(10 * time.Millisecond)
	// A source nested deeply enough to recurse the parser past this dies
	// here, in the worker, rather than growing a goroutine stack to 1 GiB.
	debug.SetMaxStack(maxWorkerStack)
	xcpu := make(chan os.Signal, 1)
	signal.Notify(xcpu, syscall.SIGXCPU)
	w := &worker{
		in:       bufio.NewReaderSize(os.Stdin, 64<<10),
		out:      bufio.NewWriterSize(os.Stdout, 64<<10),
		programs: map[string]*goja.Program{},
		xcpu:     xcpu,
		softHeap: uint64(memory / 2),
	}
	if err := w.serve(); err != nil && !errors.Is(err, io.EOF) {
		fmt.Fprintln(os.Stderr, "sandbox worker:", err)
		return 1
	}
	return 0
}

// applyLimits caps the process's memory and CPU:
//   - RLIMIT_DATA at the private writable memory it has now plus memory: the
//     effective cap (Linux counts anonymous mappings in it since 4.7, and Go
//     maps its heap that way);
//   - RLIMIT_AS at the address space it has now plus twice memory: a
//     backstop (Go and the C library reserve address space they do not
//     use: arenas, thread stacks, so RLIMIT_AS alone would either be loose
//     or kill a worker that uses little);
//   - RLIMIT_CPU at cpu seconds (SIGXCPU, then a hard kill 5 s later).
func applyLimits(memory, cpu int64) error {
	if memory > 0 {
		vsz, err := procStatus("VmSize:")
		if err != nil {
			return err
		}
		data, err := procStatus("VmData:")
		if err != nil {
			return err
		}
		for _, l := range []struct {
			name     string
			resource int
			value    uint64
		}{
			{"RLIMIT_DATA", syscall.RLIMIT_DATA, uint64(data + memory)},
			{"RLIMIT_AS", syscall.RLIMIT_AS, uint64(vsz + 2*memory)},
		} {
			if err := syscall.Setrlimit(l.resource, &syscall.Rlimit{Cur: l.value, Max: l.value}); err != nil {
				return fmt.Errorf("%s: %w", l.name, err)
			}
		}
		// Collect hard before the limit is reached.
		debug.SetMemoryLimit(memory / 2)
	}
	if cpu > 0 {
		if err := syscall.Setrlimit(syscall.RLIMIT_CPU, &syscall.Rlimit{Cur: uint64(cpu), Max: uint64(cpu + 5)}); err != nil {
			return fmt.Errorf("RLIMIT_CPU: %w", err)
		}
	}
	return nil
}

// procStatus reads a size field of /proc/self/status (VmSize:, VmData:) in bytes.
func procStatus(field string) (int64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/self/status", field)
}

// worker is the worker process's side of the protocol.
type worker struct {
	in       *bufio.Reader
	out      *bufio.Writer
	buf      []byte
	enc      encoder
	programs map[string]*goja.Program
	xcpu     chan os.Signal
	softHeap uint64
	// next is a fresh runtime prepared after the previous reply went out, so
	// that building it is off the critical path. It is used once.
	next *prepared
	// cur is the invocation running, for the host functions and the guards.
	cur *invocation
}

func (w *worker) serve() error {
	if err := writeFrame(w.out, frameReady, nil); err != nil {
		return err
	}
	for {
		typ, payload, err := readFrame(w.in, &w.buf)
		if err != nil {
			return err
		}
		if typ != frameInvoke {
			return fmt.Errorf("%w: unexpected frame %d", errFrame, typ)
		}
		var m invokeMsg
		d := decoder{b: payload}
		m.decode(&d)
		if d.err != nil {
			return d.err
		}
		res, hogged := w.invoke(&m)
		if hogged {
			res.retire = true
		}
		select {
		case <-w.xcpu:
			res.retire = true
		default:
		}
		if !res.retire && w.softHeap > 0 && heapBytes() > w.softHeap {
			runtime.GC()
			res.retire = heapBytes() > w.softHeap
		}
		w.enc.b = w.enc.b[:0]
		res.encode(&w.enc)
		if err := writeFrame(w.out, frameResult, w.enc.b); err != nil {
			return err
		}
		if res.retire {
			return nil
		}
		if cap(w.buf) > 1<<20 {
			w.buf = nil // do not keep a large frame's buffer
		}
		w.next = nil
		w.next = w.newRuntime()
	}
}

// heapBytes is the memory held by heap objects, live or not yet swept.
func heapBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// program returns the compiled program of app, compiling source when the
// cache does not hold it.
func (w *worker) program(app, source string) (*goja.Program, *resultMsg) {
	if p, ok := w.programs[app]; ok {
		return p, nil
	}
	if source == "" {
		return nil, &resultMsg{kind: kindNeedSource}
	}
	p, err := compile(source)
	if err != nil {
		var ce *CompileError
		if errors.As(err, &ce) {
			return nil, &resultMsg{kind: KindCompile, message: ce.Message, line: ce.Line, column: ce.Column}
		}
		return nil, &resultMsg{kind: KindInvalid, message: err.Error()}
	}
	if len(w.programs) >= maxPrograms {
		for k := range w.programs {
			delete(w.programs, k)
			break
		}
	}
	w.programs[app] = p
	return p, nil
}

// invoke runs one invocation; a panic inside goja becomes a failed result
// and retires the worker, whose state can no longer be trusted.
func (w *worker) invoke(m *invokeMsg) (res *resultMsg, hogged bool) {
	// Regular expressions with back-references or lookarounds run on
	// regexp2, which takes its match timeout when a pattern is compiled
	// (literals compile with the program): set it first.
	regexp2.DefaultMatchTimeout = m.limits.ScriptTimeout / 2
	if m.check {
		if _, err := compile(m.source); err != nil {
			var ce *CompileError
			if errors.As(err, &ce) {
				return &resultMsg{kind: KindCompile, message: ce.Message, line: ce.Line, column: ce.Column}, false
			}
			return &resultMsg{kind: KindInvalid, message: err.Error()}, false
		}
		return &resultMsg{}, false
	}
	prg, bad := w.program(m.app, m.source)
	if bad != nil {
		return bad, false
	}
	p := w.next
	w.next = nil
	if p == nil {
		p = w.newRuntime()
	}
	inv := &invocation{w: w, r: p.r, g: p.g, lim: m.limits}
	w.cur = inv
	defer func() {
		w.cur = nil
		hogged = inv.clock.hogged.Load()
		if x := recover(); x != nil {
			res = &resultMsg{kind: KindException, message: fmt.Sprint("internal error: ", x), logs: inv.logs, retire: true}
		}
	}()
	inv.start()
	defer inv.stop()
	return inv.run(prg, m), false
}

// scriptClock interrupts the runtime when the script has used its time.
// Time spent in host calls is not counted (pause, resume).
type scriptClock struct {
	r        *goja.Runtime
	budget   time.Duration
	used     time.Duration
	started  time.Time
	timer    *time.Timer
	hog      *time.Timer
	wall     *time.Timer
	memDone  chan struct{}
	memWG    sync.WaitGroup
	softHeap uint64
	active   atomic.Bool
	// hogged is set once the script has run for hogAfter: the worker then
	// runs at the lowest CPU priority, so that a script spinning until its
	// deadline takes CPU from no neighbour, and retires after the invocation
	// (an unprivileged process cannot raise its priority again).
	hogged atomic.Bool
}

// hogAfter is the script time past which a worker lowers its priority.
func hogAfter(budget time.Duration) time.Duration { return budget / 10 }

// Interrupt values.
var (
	errScriptTimeout = errors.New("script time exceeded")
	errWallTimeout   = errors.New("wall time exceeded")
	errMemory        = errors.New("memory limit exceeded")
)

// memCheckEvery is how often a running script's heap is checked.
const memCheckEvery = 2 * time.Millisecond

func (c *scriptClock) start(wall time.Duration) {
	c.active.Store(true)
	c.started = time.Now()
	c.timer = time.AfterFunc(c.budget, func() { c.r.Interrupt(errScriptTimeout) })
	c.hog = time.AfterFunc(hogAfter(c.budget), func() {
		if c.active.Load() && !c.hogged.Swap(true) {
			deprioritize()
		}
	})
	c.wall = time.AfterFunc(wall, func() { c.r.Interrupt(errWallTimeout) })
	if c.softHeap > 0 {
		c.memDone = make(chan struct{})
		c.memWG.Add(1)
		go func() {
			defer c.memWG.Done()
			t := time.NewTicker(memCheckEvery)
			defer t.Stop()
			for {
				select {
				case <-c.memDone:
					return
				case <-t.C:
					if heapBytes() > c.softHeap {
						c.r.Interrupt(errMemory)
						return
					}
				}
			}
		}()
	}
}

func (c *scriptClock) pause() {
	c.timer.Stop()
	c.hog.Stop()
	c.used += time.Since(c.started)
}

func (c *scriptClock) resume() {
	c.started = time.Now()
	left := c.budget - c.used
	if left <= 0 {
		c.r.Interrupt(errScriptTimeout)
		return
	}
	c.timer.Reset(left)
	if h := hogAfter(c.budget) - c.used; h > 0 {
		c.hog.Reset(h)
	} else if !c.hogged.Swap(true) {
		deprioritize()
	}
}

func (c *scriptClock) stop() {
	c.active.Store(false)
	c.timer.Stop()
	c.hog.Stop()
	c.wall.Stop()
	if c.memDone != nil {
		close(c.memDone)
		c.memWG.Wait()
	}
}

// deprioritize moves every thread of this process to the lowest CPU
// priority (nice 19; Linux keeps niceness per thread, and threads started
// later inherit it from the thread that starts them).
func deprioritize() {
	entries, err := os.ReadDir("/proc/self/task")
	if err != nil {
		_ = syscall.Setpriority(syscall.PRIO_PROCESS, 0, 19)
		return
	}
	for _, e := range entries {
		if tid, err := strconv.Atoi(e.Name()); err == nil {
			_ = syscall.Setpriority(syscall.PRIO_PROCESS, tid, 19)
		}
	}
}

// hostCall sends a host call to the parent and waits for its reply; the
// script's clock is paused meanwhile.
func (w *worker) hostCall(c *hostCall) (hostReply, error) {
	inv := w.cur
	inv.clock.pause()
	defer inv.clock.resume()
	w.enc.b = w.enc.b[:0]
	c.encode(&w.enc)
	if err := writeFrame(w.out, frameHostCall, w.enc.b); err != nil {
		return hostReply{}, err
	}
	typ, payload, err := readFrame(w.in, &w.buf)
	if err != nil {
		return hostReply{}, err
	}
	if typ != frameHostReply {
		return hostReply{}, fmt.Errorf("%w: unexpected frame %d", errFrame, typ)
	}
	var rep hostReply
	d := decoder{b: payload}
	rep.decode(&d)
	// The reply aliases w.buf: copy what outlives the next read.
	rep.body = append([]byte(nil), rep.body...)
	return rep, d.err
}
