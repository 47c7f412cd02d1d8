package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/runtime"
	"github.com/voxrun/voxrun/store"
)

// menuApp is a webhook application: a gather for one digit or speech,
// then a reply that says what it got and hangs up. It records the action
// hook's payloads.
type menuApp struct {
	*httptest.Server
	mu   sync.Mutex
	got  []map[string]any
	call string
}

func newMenuApp(t *testing.T, call string) *menuApp {
	a := &menuApp{call: call}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/call":
			_, _ = w.Write([]byte(a.call))
		case "/menu":
			var p map[string]any
			_ = json.Unmarshal(b, &p)
			a.mu.Lock()
			a.got = append(a.got, p)
			a.mu.Unlock()
			_, _ = w.Write([]byte(`[{"verb":"say","text":"thanks"},{"verb":"hangup"}]`))
		case "/broken":
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	t.Cleanup(a.Close)
	return a
}

func (a *menuApp) menuPayloads() []map[string]any {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]map[string]any(nil), a.got...)
}

func parseEvents(t *testing.T, out string) []runtime.Event {
	t.Helper()
	var events []runtime.Event
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var e runtime.Event
		require.NoError(t, json.Unmarshal(sc.Bytes(), &e), "each line is one JSON event: %s", sc.Text())
		events = append(events, e)
	}
	return events
}

// find returns the index of the first event from i on that matches.
func find(events []runtime.Event, from int, match func(runtime.Event) bool) int {
	for i := from; i < len(events); i++ {
		if match(events[i]) {
			return i
		}
	}
	return -1
}

func TestSimulateWebhookAppPrintsItsTimeline(t *testing.T) {
	app := newMenuApp(t, `[{"verb":"gather","actionHook":"/menu","numDigits":1,"timeout":5,"say":{"text":"press one"}}]`)
	code, out, errOut := runCLI(t, "simulate", "--hook", app.URL+"/call", "--digits", "1", "--json",
		"--from", "+15551110000", "--data-dir", t.TempDir())
	require.Equal(t, 0, code, "stderr: %s\nstdout: %s", errOut, out)
	events := parseEvents(t, out)

	// The timeline in order: the call hook and its verbs, the gather, the
	// key, the action hook, the next verbs, the end.
	steps := []struct {
		name  string
		match func(runtime.Event) bool
	}{
		{"call hook", func(e runtime.Event) bool {
			return e.Type == runtime.EventHookRequest && e.Kind == "session:new" && e.URL == app.URL+"/call"
		}},
		{"its reply", func(e runtime.Event) bool { return e.Type == runtime.EventHookReply && e.Status == 200 }},
		{"gather starts", func(e runtime.Event) bool { return e.Type == runtime.EventVerbStart && e.Verb == "gather" }},
		{"answered", func(e runtime.Event) bool { return e.Type == runtime.EventLeg && e.Kind == "answered" }},
		{"key 1", func(e runtime.Event) bool { return e.Type == runtime.EventDTMF && e.Digit == "1" }},
		{"gather ends with it", func(e runtime.Event) bool {
			return e.Type == runtime.EventVerbEnd && e.Verb == "gather" && strings.Contains(string(e.Data), `"digits":"1"`)
		}},
		{"action hook", func(e runtime.Event) bool {
			return e.Type == runtime.EventHookRequest && e.Kind == "verb:hook" && e.URL == app.URL+"/menu"
		}},
		{"say", func(e runtime.Event) bool { return e.Type == runtime.EventVerbStart && e.Verb == "say" }},
		{"hangup", func(e runtime.Event) bool { return e.Type == runtime.EventVerbStart && e.Verb == "hangup" }},
		{"end", func(e runtime.Event) bool { return e.Type == runtime.EventEnd && e.Kind == "completed" }},
	}
	at := 0
	for _, s := range steps {
		i := find(events, at, s.match)
		require.GreaterOrEqual(t, i, 0, "no %q event after event %d in:\n%s", s.name, at, out)
		at = i + 1
	}
	// The key barged in on the prompt: what played of it is clip 1.
	require.GreaterOrEqual(t, find(events, 0, func(e runtime.Event) bool { return e.Type == runtime.EventAudio && e.Clip == 1 }), 0)
	p := app.menuPayloads()
	require.Len(t, p, 1)
	require.Equal(t, "1", p[0]["digits"])
	require.Equal(t, "+15551110000", p[0]["from"])
}

func TestSimulateSpeechAndHumanOutput(t *testing.T) {
	app := newMenuApp(t, `[{"verb":"gather","input":["speech"],"actionHook":"/menu","timeout":5}]`)
	code, out, errOut := runCLI(t, "simulate", "--hook", app.URL+"/call", "--speech", "sales", "--data-dir", t.TempDir())
	require.Equal(t, 0, code, "stderr: %s\nstdout: %s", errOut, out)
	require.Contains(t, out, `caller said "sales" (taken)`)
	require.Contains(t, out, "→ verb:hook "+app.URL+"/menu")
	require.Contains(t, out, "end completed")
	p := app.menuPayloads()
	require.Len(t, p, 1)
	require.Equal(t, "speechDetected", p[0]["reason"])
	alt := p[0]["speech"].(map[string]any)["alternatives"].([]any)[0].(map[string]any)
	require.Equal(t, "sales", alt["transcript"])
}

func TestSimulateFailsWhenTheAppFails(t *testing.T) {
	app := newMenuApp(t, `[]`)
	cases := []struct {
		name, hook, want string
	}{
		{"hook answers 500", "/broken", "ALERT webhook-failure"},
		{"hook answers no verbs", "/call", "ALERT invalid-app-payload"},
		{"nobody listens", "http://127.0.0.1:1/call", "ALERT webhook-connection-failure"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hook := tc.hook
			if strings.HasPrefix(hook, "/") {
				hook = app.URL + hook
			}
			code, out, errOut := runCLI(t, "simulate", "--hook", hook, "--data-dir", t.TempDir())
			require.Equal(t, 1, code, "stdout: %s", out)
			require.Contains(t, out, tc.want)
			require.Contains(t, out, "leg rejected 480")
			require.Contains(t, errOut, "the application failed")
		})
	}
	code, _, errOut := runCLI(t, "simulate", "--data-dir", t.TempDir())
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "give one of --app and --hook")
}

// --app ID reads a provisioned application from the configured database.
func TestSimulateProvisionedApp(t *testing.T) {
	dir := t.TempDir()
	code, _, errOut := runCLI(t, "migrate", "up", "--data-dir", dir)
	require.Equal(t, 0, code, errOut)
	cfg := DefaultConfig()
	cfg.DataDir = dir
	ctx := context.Background()
	st, err := openStores(ctx, cfg, newLogger(io.Discard, "error"))
	require.NoError(t, err)
	admin := store.Scope{Kind: store.ScopeAdmin}
	sp, err := st.prov.ServiceProviders(admin).Create(ctx, &store.ServiceProvider{Name: "sp"})
	require.NoError(t, err)
	acct, err := st.prov.Accounts(admin).Create(ctx, &store.Account{Name: "a", ServiceProviderSID: sp, IsActive: true})
	require.NoError(t, err)
	appSID, err := st.prov.Applications(admin).Create(ctx, &store.Application{Name: "static", AccountSID: acct,
		AppJSON: `[{"verb":"say","text":"hello"},{"verb":"hangup"}]`})
	require.NoError(t, err)
	st.close(newLogger(io.Discard, "error"))

	code, out, errOut := runCLI(t, "simulate", "--app", appSID, "--data-dir", dir, "--json")
	require.Equal(t, 0, code, "stderr: %s\nstdout: %s", errOut, out)
	events := parseEvents(t, out)
	require.GreaterOrEqual(t, find(events, 0, func(e runtime.Event) bool { return e.Type == runtime.EventVerbStart && e.Verb == "say" }), 0, out)
	require.Equal(t, runtime.EventEnd, events[len(events)-1].Type)

	code, _, errOut = runCLI(t, "simulate", "--app", "no-such-app", "--data-dir", dir)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "no-such-app")
}

// A JS app file runs in the sandbox (this binary's worker mode), with no
// server: its log lines and ctx.state are in the timeline; a file that does
// not compile is FILE:LINE:COLUMN.
func TestSimulateJSAppFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "ivr.js")
	require.NoError(t, os.WriteFile(file, []byte(`export default {
  call: (req, ctx) => {
    ctx.log.info('call from ' + req.from);
    ctx.state.step = 'menu';
    return [{ verb: 'gather', actionHook: '/menu', numDigits: 1, timeout: 5, say: { text: 'Press one.' } }];
  },
  '/menu': (req, ctx) => {
    ctx.log.warn('pressed ' + req.digits + ' at ' + ctx.state.step);
    return [{ verb: 'say', text: 'You pressed ' + req.digits }, { verb: 'hangup' }];
  },
};
`), 0o600))
	run := func(args ...string) (int, string, string) {
		cmd := exec.Command(voxrunBinary(t), append([]string{"simulate", "--data-dir", filepath.Join(dir, "data")}, args...)...)
		cmd.Env = append(os.Environ(), "VOXRUN_CONFIG=")
		var out, errb strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else {
			require.NoError(t, err)
		}
		return code, out.String(), errb.String()
	}
	code, out, errOut := run("--app", file, "--digits", "1", "--json")
	require.Equal(t, 0, code, "stderr: %s\nstdout: %s", errOut, out)
	events := parseEvents(t, out)
	var logs []string
	for _, e := range events {
		if e.Type == runtime.EventLog {
			logs = append(logs, e.Kind+" "+e.Message)
		}
	}
	require.Equal(t, []string{"info call from +15550001111", "warn pressed 1 at menu"}, logs)
	require.GreaterOrEqual(t, find(events, 0, func(e runtime.Event) bool {
		return e.Type == runtime.EventState && string(e.Data) == `{"step":"menu"}`
	}), 0, out)
	at := find(events, 0, func(e runtime.Event) bool { return e.Type == runtime.EventHookRequest && e.Kind == "verb:hook" })
	require.GreaterOrEqual(t, at, 0, out)
	require.GreaterOrEqual(t, find(events, at, func(e runtime.Event) bool { return e.Type == runtime.EventVerbStart && e.Verb == "say" }), 0, out)
	require.Equal(t, runtime.EventEnd, events[len(events)-1].Type)
	require.Equal(t, "completed", events[len(events)-1].Kind)

	bad := filepath.Join(dir, "bad.js")
	require.NoError(t, os.WriteFile(bad, []byte("export default {\n  call: () => [,,, ;\n};\n"), 0o600))
	code, _, errOut = run("--app", bad)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, bad+":2:")
}
