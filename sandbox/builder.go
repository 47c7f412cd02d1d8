package sandbox

import (
	"strconv"

	"github.com/dop251/goja"
)

// The Verbs builder (alias WebhookResponse), in the spirit of
// @jambonz/node-client's WebhookResponse: one method per jambonz verb, named
// as node-client names it (sip_decline) and in camel case (sipDecline); each
// appends {verb, ...payload} to the builder and returns it. addVerb(name,
// payload) adds any verb; toJSON returns the verb array, so a handler may
// return the builder itself; length is the number of verbs.
//
// It is implemented in Go and built lazily: a runtime that never names
// Verbs pays nothing, and one that does creates only the methods it calls.

// builderMethods maps a builder method to the verb it appends.
var builderMethods = func() map[string]string {
	m := map[string]string{}
	for _, v := range []string{"alert", "answer", "conference", "config", "dequeue", "dial", "dialogflow",
		"dtmf", "dub", "enqueue", "gather", "hangup", "leave", "lex", "listen", "llm", "message",
		"pause", "pipeline", "play", "rasa", "record", "redirect", "say", "stream", "tag", "transcribe"} {
		m[v] = v
	}
	for snake, verb := range map[string]string{"rest_dial": "rest:dial", "sip_decline": "sip:decline",
		"sip_refer": "sip:refer", "sip_request": "sip:request"} {
		m[snake] = verb
	}
	for camel, verb := range map[string]string{"restDial": "rest:dial", "sipDecline": "sip:decline",
		"sipRefer": "sip:refer", "sipRequest": "sip:request"} {
		m[camel] = verb
	}
	return m
}()

// verbsProto is the builder's prototype: methods are made on first use.
type verbsProto struct {
	r    *goja.Runtime
	fns  map[string]goja.Value
	ctor goja.Value
}

func (p *verbsProto) Get(key string) goja.Value {
	if f, ok := p.fns[key]; ok {
		return f
	}
	var f goja.Value
	switch key {
	case "constructor":
		return p.ctor
	case "addVerb":
		f = p.r.ToValue(func(c goja.FunctionCall) goja.Value {
			return p.add(c.This, c.Argument(0).String(), c.Argument(1))
		})
	case "toJSON":
		f = p.r.ToValue(func(c goja.FunctionCall) goja.Value { return p.payload(c.This) })
	default:
		verb, ok := builderMethods[key]
		if !ok {
			return nil
		}
		f = p.r.ToValue(func(c goja.FunctionCall) goja.Value { return p.add(c.This, verb, c.Argument(0)) })
	}
	p.fns[key] = f
	return f
}

func (p *verbsProto) Set(string, goja.Value) bool { return false }
func (p *verbsProto) Has(key string) bool {
	_, ok := builderMethods[key]
	return ok || key == "addVerb" || key == "toJSON" || key == "constructor"
}
func (p *verbsProto) Delete(string) bool { return false }
func (p *verbsProto) Keys() []string     { return nil }

// payload is the builder's verb array.
func (p *verbsProto) payload(this goja.Value) *goja.Object {
	o, ok := this.(*goja.Object)
	if ok {
		if a, ok := o.Get("payload").(*goja.Object); ok {
			return a
		}
	}
	panic(p.r.NewTypeError("not a Verbs builder"))
}

// add appends {verb, ...payload} and returns the builder.
func (p *verbsProto) add(this goja.Value, verb string, payload goja.Value) goja.Value {
	arr := p.payload(this)
	entry := p.r.NewObject()
	if len(verb) > 0 {
		// node-client's addVerb turns sip_decline into sip:decline.
		for i := 0; i < len(verb); i++ {
			if verb[i] == '_' {
				verb = verb[:i] + ":" + verb[i+1:]
				break
			}
		}
	}
	_ = entry.Set("verb", verb)
	if o, ok := payload.(*goja.Object); ok {
		for _, k := range o.Keys() {
			_ = entry.Set(k, o.Get(k))
		}
	}
	n := arrayLength(p.r, arr)
	_ = arr.Set(strconv.Itoa(int(n)), entry)
	return this
}

// installBuilder defines the globals Verbs and WebhookResponse, built the
// first time a script names either.
func (w *worker) installBuilder(r *goja.Runtime) {
	var class goja.Value
	get := r.ToValue(func(goja.FunctionCall) goja.Value {
		if class == nil {
			vp := &verbsProto{r: r, fns: map[string]goja.Value{}}
			proto := r.NewDynamicObject(vp)
			var ctor *goja.Object
			ctor = r.ToValue(func(c goja.ConstructorCall) *goja.Object {
				this := c.This
				arr := r.NewArray()
				_ = this.Set("payload", arr)
				_ = this.DefineAccessorProperty("length", r.ToValue(func(goja.FunctionCall) goja.Value {
					return r.ToValue(arrayLength(r, arr))
				}), nil, goja.FLAG_TRUE, goja.FLAG_FALSE)
				return nil
			}).(*goja.Object)
			_ = ctor.DefineDataProperty("prototype", proto, goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE)
			vp.ctor = ctor
			class = ctor
		}
		return class
	})
	for _, name := range []string{"Verbs", "WebhookResponse"} {
		_ = r.GlobalObject().DefineAccessorProperty(name, get, nil, goja.FLAG_TRUE, goja.FLAG_FALSE)
	}
}
