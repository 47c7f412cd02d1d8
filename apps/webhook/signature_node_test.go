package webhook

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/apps"
)

// lockedBuffer collects a child process's stderr while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// nodeVerifier starts testdata/nodeverify/verify.js: an HTTP app that checks
// every request with @jambonz/node-client's verifyJambonzSignature(secret),
// both as jambonz apps use it behind express.json() (the parsed body,
// re-stringified) and behind express.raw() (the bytes received). It returns
// the app's base URL and its stderr, where refusals are described.
// Without node the test skips, unless CI=true, where it fails.
func nodeVerifier(t *testing.T, secret string) (string, *lockedBuffer) {
	t.Helper()
	node, err := exec.LookPath("node")
	var npm string
	if err == nil {
		npm, err = exec.LookPath("npm")
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("node and npm are required with CI=true (scripts/test-deps.sh installs them): %v", err)
		}
		t.Skipf("node or npm not installed: %v", err)
	}
	dir, err := filepath.Abs(filepath.Join("testdata", "nodeverify"))
	require.NoError(t, err)
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@jambonz", "node-client")); err != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--prefer-offline")
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "npm ci: %s", out)
	}

	cmd := exec.Command(node, "verify.js")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "VERIFY_SECRET="+secret)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = stdin.Close() // the script exits when its stdin closes
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})

	type ready struct{ Port int }
	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		lines <- line
	}()
	select {
	case line := <-lines:
		var r ready
		require.NoError(t, json.Unmarshal([]byte(line), &r), "verify.js said %q; stderr: %s", line, stderr.String())
		require.NotZero(t, r.Port)
		return "http://127.0.0.1:" + strconv.Itoa(r.Port), stderr
	case <-time.After(30 * time.Second):
		t.Fatalf("verify.js did not start; stderr: %s", stderr.String())
		return "", nil
	}
}

// TestSignatureVerifiedByNodeClient sends hooks with Client.Send to an app
// that verifies them with jambonz's own verifier: every payload voxrun may
// send (non-ASCII, SIP URIs with <&>, emoji, line separators, control
// characters, invalid UTF-8 from a SIP header, customerData passed through
// as the tenant wrote it, large bodies) passes both ways of verifying, and a
// request signed with another secret is refused.
func TestSignatureVerifiedByNodeClient(t *testing.T) {
	const secret = "wh_secret_7WkE2pVq9cRbYt3sLmN4xZ"
	base, stderr := nodeVerifier(t, secret)
	g, err := NewGuard(LoopbackAllow, time.Second)
	require.NoError(t, err)
	c, err := NewClient(Options{Guard: g, Timeout: 10 * time.Second}) // the real clock: the verifier checks the timestamp's age
	require.NoError(t, err)
	t.Cleanup(c.http.CloseIdleConnections)

	large := strings.Repeat("voxrun ☎ <sip:+15551234567@10.0.0.1>&tag=9 ", 24<<10) // ~1 MiB
	manyKeys := map[string]any{}
	for i := range 5000 {
		manyKeys["header_"+strconv.Itoa(i)] = "value <" + strconv.Itoa(i) + "> & ü"
	}
	cases := []struct {
		name    string
		payload any
	}{
		{"ascii", map[string]any{"call_sid": "abc", "call_status": "ringing", "sip_status": 180}},
		{"non-ascii", map[string]any{"caller_name": "José Müller", "to": "日本語 Ελληνικά Ünïcödé", "note": "ß€£¥"}},
		{"sip-uri-with-html-characters", map[string]any{"from": "<sip:+15551234567@10.0.0.1>;tag=a&b", "to": `"A & B" <sip:x@y>`,
			"sip": map[string]any{"headers": map[string]any{"contact": "<sip:u@h;transport=tcp>"}}}},
		{"emoji", map[string]any{"caller_name": "📞 Ana 🎉", "family": "👨‍👩‍👧‍👦", "flag": "🇳🇿", "skin": "👍🏽"}},
		{"line-separators", map[string]any{"text": "one\u2028two\u2029three"}},
		{"control-characters", map[string]any{"text": "nul\x00 bell\x07 bs\b ff\f nl\n cr\r tab\t us\x1f del\x7f", "quote": `"\/`}},
		{"invalid-utf8-from-a-sip-header", map[string]any{"caller_name": "Jos\xe9 M\xfcller", "raw": "\xff\xfe"}},
		{"customer-data-as-written", map[string]any{"call_sid": "abc",
			"customerData": json.RawMessage(`{ "name": "Jos\u00e9", "path": "a\/b", "n": 1.50, "big": 12345678901234567890,
				"tiny": 1E-7, "html": "\u003cb\u003e", "nested": {"10": "ten", "9": "nine", "b": 1, "a": 2},
				"list": [1, 2.0, -0, "x"] }`)}},
		{"customer-data-edge-cases", map[string]any{"customerData": json.RawMessage(`{"dup": 1, "z": {"k": "first", "k": "last"},
				"dup": 2, "-1": "minus", "01": "zero-led", "4294967295": "too big", "4294967294": "max index", "0": "zero",
				"lone": "\ud800 and \udfff", "pair": "\ud83d\udcde", "huge": 1e400, "under": 1e-400, "neg0": -0.0,
				"esc": "\u001f\u007f\"\\", "empty": {}, "arr": [], "t": true, "n": null}`)}},
		{"numbers", map[string]any{"duration": 42, "f": 0.1, "e": 1e21, "neg": -3.25, "max": int64(1) << 53}},
		{"large-body", map[string]any{"call_sid": "abc", "speech": large}},
		{"many-keys", manyKeys},
		{"struct", struct {
			CallSID string `json:"call_sid"`
			From    string `json:"from"`
			Digits  string `json:"digits,omitempty"`
		}{"abc", "<sip:ünï@host>", "1#"}},
		{"empty-object", map[string]any{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			reply, err := c.Send(context.Background(), apps.Request{
				Hook:    apps.Hook{URL: base + "/" + tc.name},
				Payload: tc.payload,
				Secret:  secret,
			})
			require.NoError(t, err, "the verifier refused it: %s", stderr.String())
			var doc []struct {
				Verb string `json:"verb"`
				Data struct {
					Verified string `json:"verified"`
					Bytes    int    `json:"bytes"`
				} `json:"data"`
			}
			require.NoError(t, json.Unmarshal(reply.Verbs, &doc))
			require.Len(t, doc, 1)
			require.Equal(t, "/"+tc.name, doc[0].Data.Verified)
			body, err := Marshal(tc.payload)
			require.NoError(t, err)
			require.Equal(t, len(body), doc[0].Data.Bytes, "the app received the bytes Marshal makes")
		})
	}
	require.Greater(t, len(large), 1<<20-1<<17)

	t.Run("wrong-secret", func(t *testing.T) {
		for _, wrong := range []string{"wh_secret_somebodyElsesSecret00", secret + "x", ""} {
			_, err := c.Send(context.Background(), apps.Request{
				Hook:    apps.Hook{URL: base + "/wrong-secret"},
				Payload: map[string]any{"call_sid": "abc", "from": "<sip:ü@h>"},
				Secret:  wrong,
			})
			he, ok := apps.AsHookError(err)
			require.True(t, ok, "a request signed with %q must be refused, got %v", wrong, err)
			require.Equal(t, apps.FailStatus, he.Kind)
			require.Equal(t, 403, he.Status)
		}
		// The verifier writes why it refused to its stderr, which may reach
		// the test a moment after the 403.
		requireLogged(t, stderr, "No matching signatures found")
		requireLogged(t, stderr, "Missing Jambonz-Signature", "no secret, no signature header")
	})

	t.Run("stale-timestamp", func(t *testing.T) {
		old, err := NewClient(Options{Guard: g, Now: func() time.Time { return time.Now().Add(-6 * time.Minute) }})
		require.NoError(t, err)
		t.Cleanup(old.http.CloseIdleConnections)
		_, err = old.Send(context.Background(), apps.Request{Hook: apps.Hook{URL: base + "/stale"},
			Payload: map[string]any{"call_sid": "abc"}, Secret: secret})
		he, ok := apps.AsHookError(err)
		require.True(t, ok, "%v", err)
		require.Equal(t, 403, he.Status)
		requireLogged(t, stderr, "timestamp outside of tolerance")
	})
}

// requireLogged waits (2 s at most) for the child process to have written
// want to its stderr.
func requireLogged(t *testing.T, stderr *lockedBuffer, want string, msg ...any) {
	t.Helper()
	require.Eventually(t, func() bool { return strings.Contains(stderr.String(), want) }, 2*time.Second, 10*time.Millisecond, msg...)
}
