package sandbox

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dop251/goja"
)

// invocation is one run of a handler inside the worker.
type invocation struct {
	w       *worker
	r       *goja.Runtime
	lim     Limits
	clock   scriptClock
	logs    []LogEntry
	dropped int
	g       *guards
	// fetches and kvOps count host calls, refused here past their quota
	// without a round trip (the parent enforces the quotas too).
	fetches, kvOps int
}

func (inv *invocation) start() {
	inv.clock = scriptClock{r: inv.r, budget: inv.lim.ScriptTimeout, softHeap: inv.w.softHeap}
	inv.clock.start(inv.lim.WallTimeout)
}

func (inv *invocation) stop() { inv.clock.stop() }

// prepared is a fresh runtime with its guards installed.
type prepared struct {
	r *goja.Runtime
	g *guards
}

// newRuntime builds a fresh runtime with the guards, the builder and no
// require. It is used for exactly one invocation.
func (w *worker) newRuntime() *prepared {
	r := goja.New()
	g := installGuards(r, w)
	_ = r.Set("require", func(goja.FunctionCall) goja.Value {
		panic(r.NewGoError(errors.New("require is not available: a JS app is one module, with ctx.fetch and ctx.kv for the outside world")))
	})
	w.installBuilder(r)
	return &prepared{r: r, g: g}
}

// run calls the handler and turns what it did into a result.
func (inv *invocation) run(prg *goja.Program, m *invokeMsg) *resultMsg {
	r := inv.r
	r.SetMaxCallStackSize(m.limits.MaxStackDepth)

	modFn, err := r.RunProgram(prg)
	if err != nil {
		return inv.fail(err)
	}
	fn, ok := goja.AssertFunction(modFn)
	if !ok {
		return inv.result(KindInvalid, "the module did not compile to a function")
	}
	module, exports := r.NewObject(), r.NewObject()
	_ = module.Set("exports", exports)
	if _, err := fn(goja.Undefined(), module, exports); err != nil {
		return inv.fail(err)
	}
	exp, ok := module.Get("exports").(*goja.Object)
	if !ok {
		return inv.result(KindNoHandler, "the module exports no object of handlers")
	}
	if d, ok := exp.Get("default").(*goja.Object); ok && d.ClassName() == "Object" {
		exp = d // a transpiled ES module: exports.default = {...}
	}
	var handler goja.Callable
	for _, name := range m.handlers {
		if h, ok := goja.AssertFunction(exp.Get(name)); ok {
			handler = h
			break
		}
	}
	if handler == nil {
		return inv.result(KindNoHandler, "no handler for "+strings.Join(quoteAll(m.handlers), " or "))
	}

	req, err := inv.g.parse(m.request, goja.Undefined())
	if err != nil {
		return inv.fail(err)
	}
	state, err := inv.g.parse(m.state, nil)
	if err != nil {
		return inv.fail(err)
	}
	env, err := inv.g.parse(m.env, nil)
	if err != nil {
		return inv.fail(err)
	}
	ctx := inv.newContext(state, env)

	ret, err := handler(exp, req, ctx)
	if err != nil {
		return inv.fail(err)
	}
	// (Export only a promise: exporting any other object copies all of it.)
	if o, ok := ret.(*goja.Object); ok && o.ExportType() == promiseType {
		p, _ := o.Export().(*goja.Promise)
		switch p.State() {
		case goja.PromiseStateFulfilled:
			ret = p.Result()
		case goja.PromiseStateRejected:
			return inv.result(KindException, describe(p.Result())+stackPosition(p.Result()))
		default:
			return inv.result(KindException, "the handler's promise never settled (there is no event loop: await ctx.fetch and ctx.kv only)")
		}
	}

	res := &resultMsg{logs: inv.logs}
	if !goja.IsUndefined(ret) && !goja.IsNull(ret) {
		s, err := inv.g.stringify(ret, m.limits.MaxJSONBytes)
		if err != nil {
			return inv.fail(err)
		}
		if !strings.HasPrefix(s, "[") {
			return inv.result(KindBadReturn, "the handler returned "+typeOf(ret)+"; a handler returns a verb array, a Verbs builder, or nothing")
		}
		res.verbs = []byte(s)
	}
	stateOut := ctx.Get("state")
	switch {
	case stateOut == nil || goja.IsUndefined(stateOut) || goja.IsNull(stateOut):
		res.state = []byte("{}")
	default:
		o, ok := stateOut.(*goja.Object)
		if !ok || o.ClassName() == "Array" || o.ClassName() == "Function" {
			return inv.result(KindState, "ctx.state must be a plain object, not "+typeOf(stateOut))
		}
		s, err := inv.g.stringify(o, m.limits.MaxStateBytes)
		if err != nil {
			if isRangeError(err) {
				return inv.result(KindState, fmt.Sprintf("ctx.state is larger than %d bytes as JSON", m.limits.MaxStateBytes))
			}
			return inv.fail(err)
		}
		if len(s) > m.limits.MaxStateBytes {
			return inv.result(KindState, fmt.Sprintf("ctx.state is %d bytes as JSON, at most %d", len(s), m.limits.MaxStateBytes))
		}
		res.state = []byte(s)
	}
	inv.finishLogs(res)
	return res
}

func (inv *invocation) result(kind ErrorKind, msg string) *resultMsg {
	res := &resultMsg{kind: kind, message: msg, logs: inv.logs}
	inv.finishLogs(res)
	return res
}

func (inv *invocation) finishLogs(res *resultMsg) {
	if inv.dropped > 0 {
		res.logs = append(inv.logs, LogEntry{Time: time.Now(), Level: "warn", Message: fmt.Sprintf("%d more log lines dropped (at most %d per invocation)", inv.dropped, inv.lim.MaxLogLines)})
		inv.dropped = 0
	}
}

// fail maps a goja error to a result.
func (inv *invocation) fail(err error) *resultMsg {
	var ie *goja.InterruptedError
	if errors.As(err, &ie) {
		switch ie.Value() {
		case errScriptTimeout:
			return inv.result(KindTimeout, fmt.Sprintf("the script ran for more than %s", inv.lim.ScriptTimeout))
		case errWallTimeout:
			return inv.result(KindTimeout, fmt.Sprintf("the invocation took more than %s", inv.lim.WallTimeout))
		case errMemory:
			res := inv.result(KindMemory, "the script used too much memory")
			res.retire = true
			return res
		}
		return inv.result(KindTimeout, fmt.Sprint(ie.Value()))
	}
	var so *goja.StackOverflowError
	if errors.As(err, &so) {
		return inv.result(KindException, "RangeError: maximum call stack size exceeded"+at(so.Stack()))
	}
	var ex *goja.Exception
	if errors.As(err, &ex) {
		return inv.result(KindException, describe(ex.Value())+at(ex.Stack()))
	}
	return inv.result(KindException, err.Error())
}

// at is " at app.js:L:C" for the innermost frame of a stack that has a position.
func at(stack []goja.StackFrame) string {
	for _, f := range stack {
		p := f.Position()
		if p.Line > 0 {
			if p.Line == 1 {
				p.Column -= len(modulePrefix)
			}
			return fmt.Sprintf(" (%s:%d:%d)", programName, p.Line, max(p.Column, 1))
		}
	}
	return ""
}

var promiseType = reflect.TypeOf((*goja.Promise)(nil))

// stackPos finds the innermost position in the app in an error's stack.
var stackPos = regexp.MustCompile(`app\.js:(\d+):(\d+)`)

// stackPosition is " (app.js:L:C)" from an Error's stack, for errors that
// reach the host as values (a rejected promise) rather than exceptions.
func stackPosition(v goja.Value) string {
	o, ok := v.(*goja.Object)
	if !ok {
		return ""
	}
	st := o.Get("stack")
	if st == nil || goja.IsUndefined(st) {
		return ""
	}
	m := stackPos.FindStringSubmatch(st.String())
	if m == nil {
		return ""
	}
	line, _ := strconv.Atoi(m[1])
	col, _ := strconv.Atoi(m[2])
	if line == 1 {
		col -= len(modulePrefix)
	}
	return fmt.Sprintf(" (%s:%d:%d)", programName, line, max(col, 1))
}

// describe is what an error value says: "Error: message" for Error objects.
func describe(v goja.Value) string {
	if v == nil {
		return "undefined"
	}
	if o, ok := v.(*goja.Object); ok {
		if name, msg := o.Get("name"), o.Get("message"); msg != nil && !goja.IsUndefined(msg) {
			n := "Error"
			if name != nil && !goja.IsUndefined(name) {
				n = name.String()
			}
			return n + ": " + msg.String()
		}
	}
	s := v.String()
	if len(s) > 512 {
		s = s[:512] + "…"
	}
	return s
}

func typeOf(v goja.Value) string {
	switch v := v.(type) {
	case *goja.Object:
		if v.ClassName() == "Function" {
			return "a function"
		}
		return "an object"
	case goja.String:
		return "a string"
	}
	if v == nil || goja.IsUndefined(v) {
		return "undefined"
	}
	return "a " + v.ExportType().String()
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = "'" + x + "'"
	}
	return out
}

// newContext builds the handler's ctx. Its members are made on first use
// (most handlers touch state and perhaps log, not kv or fetch), and state
// may be replaced (ctx.state = {...}).
func (inv *invocation) newContext(state, env goja.Value) *goja.Object {
	r := inv.r
	if goja.IsUndefined(state) || goja.IsNull(state) {
		state = r.NewObject()
	}
	if goja.IsUndefined(env) || goja.IsNull(env) {
		env = r.NewObject()
	}
	c := &ctxObject{inv: inv, vals: map[string]goja.Value{"state": state, "env": env}}
	inv.defineConsole()
	return r.NewDynamicObject(c)
}

// ctxKeys are the members of ctx.
var ctxKeys = []string{"state", "env", "log", "kv", "fetch"}

// ctxObject is the handler's ctx.
type ctxObject struct {
	inv  *invocation
	vals map[string]goja.Value
}

func (c *ctxObject) Get(key string) goja.Value {
	if v, ok := c.vals[key]; ok {
		return v
	}
	var v goja.Value
	switch key {
	case "log":
		v = c.inv.logObject()
	case "kv":
		v = c.inv.kvObject()
	case "fetch":
		v = c.inv.r.ToValue(c.inv.fetchFunc())
	default:
		return nil
	}
	c.vals[key] = v
	return v
}

func (c *ctxObject) Set(key string, v goja.Value) bool {
	c.vals[key] = v
	return true
}

func (c *ctxObject) Has(key string) bool {
	_, ok := c.vals[key]
	return ok || key == "log" || key == "kv" || key == "fetch"
}

func (c *ctxObject) Delete(key string) bool {
	delete(c.vals, key)
	return true
}

func (c *ctxObject) Keys() []string {
	keys := append([]string(nil), ctxKeys...)
	for k := range c.vals {
		if !slices.Contains(ctxKeys, k) {
			keys = append(keys, k)
		}
	}
	return keys
}

func (inv *invocation) logObject() *goja.Object {
	log := inv.r.NewObject()
	_ = log.Set("info", inv.logger("info"))
	_ = log.Set("warn", inv.logger("warn"))
	_ = log.Set("error", inv.logger("error"))
	_ = log.Set("debug", inv.logger("info"))
	return log
}

// defineConsole defines console (log, info, debug, warn, error → ctx.log),
// built the first time a script names it.
func (inv *invocation) defineConsole() {
	r := inv.r
	var console *goja.Object
	get := r.ToValue(func(goja.FunctionCall) goja.Value {
		if console == nil {
			console = inv.logObject()
			_ = console.Set("log", inv.logger("info"))
		}
		return console
	})
	_ = r.GlobalObject().DefineAccessorProperty("console", get, nil, goja.FLAG_TRUE, goja.FLAG_FALSE)
}

// logger is ctx.log.<level>: arguments joined by spaces, objects as JSON.
func (inv *invocation) logger(level string) func(goja.FunctionCall) goja.Value {
	return func(c goja.FunctionCall) goja.Value {
		if len(inv.logs) >= inv.lim.MaxLogLines {
			inv.dropped++
			return goja.Undefined()
		}
		var b strings.Builder
		for i, a := range c.Arguments {
			if i > 0 {
				b.WriteByte(' ')
			}
			if b.Len() > inv.lim.MaxLogLineBytes {
				break
			}
			b.WriteString(inv.format(a))
		}
		msg := b.String()
		if len(msg) > inv.lim.MaxLogLineBytes {
			msg = truncateUTF8(msg, inv.lim.MaxLogLineBytes) + "…"
		}
		inv.logs = append(inv.logs, LogEntry{Time: time.Now(), Level: level, Message: msg})
		return goja.Undefined()
	}
}

func (inv *invocation) format(v goja.Value) string {
	if o, ok := v.(*goja.Object); ok {
		if o.ClassName() == "Error" {
			return describe(o)
		}
		if o.ClassName() != "Function" {
			if s, err := inv.g.stringify(o, inv.lim.MaxLogLineBytes*2); err == nil {
				return s
			}
		}
	}
	if v == nil {
		return "undefined"
	}
	return v.String()
}

func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// promise runs f now (host calls are synchronous in the worker) and returns
// a promise settled with its outcome, so that scripts await host calls as
// they would in Node.
func (inv *invocation) promise(f func() (goja.Value, error)) goja.Value {
	p, resolve, reject := inv.r.NewPromise()
	v, err := f()
	if err != nil {
		_ = reject(inv.r.NewGoError(err))
	} else {
		_ = resolve(v)
	}
	return inv.r.ToValue(p)
}

// ttlArg reads a TTL in seconds from a number or an {ttl} options object.
func ttlArg(v goja.Value) float64 {
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return 0
	}
	if o, ok := v.(*goja.Object); ok {
		t := o.Get("ttl")
		if t == nil || goja.IsUndefined(t) {
			return 0
		}
		return t.ToFloat()
	}
	return v.ToFloat()
}

// kvObject is ctx.kv: get, set, incr and del, each returning a promise.
func (inv *invocation) kvObject() *goja.Object {
	r := inv.r
	kv := r.NewObject()
	call := func(c *hostCall) (hostReply, error) {
		inv.kvOps++
		if inv.kvOps > inv.lim.MaxKVOps {
			return hostReply{}, fmt.Errorf("ctx.kv: at most %d operations per invocation", inv.lim.MaxKVOps)
		}
		rep, err := inv.w.hostCall(c)
		if err != nil {
			return rep, err
		}
		if rep.err != "" {
			return rep, errors.New(rep.err)
		}
		return rep, nil
	}
	_ = kv.Set("get", func(c goja.FunctionCall) goja.Value {
		key := c.Argument(0).String()
		return inv.promise(func() (goja.Value, error) {
			rep, err := call(&hostCall{op: opKVGet, key: key})
			if err != nil {
				return nil, err
			}
			if !rep.found {
				return goja.Null(), nil
			}
			return r.ToValue(rep.value), nil
		})
	})
	_ = kv.Set("set", func(c goja.FunctionCall) goja.Value {
		key := c.Argument(0).String()
		val := c.Argument(1)
		var s string
		if str, ok := val.(goja.String); ok {
			s = str.String()
		} else {
			js, err := inv.g.stringify(val, inv.lim.MaxJSONBytes)
			if err != nil {
				panic(err)
			}
			s = js
		}
		ttl := ttlArg(c.Argument(2))
		return inv.promise(func() (goja.Value, error) {
			_, err := call(&hostCall{op: opKVSet, key: key, value: s, ttl: ttl})
			return goja.Undefined(), err
		})
	})
	_ = kv.Set("incr", func(c goja.FunctionCall) goja.Value {
		key := c.Argument(0).String()
		by := 1.0
		if a := c.Argument(1); !goja.IsUndefined(a) && !goja.IsNull(a) {
			by = a.ToFloat()
		}
		ttl := ttlArg(c.Argument(2))
		return inv.promise(func() (goja.Value, error) {
			rep, err := call(&hostCall{op: opKVIncr, key: key, number: by, ttl: ttl})
			if err != nil {
				return nil, err
			}
			return r.ToValue(rep.number), nil
		})
	})
	del := func(c goja.FunctionCall) goja.Value {
		key := c.Argument(0).String()
		return inv.promise(func() (goja.Value, error) {
			_, err := call(&hostCall{op: opKVDel, key: key})
			return goja.Undefined(), err
		})
	}
	_ = kv.Set("del", del)
	_ = kv.Set("delete", del)
	return kv
}

// fetchFunc is ctx.fetch(url, {method, headers, body, timeout}): it
// returns a promise of {status, statusText, ok, url, headers, text(), json()}.
func (inv *invocation) fetchFunc() func(goja.FunctionCall) goja.Value {
	return func(c goja.FunctionCall) goja.Value {
		hc := &hostCall{op: opFetch, key: c.Argument(0).String(), value: "GET"}
		if o, ok := c.Argument(1).(*goja.Object); ok {
			if m := o.Get("method"); m != nil && !goja.IsUndefined(m) {
				hc.value = strings.ToUpper(m.String())
			}
			if h, ok := o.Get("headers").(*goja.Object); ok {
				for _, k := range h.Keys() {
					hc.headers = append(hc.headers, k, h.Get(k).String())
				}
			}
			if b := o.Get("body"); b != nil && !goja.IsUndefined(b) && !goja.IsNull(b) {
				if s, ok := b.(goja.String); ok {
					hc.body = []byte(s.String())
				} else {
					js, err := inv.g.stringify(b, inv.lim.MaxJSONBytes)
					if err != nil {
						panic(err)
					}
					hc.body = []byte(js)
					if !hasHeader(hc.headers, "content-type") {
						hc.headers = append(hc.headers, "Content-Type", "application/json")
					}
				}
			}
			if t := o.Get("timeout"); t != nil && !goja.IsUndefined(t) {
				hc.ttl = t.ToFloat() / 1000
			}
		}
		return inv.promise(func() (goja.Value, error) {
			inv.fetches++
			if inv.fetches > inv.lim.MaxFetches {
				return nil, fmt.Errorf("ctx.fetch: at most %d requests per invocation", inv.lim.MaxFetches)
			}
			rep, err := inv.w.hostCall(hc)
			if err != nil {
				return nil, err
			}
			if rep.err != "" {
				return nil, errors.New(rep.err)
			}
			return inv.response(hc.key, &rep), nil
		})
	}
}

func hasHeader(h []string, name string) bool {
	for i := 0; i+1 < len(h); i += 2 {
		if strings.EqualFold(h[i], name) {
			return true
		}
	}
	return false
}

// response is the object a fetch promise resolves to.
func (inv *invocation) response(url string, rep *hostReply) *goja.Object {
	r := inv.r
	o := r.NewObject()
	_ = o.Set("status", rep.status)
	_ = o.Set("statusText", rep.value)
	_ = o.Set("ok", rep.status >= 200 && rep.status < 300)
	_ = o.Set("url", url)
	h := r.NewObject()
	for i := 0; i+1 < len(rep.headers); i += 2 {
		_ = h.Set(rep.headers[i], rep.headers[i+1])
	}
	_ = o.Set("headers", h)
	body := string(rep.body)
	_ = o.Set("text", func(goja.FunctionCall) goja.Value {
		return inv.promise(func() (goja.Value, error) { return r.ToValue(body), nil })
	})
	_ = o.Set("json", func(goja.FunctionCall) goja.Value {
		return inv.promise(func() (goja.Value, error) { return inv.g.parse([]byte(body), goja.Null()) })
	})
	return o
}
