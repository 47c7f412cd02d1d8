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

// applyLimits sets RLIMIT_AS to the address space the process has now plus
// memory, and RLIMIT_CPU to cpu seconds (SIGXCPU, then a hard kill 5 s later).
func applyLimits(memory, cpu int64) error {
	if memory > 0 {
		vsz, err := addressSpace()
		if err != nil {
			return err
		}
		lim := uint64(vsz + memory)
		if err := syscall.Setrlimit(syscall.RLIMIT_AS, &syscall.Rlimit{Cur: lim, Max: lim}); err != nil {
			return fmt.Errorf("RLIMIT_AS: %w", err)
		}
		// Collect hard before the address space runs out.
		debug.SetMemoryLimit(memory / 2)
	}
	if cpu > 0 {
		if err := syscall.Setrlimit(syscall.RLIMIT_CPU, &syscall.Rlimit{Cur: uint64(cpu), Max: uint64(cpu + 5)}); err != nil {
			return fmt.Errorf("RLIMIT_CPU: %w", err)
		}
	}
	return nil
}

// addressSpace is the process's virtual memory size (VmSize) in bytes.
func addressSpace() (int64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmSize:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmSize in /proc/self/status")
}

// worker is the worker process's side of the protocol.
type worker struct {
	in       *bufio.Reader
	out      *bufio.Writer
	buf      []byte
	enc      encoder
	programs map[string]*goja.Program
	builder  *goja.Program
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
		res := w.invoke(&m)
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
func (w *worker) invoke(m *invokeMsg) (res *resultMsg) {
	prg, bad := w.program(m.app, m.source)
	if bad != nil {
		return bad
	}
	regexp2.DefaultMatchTimeout = m.limits.ScriptTimeout
	p := w.next
	w.next = nil
	if p == nil {
		p = w.newRuntime()
	}
	inv := &invocation{w: w, r: p.r, g: p.g, lim: m.limits}
	w.cur = inv
	defer func() {
		w.cur = nil
		if x := recover(); x != nil {
			res = &resultMsg{kind: KindException, message: fmt.Sprint("internal error: ", x), logs: inv.logs, retire: true}
		}
	}()
	inv.start()
	defer inv.stop()
	return inv.run(prg, m)
}

// scriptClock interrupts the runtime when the script has used its time.
// Time spent in host calls is not counted (pause, resume).
type scriptClock struct {
	r        *goja.Runtime
	budget   time.Duration
	used     time.Duration
	started  time.Time
	timer    *time.Timer
	wall     *time.Timer
	mem      *time.Timer
	softHeap uint64
	active   atomic.Bool
}

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
	c.wall = time.AfterFunc(wall, func() { c.r.Interrupt(errWallTimeout) })
	if c.softHeap > 0 {
		var check func()
		check = func() {
			if !c.active.Load() {
				return
			}
			if heapBytes() > c.softHeap {
				c.r.Interrupt(errMemory)
				return
			}
			c.mem.Reset(memCheckEvery)
		}
		c.mem = time.AfterFunc(memCheckEvery, check)
	}
}

func (c *scriptClock) pause() {
	c.timer.Stop()
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
}

func (c *scriptClock) stop() {
	c.active.Store(false)
	c.timer.Stop()
	c.wall.Stop()
	if c.mem != nil {
		c.mem.Stop()
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
