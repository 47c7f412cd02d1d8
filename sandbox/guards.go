package sandbox

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/dop251/goja"
)

// guards replace the builtins that can allocate far more than the script
// wrote (goja cannot interrupt a native builtin, and has no memory cap): the
// originals are captured before any user code runs and are unreachable from it.
type guards struct {
	r          *goja.Runtime
	w          *worker
	arrayCtor  *goja.Object // the intrinsic Array, before the proxy
	parseFn    goja.Callable
	stringify0 goja.Callable
}

func (g *guards) limits() Limits {
	if g.w != nil && g.w.cur != nil {
		return g.w.cur.lim
	}
	return DefaultLimits()
}

// throw raises a RangeError in the script.
func (g *guards) throw(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	// RangeError is looked up when needed (most runtimes never throw one);
	// a script that replaced it gets a TypeError with the same message.
	if ctor, ok := g.r.Get("RangeError").(*goja.Object); ok {
		if obj, err := g.r.New(ctor, g.r.ToValue(msg)); err == nil {
			panic(obj)
		}
	}
	panic(g.r.NewTypeError(msg))
}

func mustFunc(v goja.Value) goja.Callable {
	f, ok := goja.AssertFunction(v)
	if !ok {
		panic("sandbox: builtin is not a function")
	}
	return f
}

// call calls f and rethrows its exception in the calling script.
func call(f goja.Callable, this goja.Value, args ...goja.Value) goja.Value {
	v, err := f(this, args...)
	if err != nil {
		panic(err)
	}
	return v
}

// strLen is the length of v as a string, without copying it when it is one.
func strLen(v goja.Value) int {
	if s, ok := v.(goja.String); ok {
		return s.Length()
	}
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return 0
	}
	return len(v.String())
}

// arrayLength is ToLength(o.length) of an array-like.
func arrayLength(r *goja.Runtime, v goja.Value) float64 {
	o, ok := v.(*goja.Object)
	if !ok {
		return 0
	}
	l := o.Get("length")
	if l == nil || goja.IsUndefined(l) {
		return 0
	}
	return l.ToFloat()
}

func installGuards(r *goja.Runtime, w *worker) *guards {
	g := &guards{r: r, w: w}
	global := r.GlobalObject()

	// The intrinsic prototypes, reached without the global constructors
	// (which a script can only name, and which are guarded lazily below).
	str := r.ToValue("").ToObject(r).Prototype()
	repeat := mustFunc(str.Get("repeat"))
	_ = str.Set("repeat", func(c goja.FunctionCall) goja.Value {
		n := c.Argument(0).ToFloat()
		if l := float64(strLen(c.This)); l*n > float64(g.limits().MaxStringBytes) {
			g.throw("repeat would build a string of %.0f characters; at most %d", l*n, g.limits().MaxStringBytes)
		}
		return call(repeat, c.This, c.Arguments...)
	})
	for _, name := range []string{"padStart", "padEnd"} {
		orig := mustFunc(str.Get(name))
		_ = str.Set(name, func(c goja.FunctionCall) goja.Value {
			if n := c.Argument(0).ToFloat(); n > float64(g.limits().MaxStringBytes) {
				g.throw("%s would build a string of %.0f characters; at most %d", name, n, g.limits().MaxStringBytes)
			}
			return call(orig, c.This, c.Arguments...)
		})
	}

	arr := r.NewArray().Prototype()
	g.arrayCtor = arr.Get("constructor").ToObject(r)
	fill := mustFunc(arr.Get("fill"))
	_ = arr.Set("fill", func(c goja.FunctionCall) goja.Value {
		if n := arrayLength(r, c.This); n > float64(g.limits().MaxArrayLength) {
			g.throw("fill on an array of length %.0f; at most %d", n, g.limits().MaxArrayLength)
		}
		return call(fill, c.This, c.Arguments...)
	})
	join := mustFunc(arr.Get("join"))
	_ = arr.Set("join", func(c goja.FunctionCall) goja.Value {
		g.checkJoin(c.This, c.Argument(0))
		return call(join, c.This, c.Arguments...)
	})
	// Array(n), new Array(n) and Array.from: the global Array becomes a
	// guarded proxy of the constructor the first time a script names it.
	var guarded goja.Value
	getArray := r.ToValue(func(goja.FunctionCall) goja.Value {
		if guarded == nil {
			guarded = g.guardArrayConstructor()
		}
		return guarded
	})
	setArray := r.ToValue(func(c goja.FunctionCall) goja.Value {
		guarded = c.Argument(0)
		return goja.Undefined()
	})
	_ = global.DefineAccessorProperty("Array", getArray, setArray, goja.FLAG_TRUE, goja.FLAG_FALSE)
	// [].constructor is the same guarded constructor (species lookups too).
	_ = arr.DefineAccessorProperty("constructor", getArray, nil, goja.FLAG_TRUE, goja.FLAG_FALSE)

	json := global.Get("JSON").ToObject(r)
	g.parseFn = mustFunc(json.Get("parse"))
	g.stringify0 = mustFunc(json.Get("stringify"))
	_ = json.Set("parse", func(c goja.FunctionCall) goja.Value {
		if n := strLen(c.Argument(0)); n > g.limits().MaxJSONBytes {
			g.throw("JSON.parse of %d characters; at most %d", n, g.limits().MaxJSONBytes)
		}
		return call(g.parseFn, c.This, c.Arguments...)
	})
	_ = json.Set("stringify", func(c goja.FunctionCall) goja.Value {
		return g.stringifyJS(c.Argument(0), c.Argument(1), c.Argument(2), g.limits().MaxJSONBytes)
	})
	return g
}

// guardArrayConstructor returns the global Array: a native constructor
// that refuses Array(n) past MaxArrayLength and otherwise constructs with
// the intrinsic one (so instanceof, subclasses and Array.prototype work as
// before), with isArray, of and a guarded from.
func (g *guards) guardArrayConstructor() goja.Value {
	r := g.r
	intrinsic := g.arrayCtor
	construct, _ := goja.AssertConstructor(intrinsic)
	ctor := r.ToValue(func(c goja.ConstructorCall) *goja.Object {
		if len(c.Arguments) == 1 {
			a := c.Arguments[0]
			if _, isObj := a.(*goja.Object); !isObj {
				if _, isStr := a.(goja.String); !isStr {
					if n := a.ToFloat(); n > float64(g.limits().MaxArrayLength) {
						g.throw("Array(%.0f): at most %d elements", n, g.limits().MaxArrayLength)
					}
				}
			}
		}
		o, err := construct(c.NewTarget, c.Arguments...)
		if err != nil {
			panic(err)
		}
		return o
	}).(*goja.Object)
	_ = ctor.DefineDataProperty("prototype", intrinsic.Get("prototype"), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE)
	_ = ctor.Set("isArray", intrinsic.Get("isArray"))
	_ = ctor.Set("of", intrinsic.Get("of"))
	from := mustFunc(intrinsic.Get("from"))
	_ = ctor.Set("from", func(c goja.FunctionCall) goja.Value {
		if o, ok := c.Argument(0).(*goja.Object); ok && o.ClassName() == "Object" {
			if n := arrayLength(r, o); n > float64(g.limits().MaxArrayLength) {
				g.throw("Array.from of length %.0f; at most %d", n, g.limits().MaxArrayLength)
			}
		}
		return call(from, intrinsic, c.Arguments...)
	})
	return ctor
}

// checkJoin refuses a join whose result would pass MaxStringBytes.
func (g *guards) checkJoin(this, sep goja.Value) {
	lim := g.limits()
	n := arrayLength(g.r, this)
	if n > float64(lim.MaxArrayLength) {
		g.throw("join of %.0f elements; at most %d", n, lim.MaxArrayLength)
	}
	sepLen := 1
	if sep != nil && !goja.IsUndefined(sep) {
		sepLen = strLen(sep)
	}
	total := float64(sepLen) * n
	if o, ok := this.(*goja.Object); ok {
		for i := 0; i < int(n) && total <= float64(lim.MaxStringBytes); i++ {
			if s, ok := o.Get(strconv.Itoa(i)).(goja.String); ok {
				total += float64(s.Length())
			}
		}
	}
	if total > float64(lim.MaxStringBytes) {
		g.throw("join would build a string of more than %d characters", lim.MaxStringBytes)
	}
}

// stringifyJS is JSON.stringify with a replacer that counts what it lets
// through and throws past max (a value graph that repeats one object many
// times stringifies to far more than it holds). A script's own replacer, a
// function or an allow-list of keys, still applies.
func (g *guards) stringifyJS(value, replacer, space goja.Value, max int) goja.Value {
	var userFn goja.Callable
	var allow map[string]bool
	if o, ok := replacer.(*goja.Object); ok {
		if f, ok := goja.AssertFunction(o); ok {
			userFn = f
		} else if o.ClassName() == "Array" {
			allow = map[string]bool{}
			n := int(arrayLength(g.r, o))
			for i := 0; i < n && i < 10_000; i++ {
				allow[o.Get(strconv.Itoa(i)).String()] = true
			}
		}
	}
	perNode := 2
	if space != nil && !goja.IsUndefined(space) {
		perNode += 10 // indentation, roughly
	}
	size := 0
	count := g.r.ToValue(func(c goja.FunctionCall) goja.Value {
		key, v := c.Argument(0), c.Argument(1)
		if userFn != nil {
			v = call(userFn, c.This, key, v)
		}
		if allow != nil && strLen(key) > 0 {
			if holder, ok := c.This.(*goja.Object); !ok || holder.ClassName() != "Array" {
				if !allow[key.String()] {
					return goja.Undefined()
				}
			}
		}
		size += strLen(key) + perNode
		switch x := v.(type) {
		case goja.String:
			size += x.Length()
		case *goja.Object:
		default:
			size += 8
		}
		if size > max {
			g.throw("JSON.stringify would write more than %d characters", max)
		}
		return v
	})
	return call(g.stringify0, goja.Undefined(), value, count, space)
}

// stringify serialises v for the host (the handler's verbs, ctx.state, kv
// values, fetch bodies, log lines), bounded by max.
func (g *guards) stringify(v goja.Value, max int) (s string, err error) {
	defer func() {
		if x := recover(); x != nil {
			var thrown goja.Value
			switch e := x.(type) {
			case *goja.Exception:
				thrown = e.Value()
			case *goja.Object:
				thrown = e
			case error:
				err = e
				return
			default:
				panic(x)
			}
			if o, ok := thrown.(*goja.Object); ok {
				if name := o.Get("name"); name != nil && name.String() == "RangeError" {
					err = errRange{msg: describe(o)}
					return
				}
			}
			err = errors.New(describe(thrown))
		}
	}()
	out := g.stringifyJS(v, goja.Undefined(), goja.Undefined(), max)
	if out == nil || goja.IsUndefined(out) {
		return "", nil
	}
	return out.String(), nil
}

// errRange is a RangeError thrown by a guard while the host serialised a value.
type errRange struct{ msg string }

func (e errRange) Error() string { return e.msg }

func isRangeError(err error) bool {
	_, ok := err.(errRange)
	return ok
}

// parse parses JSON data for the host; empty data gives empty (or a new
// object when empty is nil).
func (g *guards) parse(data []byte, empty goja.Value) (goja.Value, error) {
	if len(data) == 0 {
		if empty == nil {
			return g.r.NewObject(), nil
		}
		return empty, nil
	}
	return g.parseFn(goja.Undefined(), g.r.ToValue(string(data)))
}
