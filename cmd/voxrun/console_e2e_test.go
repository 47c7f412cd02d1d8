package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// consoleHooks is the webhook application the console test calls: a menu
// (say, gather a key), then a speech gather, then a long pause; an
// application that holds the line; one that fails.
func consoleHooks(t *testing.T) *httptest.Server {
	replies := map[string]string{
		"/call": `[{"verb":"say","text":"Welcome to voxrun."},` +
			`{"verb":"gather","actionHook":"/menu","numDigits":1,"timeout":20,"say":{"text":"Press one for sales."}}]`,
		"/menu":   `[{"verb":"say","text":"You pressed one."},{"verb":"gather","input":["speech"],"actionHook":"/speech","timeout":20}]`,
		"/speech": `[{"verb":"say","text":"Sales it is."},{"verb":"pause","length":60}]`,
		"/hold":   `[{"verb":"pause","length":60}]`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reply, ok := replies[r.URL.Path]
		if !ok {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(reply))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestConsoleInChromium drives the console in Debian's Chromium, headless,
// with playwright-core (both installed by scripts/test-deps.sh): sign in,
// create applications and a JS app (a compile error shown at its line,
// then deployed), numbers, SIP clients, a simulated call (say in the
// timeline, a key pressed, the actionHook and the next verbs, speech, hang
// up, the transcript downloaded), the call in recent calls, an alert, a live
// call hung up, a phone-sized window. Screenshots of every page go to
// .cache/artifacts/console/.
func TestConsoleInChromium(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	pw := filepath.Join(root, ".cache", "playwright")
	_, err = os.Stat(filepath.Join(pw, "node_modules", "playwright-core", "package.json"))
	require.NoError(t, err, "playwright-core is missing: run scripts/test-deps.sh")
	chromium, err := exec.LookPath("chromium")
	require.NoError(t, err, "chromium is missing: run scripts/test-deps.sh")
	node, err := exec.LookPath("node")
	require.NoError(t, err, "node is missing: run scripts/test-deps.sh")

	hooks := consoleHooks(t)
	n := startTenant(t)
	go func() { // keep voxrun's log pipe flowing
		for range n.p.logs {
		}
	}()
	artifacts := filepath.Join(root, ".cache", "artifacts", "console")
	require.NoError(t, os.RemoveAll(artifacts))

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(root, "tests", "console", "console.mjs"))
	cmd.Env = append(os.Environ(),
		"VOXRUN_URL=http://"+n.p.http, "VOXRUN_KEY="+n.key, "HOOK_URL="+hooks.URL,
		"PLAYWRIGHT_DIR="+pw, "ARTIFACTS="+artifacts, "CHROMIUM="+chromium)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	t.Logf("console run:\n%s", out.String())
	require.NoError(t, err, "the console test failed; screenshots in %s", artifacts)
	shots, err := filepath.Glob(filepath.Join(artifacts, "*.png"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(shots), 12, "a screenshot of each page")
}
