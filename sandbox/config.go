package sandbox

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"
)

// Limits bound one invocation. Zero fields take the defaults of DefaultLimits.
type Limits struct {
	// ScriptTimeout is the JavaScript execution time an invocation may use,
	// not counting time spent waiting for ctx.fetch and ctx.kv. The worker
	// interrupts the script at this deadline; the parent kills a worker that
	// has not answered by twice this deadline (a native builtin that never
	// yields) and replaces it.
	ScriptTimeout time.Duration
	// WallTimeout bounds the whole invocation, host calls included.
	WallTimeout time.Duration
	// MaxStackDepth is the deepest JavaScript call stack allowed.
	MaxStackDepth int
	// MaxStringBytes caps the strings that String.prototype.repeat, padStart,
	// padEnd and Array.prototype.join may build.
	MaxStringBytes int
	// MaxArrayLength caps Array(n), Array.from and Array.prototype.fill.
	MaxArrayLength int
	// MaxJSONBytes caps JSON.parse input and JSON.stringify output.
	MaxJSONBytes int
	// MaxStateBytes caps ctx.state, serialised as JSON.
	MaxStateBytes int
	// MaxLogLines and MaxLogLineBytes cap what ctx.log keeps per invocation.
	MaxLogLines     int
	MaxLogLineBytes int
	// MaxFetches is how many ctx.fetch calls one invocation may make.
	MaxFetches int
	// MaxFetchBytes caps one fetch's response body, and MaxFetchBodyBytes
	// its request body.
	MaxFetchBytes     int
	MaxFetchBodyBytes int
	// MaxKVOps is how many ctx.kv calls one invocation may make.
	MaxKVOps int
	// MaxKVKeyBytes and MaxKVValueBytes cap a key and a value; MaxKVTTL the
	// expiry a script may ask for (0 asks for none, which MaxKVTTL replaces).
	MaxKVKeyBytes   int
	MaxKVValueBytes int
	MaxKVTTL        time.Duration
}

// DefaultLimits are the limits of an invocation unless the Config says otherwise.
func DefaultLimits() Limits {
	return Limits{
		ScriptTimeout:     100 * time.Millisecond,
		WallTimeout:       2 * time.Second,
		MaxStackDepth:     256,
		MaxStringBytes:    1 << 20,
		MaxArrayLength:    100_000,
		MaxJSONBytes:      1 << 20,
		MaxStateBytes:     64 << 10,
		MaxLogLines:       100,
		MaxLogLineBytes:   1 << 10,
		MaxFetches:        20,
		MaxFetchBytes:     1 << 20,
		MaxFetchBodyBytes: 256 << 10,
		MaxKVOps:          100,
		MaxKVKeyBytes:     256,
		MaxKVValueBytes:   64 << 10,
		MaxKVTTL:          30 * 24 * time.Hour,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	set := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	setD := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	setD(&l.ScriptTimeout, d.ScriptTimeout)
	setD(&l.WallTimeout, d.WallTimeout)
	set(&l.MaxStackDepth, d.MaxStackDepth)
	set(&l.MaxStringBytes, d.MaxStringBytes)
	set(&l.MaxArrayLength, d.MaxArrayLength)
	set(&l.MaxJSONBytes, d.MaxJSONBytes)
	set(&l.MaxStateBytes, d.MaxStateBytes)
	set(&l.MaxLogLines, d.MaxLogLines)
	set(&l.MaxLogLineBytes, d.MaxLogLineBytes)
	set(&l.MaxFetches, d.MaxFetches)
	set(&l.MaxFetchBytes, d.MaxFetchBytes)
	set(&l.MaxFetchBodyBytes, d.MaxFetchBodyBytes)
	set(&l.MaxKVOps, d.MaxKVOps)
	set(&l.MaxKVKeyBytes, d.MaxKVKeyBytes)
	set(&l.MaxKVValueBytes, d.MaxKVValueBytes)
	setD(&l.MaxKVTTL, d.MaxKVTTL)
	return l
}

// KV is the per-account key/value store behind ctx.kv. Its method set is the
// one of store.KV, so that cmd can hand live state in as it is. The account
// always comes from the Invocation, never from the script.
type KV interface {
	// KVGet returns the value, or an error for which Config.KVNotFound
	// reports true when the key does not exist.
	KVGet(ctx context.Context, accountSID, key string) (string, error)
	// KVSet stores value; ttl 0 means no expiry.
	KVSet(ctx context.Context, accountSID, key, value string, ttl time.Duration) error
	KVDelete(ctx context.Context, accountSID, key string) error
}

// KVIncrementer is implemented by a KV that increments atomically (across
// nodes). Without it ctx.kv.incr is a read and a write under a lock of this
// process: atomic among the calls of one node only.
type KVIncrementer interface {
	KVIncr(ctx context.Context, accountSID, key string, by int64, ttl time.Duration) (int64, error)
}

// Config configures a Pool.
type Config struct {
	// Command starts a worker: the program and its arguments. The pool adds
	// the worker marker to its environment, which makes IsWorker true. Empty
	// means this executable (os.Executable) with no arguments: cmd/voxrun
	// calls WorkerMain first thing when IsWorker. Tests run their own test
	// binary, whose TestMain does the same.
	Command []string
	// Workers is how many worker processes are kept warm; each runs one
	// invocation at a time. Default 4.
	Workers int
	// MemoryLimit is the memory a worker may add to what it had at start-up
	// (RLIMIT_DATA; RLIMIT_AS at twice it is a backstop); past it
	// allocations fail and the worker dies. The worker interrupts a script
	// when its heap passes half of it. Default 256 MiB.
	MemoryLimit int64
	// CPULimit is the CPU time a worker may use in its life (RLIMIT_CPU);
	// near it the worker finishes its invocation and is replaced. Each
	// worker runs with GOMAXPROCS=1. Default 10 minutes.
	CPULimit time.Duration
	// Limits bound each invocation.
	Limits Limits
	// HTTPClient makes ctx.fetch requests. It must refuse destinations that
	// tenants may not reach (cmd hands in apps/webhook's guarded client).
	// Nil: ctx.fetch always fails.
	HTTPClient *http.Client
	// KV backs ctx.kv; nil: ctx.kv always fails. KVNotFound reports whether
	// an error from KVGet means the key does not exist.
	KV         KV
	KVNotFound func(error) bool
	// CrashLimit is how many workers an app may crash (or overrun so that
	// the parent kills them) within CrashWindow before it is suspended for
	// SuspendFor. Defaults 3, 1 minute, 10 minutes.
	CrashLimit  int
	CrashWindow time.Duration
	SuspendFor  time.Duration
	// OnSuspend is called (in its own goroutine) when an app is suspended,
	// so that the caller can raise an alert.
	OnSuspend func(app string, reason error)
	// Logger logs worker deaths and replacements. Default slog.Default().
	Logger *slog.Logger
}

// Invocation is one call of a handler.
type Invocation struct {
	// App identifies the program: one key per app version (for example
	// "app_sid@version"); workers cache the compiled program under it, so a
	// key must never name two different sources.
	App string
	// Source is the module's source.
	Source string
	// Handlers are the export names to try, in order; the first that is a
	// function is called.
	Handlers []string
	// AccountSID scopes ctx.kv.
	AccountSID string
	// Request is the handler's first argument, as JSON.
	Request json.RawMessage
	// Env is ctx.env, a JSON object (nil: {}).
	Env json.RawMessage
	// State is ctx.state, a JSON object (nil: {}).
	State json.RawMessage

	check bool // compile only (Pool.Check)
}

// LogEntry is one line the script logged with ctx.log or console.
type LogEntry struct {
	Time    time.Time `json:"time"`
	Level   string    `json:"level"` // info, warn or error
	Message string    `json:"message"`
}

// Result is what an invocation produced. On error, Logs and Duration are
// still filled in as far as they are known.
type Result struct {
	// Verbs is the handler's return value as JSON (an array), or nil when
	// it returned nothing.
	Verbs json.RawMessage
	// State is ctx.state after the handler, as JSON.
	State json.RawMessage
	Logs  []LogEntry
	// Duration is the invocation's wall time in the parent.
	Duration time.Duration
	// Fetches and KVOps count the host calls made.
	Fetches, KVOps int
}
