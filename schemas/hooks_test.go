package schemas

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/voxrun/voxrun/schemas/schematest"
)

// hookSample is one payload of testdata/hooks/{good,bad}/<kind>__<name>.json.
type hookSample struct {
	name, path, kind string
	good             bool
}

func hookSamples(t *testing.T) []hookSample {
	t.Helper()
	var out []hookSample
	for _, dir := range []string{"good", "bad"} {
		paths, err := filepath.Glob(filepath.Join("testdata", "hooks", dir, "*.json"))
		require.NoError(t, err)
		require.NotEmpty(t, paths)
		for _, p := range paths {
			kind, _, ok := strings.Cut(filepath.Base(p), "__")
			require.True(t, ok, "%s: name is not <kind>__<name>.json", p)
			out = append(out, hookSample{name: dir + "/" + filepath.Base(p), path: p, kind: kind, good: dir == "good"})
		}
	}
	return out
}

func TestValidateHookSamples(t *testing.T) {
	v := newTestValidator(t)
	kinds := make(map[string]bool)
	for _, s := range hookSamples(t) {
		t.Run(s.name, func(t *testing.T) {
			b, err := os.ReadFile(s.path)
			require.NoError(t, err)
			err = v.ValidateHook(s.kind, b)
			if s.good {
				kinds[s.kind] = true
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrInvalidDocument)
		})
	}
	for _, k := range v.Hooks() {
		require.True(t, kinds[k], "no good sample of hook payload %q", k)
	}
}

func TestValidateHookErrors(t *testing.T) {
	v := newTestValidator(t)
	base := `"call_sid":"CA1","account_sid":"AC1","direction":"inbound","from":"+1","to":"+2","call_id":"x@y","call_status":"in-progress"`
	tests := []struct {
		name, kind, payload, path, msg string
	}{
		{"valid", "call-status", `{` + base + `}`, "", ""},
		{"extra fields pass", "call", `{` + base + `,"sip":{"headers":{"X-A":"1"}},"env_vars":{"K":"v"},"whatever":1}`, "", ""},
		{"from is required", "gather", `{"call_sid":"CA1","account_sid":"AC1","direction":"inbound","to":"+2","call_id":"x","call_status":"in-progress","reason":"timeout"}`, "/from", "missing required attribute"},
		{"wrong type", "dial", `{` + base + `,"dial_call_status":"completed","dial_sip_status":"200"}`, "/dial_sip_status", "expected integer, got string"},
		{"bad enum", "play", `{` + base + `,"reason":"done"}`, "/reason", "expected one of"},
		{"sip headers are strings", "call", `{` + base + `,"sip":{"headers":{"X-A":1}}}`, "/sip/headers/X-A", "expected string"},
		{"not JSON", "call", `{`, "", "invalid JSON"},
		{"unknown kind", "nope", `{}`, "", "unknown hook payload"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := v.ValidateHook(tt.kind, []byte(tt.payload))
			if tt.msg == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.msg)
			require.True(t, strings.HasPrefix(err.Error(), "schemas: "))
			if de, ok := err.(*DocumentError); ok {
				require.Equal(t, tt.path, de.Path)
			}
		})
	}
}

// jambonzCallback names, for each hook payload voxrun describes, the callback
// schema of @jambonz/schema that describes the same payload.
var jambonzCallback = map[string]string{
	"call":        "session-new",
	"call-info":   "base",
	"call-status": "call-status",
	"dial":        "dial",
	"dial-dtmf":   "dial-dtmf",
	"gather":      "gather",
	"play":        "play",
}

// TestHookSamplesAgreeWithJambonz checks that every payload voxrun accepts is
// also accepted by jambonz's callback schema, so that apps and SDKs that
// validate against jambonz's schemas accept what voxrun sends. voxrun's
// schemas are stricter (they require the call information that voxrun always
// sends), so a bad sample need not be rejected by jambonz.
func TestHookSamplesAgreeWithJambonz(t *testing.T) {
	v := newTestValidator(t)
	for _, k := range v.Hooks() {
		require.Contains(t, jambonzCallback, k)
	}
	callbacks := make(map[string]string)
	var good []hookSample
	for _, s := range hookSamples(t) {
		if !s.good {
			continue
		}
		abs, err := filepath.Abs(s.path)
		require.NoError(t, err)
		s.path = abs
		good = append(good, s)
		callbacks[abs] = jambonzCallback[s.kind]
	}
	verdicts := schematest.Callbacks(t, callbacks)
	for _, s := range good {
		jv, ok := verdicts[s.path]
		require.True(t, ok, s.name)
		require.True(t, jv.Valid, "%s: jambonz's %s schema rejects it: %s", s.name, jambonzCallback[s.kind], jv.Error)
	}
}
