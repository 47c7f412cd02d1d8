package sandbox

import (
	"github.com/dop251/goja"
)

// builderSource defines the Verbs builder (alias WebhookResponse), in the
// spirit of @jambonz/node-client's WebhookResponse: one method per jambonz
// verb, named as node-client names them (sip_decline) and in camel case
// (sipDecline); each appends {verb, ...payload} and returns the builder.
// toJSON returns the verb array, so a handler may return the builder itself.
const builderSource = `(function () {
  const names = ['alert', 'answer', 'conference', 'config', 'dequeue', 'dial', 'dialogflow',
    'dtmf', 'dub', 'enqueue', 'gather', 'hangup', 'leave', 'lex', 'listen', 'llm', 'message',
    'pause', 'pipeline', 'play', 'rasa', 'record', 'redirect', 'rest:dial', 'say',
    'sip:decline', 'sip:refer', 'sip:request', 'stream', 'tag', 'transcribe'];
  class Verbs {
    constructor() { this.payload = []; }
    get length() { return this.payload.length; }
    addVerb(verb, payload) {
      this.payload.push(Object.assign({ verb: String(verb).replace('_', ':') }, payload));
      return this;
    }
    toJSON() { return this.payload; }
  }
  for (const name of names) {
    const add = function (payload) { return this.addVerb(name, payload); };
    Verbs.prototype[name.replace(':', '_')] = add;
    if (name.includes(':')) {
      Verbs.prototype[name.replace(/:(.)/, (_, c) => c.toUpperCase())] = add;
    }
  }
  return Verbs;
})()`

// installBuilder defines the globals Verbs and WebhookResponse lazily: the
// class is built the first time a script names it, so that invocations that
// return literal arrays do not pay for it.
func (w *worker) installBuilder(r *goja.Runtime) {
	if w.builder == nil {
		w.builder = goja.MustCompile("verbs.js", builderSource, true)
	}
	prg := w.builder
	var class goja.Value
	get := r.ToValue(func(goja.FunctionCall) goja.Value {
		if class == nil {
			v, err := r.RunProgram(prg)
			if err != nil {
				panic(err)
			}
			class = v
		}
		return class
	})
	for _, name := range []string{"Verbs", "WebhookResponse"} {
		_ = r.GlobalObject().DefineAccessorProperty(name, get, nil, goja.FLAG_TRUE, goja.FLAG_FALSE)
	}
}
