package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/sip/siptest"
)

// jambonz's own npm client, @jambonz/node-client, places a call through
// POST /Calls to a sipp callee, waits for it to be answered, and redirects
// it with PUT call_hook; the redirected document hangs up and sipp gets the
// BYE. The hooks see an outbound call whose app ran once answered, the
// redirect, and the status events in order.
func TestNodeClientCreatesAndRedirectsACall(t *testing.T) {
	node, npm := nodeTools(t)
	dir, err := filepath.Abs(filepath.Join("..", "..", "api", "testdata", "nodeclient"))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@jambonz", "node-client")); err != nil {
		cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "npm ci: %s", out)
	}

	callee := siptest.StartSippUAS(t, filepath.Join("testdata", "sipp", "uas_answer_wait_bye.xml"), "u1")
	app, hooks := webhookApp(t, map[string]string{
		"/call":       `[{"verb":"pause","length":20}]`,
		"/redirected": `[{"verb":"hangup"}]`,
	})

	n := startTenant(t)
	cmd := exec.CommandContext(ctx, node, "calls.js")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "VOXRUN_BASE_URL="+n.base+"/", "VOXRUN_ACCOUNT_SID="+n.acct, "VOXRUN_API_KEY="+n.key,
		"VOXRUN_TARGET="+callee.Target, "VOXRUN_HOOKS="+app.URL)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "node calls.js: %s", stderr.String())
	var got struct{ Sid, Status string }
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &got), stdout.String())
	callee.Wait(t)

	require.Eventually(t, func() bool {
		st := hooks.get("/status")
		return len(st) > 0 && st[len(st)-1]["call_status"] == "completed"
	}, 10*time.Second, 20*time.Millisecond)
	first := hooks.get("/call")
	require.Len(t, first, 1)
	require.Equal(t, got.Sid, first[0]["call_sid"])
	require.Equal(t, "outbound", first[0]["direction"])
	require.Equal(t, "in-progress", first[0]["call_status"])
	require.Equal(t, "+15550001234", first[0]["from"])
	require.Equal(t, map[string]any{"via": "node-client"}, first[0]["customerData"])
	require.Len(t, hooks.get("/redirected"), 1, "PUT call_hook fetched the new document")
	var statuses []string
	for _, s := range hooks.get("/status") {
		statuses = append(statuses, s["call_status"].(string))
	}
	require.Equal(t, []string{"trying", "ringing", "in-progress", "completed"}, statuses)
	n.p.stop(t)
}

// nodeTools returns node and npm; they are required (scripts/test-deps.sh
// installs them).
func nodeTools(t *testing.T) (node, npm string) {
	t.Helper()
	node, err := exec.LookPath("node")
	require.NoError(t, err, "node is required (scripts/test-deps.sh installs it)")
	npm, err = exec.LookPath("npm")
	require.NoError(t, err, "npm is required (scripts/test-deps.sh installs it)")
	return node, npm
}

// A call to a phone number goes out through the account's carrier: the
// carrier's outbound gateway (sipp) gets the INVITE with the number in
// E.164 and the request's headers; the app_json runs once answered and
// hangs up.
func TestRESTCallToAPhoneNumberGoesOutThroughTheCarrier(t *testing.T) {
	gateway := siptest.StartSippUAS(t, filepath.Join("testdata", "sipp", "uas_carrier.xml"), "u1")
	n := startTenant(t)
	carrier := rest(t, n.base, n.key, "POST", "/VoipCarriers", map[string]any{"name": "outbound carrier", "account_sid": n.acct, "e164_leading_plus": true})
	rest(t, n.base, n.key, "POST", "/SipGateways", map[string]any{"voip_carrier_sid": carrier["sid"], "ipv4": "127.0.0.1",
		"port": gateway.Port, "netmask": 32, "inbound": false, "outbound": true})
	created := rest(t, n.base, n.key, "POST", "/Accounts/"+n.acct+"/Calls", map[string]any{
		"from": "+15550001234", "callerName": "Front Desk", "fromHost": "pbx.example.com", "answerOnBridge": true,
		"to":       map[string]any{"type": "phone", "number": "15557654321"},
		"app_json": `[{"verb":"pause","length":0.2},{"verb":"hangup"}]`, "headers": map[string]any{"X-Campaign": "carrier-e2e"},
	})
	require.NotEmpty(t, created["sid"])
	require.NotEmpty(t, created["callId"])
	gateway.Wait(t)
	require.Eventually(t, func() bool {
		page := rest(t, n.base, n.key, "GET", "/Accounts/"+n.acct+"/RecentCalls?page=1&count=25", nil)
		data, _ := page["data"].([]any)
		for _, row := range data {
			if c, ok := row.(map[string]any); ok && c["call_sid"] == created["sid"] {
				return c["answered"] == true && c["direction"] == "outbound"
			}
		}
		return false
	}, 10*time.Second, 100*time.Millisecond, "the outbound call's CDR")
	n.p.stop(t)
}
