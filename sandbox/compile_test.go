package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCheckReportsLineAndColumn(t *testing.T) {
	cases := []struct {
		name      string
		src       string
		line, col int
	}{
		{"syntax error on line 2", "export default {\n  call(req) { return [ }\n}", 2, 24},
		{"syntax error on line 1", "module.exports = {,}", 1, 19},
		{"redeclared let", "let x = 1;\nlet x = 2;\nmodule.exports = {}", 2, 5},
		{"unterminated at the end", "export default {\n  call() {", 2, 11},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := Check(tc.src)
			var ce *CompileError
			require.True(t, errors.As(err, &ce), "%v", err)
			require.Equal(t, tc.line, ce.Line, ce.Error())
			// goja's parser sometimes points one past the offending token.
			require.InDelta(t, tc.col, ce.Column, 1, ce.Error())
			require.NotEmpty(t, ce.Message)
		})
	}
}

func TestCheckAcceptsBothModuleShapes(t *testing.T) {
	for name, src := range map[string]string{
		"export default":       "export default {\n  call(req, ctx) { return [] },\n  '/menu': async (req) => [],\n}",
		"module.exports":       "module.exports = { call: () => [] }",
		"export default class": "class A { call() { return [] } }\nexport default new A()",
		"indented export":      "  export default { call() {} }",
		"modern syntax":        "const {a, ...rest} = {a: 1, b: 2};\nexport default { async call(req) { const x = `t${req?.from ?? ''}`; for (const [k, v] of Object.entries(rest)) {} return [] } }",
	} {
		t.Run(name, func(t *testing.T) { require.NoError(t, Check(src)) })
	}
}

func TestCheckRefusesAnOversizedSource(t *testing.T) {
	big := make([]byte, MaxSourceBytes+1)
	for i := range big {
		big[i] = ' '
	}
	require.ErrorIs(t, Check(string(big)), ErrSourceTooBig)
}

func TestFrameCodecRoundTrip(t *testing.T) {
	in := invokeMsg{app: "a@1", source: "src", handlers: []string{"/menu", "menu"}, request: []byte(`{"a":1}`),
		env: []byte(`{}`), state: nil, limits: DefaultLimits()}
	var e encoder
	in.encode(&e)
	var out invokeMsg
	d := decoder{b: e.b}
	out.decode(&d)
	require.NoError(t, d.err)
	require.Equal(t, in.app, out.app)
	require.Equal(t, in.handlers, out.handlers)
	require.Equal(t, string(in.request), string(out.request))
	require.Equal(t, in.limits.ScriptTimeout, out.limits.ScriptTimeout)
	require.Equal(t, in.limits.MaxLogLineBytes, out.limits.MaxLogLineBytes)

	// A truncated payload is an error, never a panic.
	for i := range e.b {
		var m invokeMsg
		d := decoder{b: e.b[:i]}
		m.decode(&d)
		require.Error(t, d.err, "truncated at %d", i)
	}
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func TestPoolCheckParsesInAWorker(t *testing.T) {
	p := newTestPool(t, Config{Workers: 1})
	ctx := context.Background()
	require.NoError(t, p.Check(ctx, "export default { call: () => [] }"))
	var ce *CompileError
	require.True(t, errors.As(p.Check(ctx, "export default {\n  call() { return [ }\n}"), &ce))
	require.Equal(t, 2, ce.Line)
	// Nesting that would take the parser's stack to hundreds of MiB kills a
	// worker, not this process.
	for _, bomb := range []string{"module.exports = " + strings.Repeat("[", 250_000), "module.exports = " + strings.Repeat("!", 250_000) + "1"} {
		err := p.Check(ctx, bomb)
		require.True(t, errors.As(err, &ce), "%v", err)
		require.Equal(t, 1, ce.Line)
	}
	require.False(t, p.Suspended(checkApp))
	require.NoError(t, p.Check(ctx, "module.exports = {}"), "the replacement worker checks the next source")
	require.ErrorIs(t, p.Check(ctx, strings.Repeat(" ", MaxSourceBytes+1)), ErrSourceTooBig)
}
