package schemas

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestValidateAppErrors(t *testing.T) {
	v := newTestValidator(t)
	long := strings.Repeat("x", 64<<10+1)
	many := "[" + strings.TrimSuffix(strings.Repeat(`{"verb":"answer"},`, 1001), ",") + "]"
	tests := []struct {
		name string
		doc  string
		opts Options
		path string
		kind Kind
		msg  string // a substring of the message
	}{
		{"not JSON", `[{"verb":`, Options{}, "", KindSyntax, "invalid JSON"},
		{"trailing data", `[] []`, Options{}, "", KindSyntax, "data after the document"},
		{"object document", `{"verb":"say"}`, Options{}, "", KindShape, "expected an array of verbs, got object"},
		{"null item", `[null]`, Options{}, "/0", KindShape, "expected a verb object, got null"},
		{"no verb key", `[{"text":"a","loop":2}]`, Options{}, "/0", KindShape, "got 2 keys"},
		{"empty item", `[{}]`, Options{}, "/0", KindShape, "got 0 keys"},
		{"unknown verb flat", `[{"verb":"sing"}]`, Options{}, "/0/verb", KindUnknownVerb, `unknown verb "sing"`},
		{"unknown verb keyed", `[{"say":{}},{"sing":{}}]`, Options{}, "/1/sing", KindUnknownVerb, `unknown verb "sing"`},
		{"verb not a string", `[{"verb":5}]`, Options{}, "/0/verb", KindUnknownVerb, "expected a verb name, got number"},
		{"keyed body null", `[{"say":null}]`, Options{}, "/0/say", KindShape, "expected an object of attributes, got null"},
		{"keyed verb mismatch", `[{"say":{"verb":"play"}}]`, Options{}, "/0/say/verb", KindShape, `expected "say"`},
		{"wrong type keyed", `[{"say":{"text":"a"}},{"pause":{"length":1}},{"gather":{"numDigits":"3"}}]`, Options{}, "/2/gather/numDigits", KindSchema, "expected integer, got string"},
		{"wrong type flat", `[{"verb":"gather","numDigits":1.5}]`, Options{}, "/0/numDigits", KindSchema, "expected integer, got number"},
		{"oneOf of types", `[{"verb":"say","text":true}]`, Options{}, "/0/text", KindSchema, "expected string or array, got boolean"},
		{"missing required", `[{"verb":"pause"}]`, Options{}, "/0/length", KindSchema, "missing required attribute"},
		{"missing nested required", `[{"dial":{"target":[{"number":"1"}]}}]`, Options{}, "/0/dial/target/0/type", KindSchema, "missing required attribute"},
		{"bad enum", `[{"verb":"dial","target":[{"type":"pstn"}]}]`, Options{}, "/0/target/0/type", KindSchema, `expected one of "phone", "sip", "user", "teams"`},
		{"hook object bad method", `[{"verb":"redirect","actionHook":{"url":"/x","method":"PUT"}}]`, Options{}, "/0/actionHook/method", KindSchema, "expected one of"},
		{"hook wrong type", `[{"verb":"redirect","actionHook":5}]`, Options{}, "/0/actionHook", KindSchema, "expected string or object, got number"},
		{"closed object", `[{"verb":"agent","llm":{"vendor":"x","temperature":1}}]`, Options{}, "/0/llm/temperature", KindSchema, "not allowed"},
		{"min items", `[{"verb":"dial","target":[]}]`, Options{}, "/0/target", KindSchema, "at least 1 items"},
		{"maximum", `[{"verb":"config","vad":{"mode":4}}]`, Options{}, "/0/vad/mode", KindSchema, "must be at most 3"},
		{"conditional required", `[{"verb":"transfer","mode":"blind","target":[{"type":"phone"}],"disposition":{"onBusy":"voicemail"}}]`, Options{}, "/0/disposition/voicemailUrl", KindSchema, "missing required attribute"},
		{"alias validated as canonical", `[{"stream":{"mixType":"mono"}}]`, Options{}, "/0/stream/url", KindSchema, "missing required attribute"},
		{"vendor alias needs options", `[{"openai_s2s":{}}]`, Options{}, "/0/openai_s2s/llmOptions", KindSchema, "missing required attribute"},
		{"nested say validated", `[{"verb":"gather","say":{"text":5}}]`, Options{}, "/0/say/text", KindSchema, "expected string or array"},
		{"first verb wins", `[{"verb":"pause"},{"verb":"play"}]`, Options{}, "/0/length", KindSchema, "missing"},
		{"too many verbs", many, Options{}, "/1000", KindLimit, "more than 1000 verbs"},
		{"custom verb limit", `[{"verb":"answer"},{"verb":"answer"}]`, Options{Limits: Limits{MaxVerbs: 1}}, "/1", KindLimit, "more than 1 verbs"},
		{"string too long", `[{"say":{"text":"` + long + `"}}]`, Options{}, "/0/say/text", KindLimit, "longer than 65536 bytes"},
		{"key too long", `[{"verb":"say","` + long + `":1}]`, Options{}, "/0/" + long, KindLimit, "attribute name longer"},
		{"too deep", `[{"tag":{"data":{"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":[]}}}}}}}}}}]`, Options{}, "/0/tag/data/a/b/c/d/e/f/g/h", KindLimit, "nested deeper than 8 levels"},
		{"number overflow", `[{"verb":"pause","length":-1e999}]`, Options{}, "/0/length", KindLimit, "out of range"},
		{"limits come first", `[{"verb":"pause"},{"verb":"say","text":"` + long + `"}]`, Options{}, "/1/text", KindLimit, "longer"},
		{"pointer escaping", `[{"verb":"say","a/b~c":{"x":"` + long + `"}}]`, Options{}, "/0/a~1b~0c/x", KindLimit, "longer"},
		{"strict unknown attribute", `[{"verb":"say","text":"a","colour":"red"}]`, Options{Strict: true}, "/0/colour", KindUnknownAttr, "unknown attribute"},
		{"strict nested unknown attribute", `[{"say":{"synthesizer":{"vendor":"g","mood":"x"}}}]`, Options{Strict: true}, "/0/say/synthesizer/mood", KindUnknownAttr, "unknown attribute"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v.ValidateApp([]byte(tt.doc), tt.opts)
			require.Error(t, err)
			require.ErrorIs(t, err, ErrInvalidDocument)
			de, ok := err.(*DocumentError)
			require.True(t, ok, "%T", err)
			require.Equal(t, tt.path, de.Path)
			require.Equal(t, tt.kind, de.Kind)
			require.Contains(t, de.Message, tt.msg)
			require.Equal(t, tt.kind == KindLimit, isLimit(err))
			require.True(t, strings.HasPrefix(err.Error(), "schemas: "))
		})
	}
}

func isLimit(err error) bool {
	de, ok := err.(*DocumentError)
	return ok && de.Is(ErrLimit)
}

func TestValidateAppWarnings(t *testing.T) {
	v := newTestValidator(t)
	tests := []struct {
		name  string
		doc   string
		paths []string
	}{
		{"none", `[{"verb":"say","text":"hi"}]`, nil},
		{"top-level attribute", `[{"verb":"say","text":"hi","colour":"red"}]`, []string{"/0/colour"}},
		{"keyed shape", `[{"answer":{}},{"say":{"text":"hi","colour":"red"}}]`, []string{"/1/say/colour"}},
		{"nested component", `[{"verb":"say","synthesizer":{"vendor":"g","mood":"x"}}]`, []string{"/0/synthesizer/mood"}},
		{"inside a oneOf branch", `[{"verb":"redirect","actionHook":{"url":"/x","retries":3}}]`, []string{"/0/actionHook/retries"}},
		{"inside an array", `[{"verb":"dial","target":[{"type":"phone","number":"1","colour":"red"}]}]`, []string{"/0/target/0/colour"}},
		{"through a mixin", `[{"verb":"transfer","mode":"blind","target":[{"type":"phone"}],"colour":"red"}]`, []string{"/0/colour"}},
		{"conditional schemas stay open", `[{"verb":"transfer","mode":"warm","target":[{"type":"phone"}],"brief":{"text":"b"},"disposition":{"onNoAnswer":"voicemail","voicemailUrl":"u"}}]`, nil},
		{"nested verb", `[{"verb":"gather","say":{"text":"a","colour":"red"}}]`, []string{"/0/say/colour"}},
		{"several, sorted", `[{"verb":"say","z":1,"a":2},{"verb":"play","url":"u","m":3}]`, []string{"/0/a", "/0/z", "/1/m"}},
		{"free-form objects are not checked", `[{"verb":"tag","data":{"anything":1}},{"verb":"hangup","headers":{"X-Y":"z"}}]`, nil},
		{"vendor options are free-form", `[{"verb":"config","recognizer":{"vendor":"deepgram","deepgramOptions":{"tier":"nova"}}}]`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			warnings, err := v.ValidateApp([]byte(tt.doc), Options{})
			require.NoError(t, err)
			var paths []string
			for _, w := range warnings {
				require.Equal(t, KindUnknownAttr, w.Kind)
				require.Equal(t, "unknown attribute", w.Message)
				paths = append(paths, w.Path)
			}
			require.Equal(t, tt.paths, paths)
		})
	}
}

func TestLoadNormalises(t *testing.T) {
	v := newTestValidator(t)
	tests := []struct {
		name string
		doc  string
		want Plan
	}{
		{"flat", `[{"verb":"say","text":"hi"}]`, Plan{{Verb: "say", Path: "/0", Attrs: json.RawMessage(`{"text":"hi"}`)}}},
		{"keyed", `[{"say":{"text":"hi"}}]`, Plan{{Verb: "say", Path: "/0/say", Attrs: json.RawMessage(`{"text":"hi"}`)}}},
		{"keyed with its verb key", `[{"say":{"verb":"say","text":"hi"}}]`, Plan{{Verb: "say", Path: "/0/say", Attrs: json.RawMessage(`{"text":"hi"}`)}}},
		{"stream", `[{"verb":"stream","url":"wss://x"}]`, Plan{{Verb: "listen", As: "stream", Path: "/0", Attrs: json.RawMessage(`{"url":"wss://x"}`)}}},
		{"room", `[{"room":{"name":"r"}}]`, Plan{{Verb: "conference", As: "room", Path: "/0/room", Attrs: json.RawMessage(`{"name":"r"}`)}}},
		{"vendor injected", `[{"verb":"google_s2s","llmOptions":{}}]`, Plan{{Verb: "llm", As: "google_s2s", Path: "/0", Attrs: json.RawMessage(`{"llmOptions":{},"vendor":"google"}`)}}},
		{"vendor kept", `[{"verb":"google_s2s","vendor":"custom","llmOptions":{}}]`, Plan{{Verb: "llm", As: "google_s2s", Path: "/0", Attrs: json.RawMessage(`{"llmOptions":{},"vendor":"custom"}`)}}},
		{"values as written, keys sorted, no HTML escaping", `[{"verb":"dial","target":[{"type":"sip","sipUri":"<sip:a@b>"}],"callerId":"+1", "timeout": 3.50}]`,
			Plan{{Verb: "dial", Path: "/0", Attrs: json.RawMessage(`{"callerId":"+1","target":[{"type":"sip","sipUri":"<sip:a@b>"}],"timeout":3.50}`)}}},
		{"nested values keep their order", `[{"tag":{"data":{"z":1,"a":{"y":true,"b":null}}}}]`, Plan{{Verb: "tag", Path: "/0/tag", Attrs: json.RawMessage(`{"data":{"z":1,"a":{"y":true,"b":null}}}`)}}},
		{"empty", `[]`, Plan{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan, _, err := v.Load([]byte(tt.doc), Options{})
			require.NoError(t, err)
			require.Equal(t, tt.want, plan)
			again, err := v.Normalize([]byte(tt.doc), Limits{})
			require.NoError(t, err)
			require.Equal(t, tt.want, again)
		})
	}
}

func TestNormalizeSkipsAttributes(t *testing.T) {
	v := newTestValidator(t)
	plan, err := v.Normalize([]byte(`[{"pause":{"length":"soon"}}]`), Limits{})
	require.NoError(t, err)
	require.Equal(t, "pause", plan[0].Verb)
	_, err = v.Normalize([]byte(`[{"sing":{}}]`), Limits{})
	require.ErrorIs(t, err, ErrInvalidDocument)
}

func TestValidateVerb(t *testing.T) {
	v := newTestValidator(t)
	tests := []struct {
		name     string
		verb     string
		attrs    string
		errPath  string
		warnings []string
	}{
		{"valid", "say", `{"text":"hi"}`, "", nil},
		{"alias", "stream", `{"url":"wss://x"}`, "", nil},
		{"error path is relative", "gather", `{"numDigits":"1"}`, "/numDigits", nil},
		{"warning path is relative", "play", `{"url":"u","x":1}`, "", []string{"/x"}},
		{"unknown verb", "sing", `{}`, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			warnings, err := v.ValidateVerb(tt.verb, []byte(tt.attrs), Options{})
			if tt.name == "unknown verb" {
				require.ErrorIs(t, err, ErrInvalidDocument)
				return
			}
			if tt.errPath != "" {
				require.Error(t, err)
				require.Equal(t, tt.errPath, err.(*DocumentError).Path)
				return
			}
			require.NoError(t, err)
			var paths []string
			for _, w := range warnings {
				paths = append(paths, w.Path)
			}
			require.Equal(t, tt.warnings, paths)
		})
	}
}

func TestVerbTable(t *testing.T) {
	v := newTestValidator(t)
	verbs := v.Verbs()
	require.Contains(t, verbs, "sip:decline")
	require.NotContains(t, verbs, "stream")
	for name, a := range v.Aliases() {
		_, isVerb := v.Schema(name)
		require.False(t, isVerb, "alias %q is also a verb", name)
		_, ok := v.Schema(a.Verb)
		require.True(t, ok, "alias %q names unknown verb %q", name, a.Verb)
		r, ok := v.Resolve(name)
		require.True(t, ok)
		require.Equal(t, a, r)
	}
	_, ok := v.Resolve("sing")
	require.False(t, ok)
}

// TestConcurrentUse shares one Validator between goroutines, as the runtime
// does; run with -race.
func TestConcurrentUse(t *testing.T) {
	v := newTestValidator(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			doc := fmt.Sprintf(`[{"verb":"say","text":"%d","x":1},{"gather":{"numDigits":%d}}]`, i, i)
			for range 50 {
				w, err := v.ValidateApp([]byte(doc), Options{})
				if err != nil || len(w) != 1 {
					t.Errorf("unexpected result: %v %v", w, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}
