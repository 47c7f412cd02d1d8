package api

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dop251/goja/parser"
	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/store"
)

// exportDefault is the one ES module form a JS app uses; the test compiler
// reads it as an assignment of the same length, so positions stay true.
var exportDefault = regexp.MustCompile(`\bexport(\s+)default\b`)

// compileJS is the tests' Config.CompileJS: goja's parser, the compiler a
// real node wires through the sandbox.
func compileJS(src string) error {
	src = exportDefault.ReplaceAllString(src, "var _d$1=      ")
	_, err := parser.ParseFile(nil, "app.js", src, 0)
	var list parser.ErrorList
	if errors.As(err, &list) && len(list) > 0 {
		return &CompileError{Line: list[0].Position.Line, Column: list[0].Position.Column, Message: list[0].Message}
	}
	return err
}

func TestJSAppCRUD(t *testing.T) {
	e := newEnv(t)
	a := e.accounts[0][0]
	base := "/v1/Accounts/" + a.account + "/JsApps"

	sid := e.create(base, a.key, map[string]any{"name": "ivr", "description": "menu",
		"env_vars": map[string]any{"GREETING": "hello"}, "secret_env_vars": map[string]any{"API_TOKEN": "tok-1234567890", "PIN": "42"}})
	r := e.do("GET", base+"/"+sid, a.key, nil)
	require.Equal(t, 200, r.code, r.raw)
	got := r.obj(t)
	require.Equal(t, sid, got["js_app_sid"])
	require.Equal(t, a.account, got["account_sid"])
	require.Equal(t, "ivr", got["name"])
	require.Equal(t, map[string]any{"GREETING": "hello"}, got["env_vars"])
	require.Equal(t, map[string]any{"API_TOKEN": "XXXXXXXXXX7890", "PIN": "XX"}, got["secret_env_vars"], "secrets are masked")
	require.NotContains(t, r.raw, "tok-1234567890")
	require.Nil(t, got["active_version_sid"])
	env := func() map[string]string {
		rec, err := e.prov.JSApps(store.Admin()).Get(context.Background(), sid)
		require.NoError(t, err)
		env, err := rec.Env()
		require.NoError(t, err)
		return env
	}

	cases := []struct {
		name string
		body any
		code int
		env  map[string]string
	}{
		{"a GET-PUT round trip keeps the secrets", r.raw, 204,
			map[string]string{"GREETING": "hello", "API_TOKEN": "tok-1234567890", "PIN": "42"}},
		{"rename", map[string]any{"name": "ivr2", "description": nil}, 204, nil},
		{"replace the plain variables", map[string]any{"env_vars": map[string]any{"LANG": "fr"}}, 204,
			map[string]string{"LANG": "fr", "API_TOKEN": "tok-1234567890", "PIN": "42"}},
		{"change one secret, keep the masked other", map[string]any{"secret_env_vars": map[string]any{"API_TOKEN": "XXXXXXXXXX7890", "PIN": "43"}}, 204,
			map[string]string{"LANG": "fr", "API_TOKEN": "tok-1234567890", "PIN": "43"}},
		{"drop a secret", map[string]any{"secret_env_vars": map[string]any{"API_TOKEN": "XXXXXXXXXX7890"}}, 204,
			map[string]string{"LANG": "fr", "API_TOKEN": "tok-1234567890"}},
		{"a name both plain and secret", map[string]any{"env_vars": map[string]any{"API_TOKEN": "x"}}, 400, nil},
		{"a name that is not an identifier", map[string]any{"env_vars": map[string]any{"not-ok": "x"}}, 400, nil},
		{"a value that is not a string", map[string]any{"env_vars": map[string]any{"N": 5}}, 400, nil},
		{"variables that are not an object", map[string]any{"secret_env_vars": "x"}, 400, nil},
		{"an empty name", map[string]any{"name": ""}, 400, nil},
		{"a long name", map[string]any{"name": strings.Repeat("n", 65)}, 400, nil},
		{"a version of nothing", map[string]any{"active_version_sid": "no-such-version"}, 422, nil},
		{"clear every variable", map[string]any{"env_vars": nil, "secret_env_vars": map[string]any{}}, 204, map[string]string{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("PUT", base+"/"+sid, a.key, tc.body)
			require.Equal(t, tc.code, r.code, r.raw)
			if tc.code != 204 {
				require.NotEmpty(t, r.obj(t)["msg"])
			}
			if tc.env != nil {
				require.Equal(t, tc.env, env())
			}
		})
	}
	require.Equal(t, "ivr2", e.do("GET", base+"/"+sid, a.key, nil).obj(t)["name"])

	r = e.do("POST", base, a.key, map[string]any{"description": "no name"})
	require.Equal(t, 400, r.code, r.raw)
	require.Equal(t, "missing field name", r.obj(t)["msg"])
	r = e.do("POST", base, a.key, map[string]any{"name": "ivr2"})
	require.Equal(t, 422, r.code, "names are unique per account: %s", r.raw)
	other := e.create(base, e.spKey[0], map[string]any{"name": "by the provider", "account_sid": e.accounts[0][1].account})
	r = e.do("GET", base, a.key, nil)
	require.Equal(t, 200, r.code)
	require.Len(t, r.arr(t), 2, "the path's account owns what its provider creates there")
	require.Equal(t, "ivr2", r.arr(t)[0]["name"], "oldest first")
	require.Equal(t, other, r.arr(t)[1]["js_app_sid"])

	require.Equal(t, 204, e.do("DELETE", base+"/"+sid, a.key, nil).code)
	require.Equal(t, 404, e.do("GET", base+"/"+sid, a.key, nil).code)
	require.Equal(t, 404, e.do("DELETE", base+"/"+sid, a.key, nil).code)
	require.Equal(t, 404, e.do("PUT", base+"/"+sid, a.key, map[string]any{}).code)
}

func TestJSAppVersions(t *testing.T) {
	e := newEnv(t)
	a := e.accounts[0][0]
	app := e.create("/v1/Accounts/"+a.account+"/JsApps", a.key, map[string]any{"name": "menu"})
	item := "/v1/Accounts/" + a.account + "/JsApps/" + app
	versions := item + "/Versions"

	// JSON, not activated.
	r := e.do("POST", versions, a.key, map[string]any{"source": "export default {\n  call: (req, ctx) => [{verb: 'say', text: 'hi'}],\n}\n", "label": "v1.js"})
	require.Equal(t, 201, r.code, r.raw)
	up := r.obj(t)
	v1 := up["sid"].(string)
	require.Equal(t, float64(1), up["version"])
	require.Len(t, up["sha256"], 64)
	require.Equal(t, false, up["active"])
	require.Nil(t, e.do("GET", item, a.key, nil).obj(t)["active_version_sid"])

	// The source itself, activated; braces nested deeper than the JSON limit are JavaScript, not JSON.
	deep := "module.exports = {call() { return " + strings.Repeat("[", 40) + strings.Repeat("]", 40) + " }}"
	r = e.doRaw("POST", versions+"?activate=true&label=app.js", a.key, "text/javascript", deep)
	require.Equal(t, 201, r.code, r.raw)
	v2 := r.obj(t)["sid"].(string)
	require.Equal(t, float64(2), r.obj(t)["version"])
	require.Equal(t, v2, e.do("GET", item, a.key, nil).obj(t)["active_version_sid"])

	// A syntax error: 422 with where it is.
	r = e.do("POST", versions, a.key, map[string]any{"source": "module.exports = {\n  call() {\n    return [;\n  }\n}"})
	require.Equal(t, 422, r.code, r.raw)
	ce := r.obj(t)
	require.Equal(t, float64(3), ce["line"], r.raw)
	require.Equal(t, float64(13), ce["column"], r.raw)
	require.Contains(t, ce["msg"], "does not compile")
	r = e.doRaw("POST", versions, a.key, "application/javascript", "export default {\n call: () => {\n}")
	require.Equal(t, 422, r.code, r.raw)
	require.Equal(t, float64(3), r.obj(t)["line"], r.raw)

	// Size: 256 KiB is the most, as text or in JSON.
	max := "//" + strings.Repeat("x", store.MaxJSAppSourceSize-2)
	r = e.doRaw("POST", versions, a.key, "text/javascript", max)
	require.Equal(t, 201, r.code, r.raw)
	for _, body := range []any{max + "x", map[string]any{"source": max + "x"}} {
		var r resp
		if s, ok := body.(string); ok {
			r = e.doRaw("POST", versions, a.key, "text/javascript", s)
		} else {
			r = e.do("POST", versions, a.key, body)
		}
		require.Equal(t, 413, r.code, r.raw)
		require.Equal(t, fmt.Sprintf("source is larger than %d bytes", store.MaxJSAppSourceSize), r.obj(t)["msg"])
	}
	for name, body := range map[string]any{"no source": map[string]any{"label": "x"}, "empty": map[string]any{"source": " "},
		"not a string": map[string]any{"source": 5}} {
		r = e.do("POST", versions, a.key, body)
		require.Equal(t, 400, r.code, "%s: %s", name, r.raw)
	}
	require.Equal(t, 400, e.doRaw("POST", versions, a.key, "text/javascript", "").code)
	require.Equal(t, 400, e.doRaw("POST", versions, a.key, "text/javascript", "// \xff\xfe").code, "not UTF-8")
	require.Equal(t, 400, e.do("POST", versions+"?activate=maybe", a.key, map[string]any{"source": "1"}).code)

	// The list: newest first, no source, the active one marked.
	r = e.do("GET", versions, a.key, nil)
	require.Equal(t, 200, r.code, r.raw)
	list := r.arr(t)
	require.Len(t, list, 3)
	require.Equal(t, []any{float64(3), float64(2), float64(1)}, []any{list[0]["version"], list[1]["version"], list[2]["version"]})
	require.Equal(t, []any{false, true, false}, []any{list[0]["active"], list[1]["active"], list[2]["active"]})
	require.Nil(t, list[0]["source"])
	require.Equal(t, float64(store.MaxJSAppSourceSize), list[0]["size"])
	require.Equal(t, "app.js", list[1]["label"])

	// One version, with its source.
	r = e.do("GET", versions+"/"+v2, a.key, nil)
	require.Equal(t, 200, r.code, r.raw)
	require.Equal(t, deep, r.obj(t)["source"])
	require.Equal(t, true, r.obj(t)["active"])

	// Choose the active version; only the app's own.
	require.Equal(t, 204, e.do("PUT", item, a.key, map[string]any{"active_version_sid": v1}).code)
	require.Equal(t, v1, e.do("GET", item, a.key, nil).obj(t)["active_version_sid"])
	other := e.create("/v1/Accounts/"+a.account+"/JsApps", a.key, map[string]any{"name": "other"})
	otherV := e.create("/v1/Accounts/"+a.account+"/JsApps/"+other+"/Versions", a.key, map[string]any{"source": "module.exports = {}"})
	r = e.do("PUT", item, a.key, map[string]any{"active_version_sid": otherV})
	require.Equal(t, 422, r.code, r.raw)
	require.Equal(t, 404, e.do("GET", versions+"/"+otherV, a.key, nil).code, "a version is reached through its own app")
	require.Equal(t, 404, e.do("DELETE", versions+"/"+otherV, a.key, nil).code)

	// A version may go, unless it is the active one.
	r = e.do("DELETE", versions+"/"+v1, a.key, nil)
	require.Equal(t, 422, r.code, r.raw)
	require.Equal(t, "resource is in use", r.obj(t)["msg"])
	require.Equal(t, 204, e.do("PUT", item, a.key, map[string]any{"active_version_sid": nil}).code)
	require.Nil(t, e.do("GET", item, a.key, nil).obj(t)["active_version_sid"])
	require.Equal(t, 204, e.do("DELETE", versions+"/"+v1, a.key, nil).code)
	require.Equal(t, 404, e.do("GET", versions+"/"+v1, a.key, nil).code)

	// Deleting the app takes its versions.
	require.Equal(t, 204, e.do("DELETE", item, a.key, nil).code)
	_, err := e.prov.JSAppVersions(store.Admin()).Get(context.Background(), v2)
	require.ErrorIs(t, err, store.ErrNotFound)
}

func TestJSAppLogs(t *testing.T) {
	e := newEnv(t)
	a := e.accounts[0][0]
	app := e.create("/v1/Accounts/"+a.account+"/JsApps", a.key, map[string]any{"name": "logged"})
	logs := "/v1/Accounts/" + a.account + "/JsApps/" + app + "/Logs"
	r := e.do("GET", logs, a.key, nil)
	require.Equal(t, 200, r.code, r.raw)
	require.Equal(t, "[]", r.raw)

	at := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	var invs []store.JSAppInvocation
	for i := range 30 {
		invs = append(invs, store.JSAppInvocation{JSAppSID: app, AccountSID: a.account, CallSID: fmt.Sprintf("call-%d", i%2),
			Hook: "/menu", Outcome: store.JSAppOK, Duration: 1500 * time.Microsecond, CreatedAt: at.Add(time.Duration(i) * time.Second),
			Logs: []store.JSAppLogLine{{Time: at, Level: "info", Message: fmt.Sprintf("digits %d", i)}}})
	}
	invs[29].Outcome, invs[29].Error = store.JSAppTimeout, "script ran past 100ms"
	require.NoError(t, e.prov.WriteJSAppInvocations(context.Background(), invs))

	r = e.do("GET", logs, a.key, nil)
	list := r.arr(t)
	require.Len(t, list, 25, "25 by default")
	require.Equal(t, "timeout", list[0]["outcome"])
	require.Equal(t, "script ran past 100ms", list[0]["error"])
	require.Equal(t, 1.5, list[0]["duration_ms"])
	require.Equal(t, "/menu", list[0]["hook"])
	require.Equal(t, "call-1", list[0]["call_sid"])
	require.Equal(t, []any{map[string]any{"time": "2026-11-20T12:00:00Z", "level": "info", "msg": "digits 29"}}, list[0]["logs"])

	require.Len(t, e.do("GET", logs+"?count=100", a.key, nil).arr(t), 30)
	for _, inv := range e.do("GET", logs+"?count=100&call_sid=call-0", a.key, nil).arr(t) {
		require.Equal(t, "call-0", inv["call_sid"])
	}
	for _, bad := range []string{"0", "101", "x"} {
		require.Equal(t, 400, e.do("GET", logs+"?count="+bad, a.key, nil).code, bad)
	}
	require.Equal(t, 404, e.do("GET", logs, e.accounts[0][1].key, nil).code)
	require.Equal(t, 404, e.do("GET", "/v1/Accounts/"+e.accounts[0][1].account+"/JsApps/"+app+"/Logs", e.accounts[0][1].key, nil).code)
	require.Equal(t, 200, e.do("GET", logs, e.spKey[0], nil).code)
}

func TestApplicationWithJSApp(t *testing.T) {
	e := newEnv(t)
	a, b := e.accounts[0][0], e.accounts[0][1]
	mine := e.create("/v1/Accounts/"+a.account+"/JsApps", a.key, map[string]any{"name": "mine"})
	sibling := e.create("/v1/Accounts/"+b.account+"/JsApps", b.key, map[string]any{"name": "theirs"})

	body := appBody("js")
	body["js_app_sid"], body["fallback_js_app_sid"] = mine, mine
	app := e.create("/v1/Applications", a.key, body)
	got := e.do("GET", "/v1/Applications/"+app, a.key, nil).obj(t)
	require.Equal(t, mine, got["js_app_sid"])
	require.Equal(t, mine, got["fallback_js_app_sid"])

	for _, k := range []string{"js_app_sid", "fallback_js_app_sid"} {
		r := e.do("PUT", "/v1/Applications/"+app, e.spKey[0], map[string]any{k: sibling})
		require.Equal(t, 422, r.code, "%s: the provider sees both, but an application runs its own account's code: %s", k, r.raw)
		r = e.do("POST", "/v1/Accounts/"+a.account+"/Applications", e.spKey[0], map[string]any{"name": "x" + k, k: sibling})
		require.Equal(t, 422, r.code, r.raw)
	}
	r := e.do("DELETE", "/v1/Accounts/"+a.account+"/JsApps/"+mine, a.key, nil)
	require.Equal(t, 422, r.code, r.raw)
	require.Equal(t, map[string]any{"msg": "resource is in use"}, r.obj(t))
	require.Equal(t, 204, e.do("PUT", "/v1/Applications/"+app, a.key, map[string]any{"js_app_sid": nil}).code)
	require.Equal(t, 422, e.do("DELETE", "/v1/Accounts/"+a.account+"/JsApps/"+mine, a.key, nil).code, "still the fallback")
	require.Equal(t, 204, e.do("PUT", "/v1/Applications/"+app, a.key, map[string]any{"fallback_js_app_sid": ""}).code)
	require.Equal(t, 204, e.do("DELETE", "/v1/Accounts/"+a.account+"/JsApps/"+mine, a.key, nil).code)
}

// doRaw sends a body that is not JSON, with its content type.
func (e *env) doRaw(method, path, key, contentType, body string) resp {
	e.t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.RemoteAddr = "192.0.2.1:40000"
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+key)
	return e.send(req)
}
