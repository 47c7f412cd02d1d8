package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/store"
	sqlstore "github.com/voxrun/voxrun/store/sql"
)

func TestAppsHelp(t *testing.T) {
	cases := []struct {
		args     []string
		code     int
		contains string
	}{
		{[]string{"help"}, 0, "apps push FILE"},
		{[]string{"apps"}, 2, "push FILE"},
		{[]string{"apps", "--help"}, 0, "logs APP"},
		{[]string{"apps", "push", "--help"}, 0, "--name"},
		{[]string{"apps", "push", "--help"}, 0, "VOXRUN_API_KEY"},
		{[]string{"apps", "logs", "--help"}, 0, "--count"},
		{[]string{"apps", "push"}, 2, "one FILE"},
		{[]string{"apps", "logs", "a", "b"}, 2, "one APP"},
		{[]string{"apps", "deploy"}, 2, `unknown subcommand "deploy"`},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, out, errOut := runCLI(t, tc.args...)
			require.Equal(t, tc.code, code, "stdout: %s\nstderr: %s", out, errOut)
			require.Contains(t, out+errOut, tc.contains)
		})
	}
}

// runCLIEnv runs a command line with an environment.
func runCLIEnv(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb, func(k string) string { return env[k] })
	return code, out.String(), errb.String()
}

// TestAppsPushAndLogs runs `voxrun apps push` and `voxrun apps logs` against
// a started voxrun: the first push creates the app from the first start's
// credentials, later pushes add active versions, a syntax error is reported
// with its position and stores nothing, and logs prints what another process
// wrote into the server's database.
func TestAppsPushAndLogs(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	p := startServe(t, dataDir)
	p.waitLog(t, "voxrun ready")
	base := "http://" + p.http
	cred := credentials(t, dataDir)
	dir := t.TempDir()
	file := filepath.Join(dir, "ivr.js")
	v1 := "export default {\n  call: (req, ctx) => [{verb: 'say', text: ctx.env.GREETING}],\n}\n"
	require.NoError(t, os.WriteFile(file, []byte(v1), 0o644))

	// The key and the account come from <data-dir>/initial-credentials.
	code, out, errOut := runCLI(t, "apps", "push", file, "--url", base, "--data-dir", dataDir)
	require.Equal(t, 0, code, "stdout: %s\nstderr: %s", out, errOut)
	require.Contains(t, out, `created JS app "ivr"`)
	require.Contains(t, out, "version 1 is active")

	// The key from the environment, the account from the key; flags after FILE too.
	v2 := strings.Replace(v1, "GREETING", "WELCOME", 1)
	require.NoError(t, os.WriteFile(file, []byte(v2), 0o644))
	env := map[string]string{"VOXRUN_API_KEY": cred["account_api_key"], "VOXRUN_URL": base}
	code, out, errOut = runCLIEnv(t, env, "apps", "push", file, "--data-dir", filepath.Join(dir, "none"))
	require.Equal(t, 0, code, "stdout: %s\nstderr: %s", out, errOut)
	require.Contains(t, out, `updated JS app "ivr"`)
	require.Contains(t, out, "version 2 is active")

	// A syntax error: FILE:LINE:COLUMN, exit 1, nothing stored.
	bad := filepath.Join(dir, "broken.js")
	require.NoError(t, os.WriteFile(bad, []byte("export default {\n  call() {\n    return [;\n  }\n}\n"), 0o644))
	code, out, errOut = runCLIEnv(t, env, "apps", "push", "--name", "ivr", bad)
	require.Equal(t, 1, code, "stdout: %s\nstderr: %s", out, errOut)
	require.Contains(t, errOut, bad+":3:13: the source does not compile")

	// What the server holds: two versions, the second active, the file's source and name.
	api := func(path string, out any) {
		t.Helper()
		req, err := http.NewRequest("GET", base+"/v1/Accounts/"+cred["account_sid"]+path, nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+cred["account_api_key"])
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		require.Equal(t, 200, resp.StatusCode, string(raw))
		require.NoError(t, json.Unmarshal(raw, out))
	}
	var apps []map[string]any
	api("/JsApps", &apps)
	require.Len(t, apps, 1)
	appSID := apps[0]["js_app_sid"].(string)
	var versions []map[string]any
	api("/JsApps/"+appSID+"/Versions", &versions)
	require.Len(t, versions, 2)
	require.Equal(t, apps[0]["active_version_sid"], versions[0]["js_app_version_sid"])
	require.Equal(t, "ivr.js", versions[0]["label"])
	var active map[string]any
	api("/JsApps/"+appSID+"/Versions/"+versions[0]["js_app_version_sid"].(string), &active)
	require.Equal(t, v2, active["source"])

	// --app names the app by sid, whatever the file is called.
	other := filepath.Join(dir, "other.js")
	require.NoError(t, os.WriteFile(other, []byte("module.exports = {call: () => []}"), 0o644))
	code, out, errOut = runCLIEnv(t, env, "apps", "push", "--app", appSID, other)
	require.Equal(t, 0, code, "stdout: %s\nstderr: %s", out, errOut)
	require.Contains(t, out, "version 3 is active")

	// No invocations yet.
	code, out, errOut = runCLIEnv(t, env, "apps", "logs", "ivr")
	require.Equal(t, 0, code, "stdout: %s\nstderr: %s", out, errOut)
	require.Contains(t, out, "no invocations of ivr yet")

	// Invocations written by another process into the server's database,
	// as the runtime writes them.
	key, err := store.LoadOrCreateKey("", filepath.Join(dataDir, "secret.key"))
	require.NoError(t, err)
	sealer, err := store.NewSealer(key)
	require.NoError(t, err)
	db, err := sqlstore.Open(t.Context(), sqlstore.Config{Driver: sqlstore.DriverSQLite, DSN: filepath.Join(dataDir, "voxrun.db"), Sealer: sealer})
	require.NoError(t, err)
	defer db.Close()
	at := time.Now().Add(-time.Minute).UTC()
	require.NoError(t, db.WriteJSAppInvocations(t.Context(), []store.JSAppInvocation{
		{JSAppSID: appSID, AccountSID: cred["account_sid"], CallSID: "call-a", Hook: "call", Outcome: store.JSAppOK,
			Duration: 180 * time.Microsecond, CreatedAt: at,
			Logs: []store.JSAppLogLine{{Time: at, Level: "info", Message: "caller is +15551230000"}}},
		{JSAppSID: appSID, AccountSID: cred["account_sid"], CallSID: "call-b", Hook: "/menu", Outcome: store.JSAppError,
			Error: "TypeError: cannot read property 'digits' of undefined", Duration: 2 * time.Millisecond, CreatedAt: at.Add(time.Second),
			Logs: []store.JSAppLogLine{{Time: at, Level: "warn", Message: "no digits\x1b[2J"}}},
	}))

	code, out, errOut = runCLIEnv(t, env, "apps", "logs", "ivr")
	require.Equal(t, 0, code, "stdout: %s\nstderr: %s", out, errOut)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 5, out)
	require.Regexp(t, `/menu\s+error\s+2\.000 ms\s+call call-b`, lines[0], "newest first")
	require.Contains(t, lines[1], "TypeError: cannot read property 'digits' of undefined")
	require.Regexp(t, `warn\s+no digits\?\[2J$`, lines[2], "escape sequences are not sent to the terminal")
	require.Regexp(t, `call\s+ok\s+0\.180 ms\s+call call-a`, lines[3])
	require.Contains(t, lines[4], "info  caller is +15551230000")

	code, out, _ = runCLIEnv(t, env, "apps", "logs", appSID, "--call", "call-a", "--json")
	require.Equal(t, 0, code, out)
	var invs []map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &invs), out)
	require.Len(t, invs, 1)
	require.Equal(t, "call-a", invs[0]["call_sid"])

	code, _, errOut = runCLIEnv(t, env, "apps", "logs", "nope")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, `no JS app "nope"`)
	code, _, errOut = runCLIEnv(t, map[string]string{"VOXRUN_API_KEY": "not-a-key", "VOXRUN_URL": base}, "apps", "logs", "ivr")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "invalid or missing api key (HTTP 401)")
	code, _, errOut = runCLI(t, "apps", "push", file, "--url", base, "--data-dir", filepath.Join(dir, "none"))
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "no API key")
}
