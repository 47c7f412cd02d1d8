package main

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/sip/siptest"
)

// An account limited to one call in progress: sipp's first call is
// answered and held, the second gets 503 with Retry-After and the account
// an account-call-limit alert, and a call the account places over REST is
// refused too; once the first ends, a call goes through again.
func TestAccountCallLimitRefusesTheSecondCall(t *testing.T) {
	sipp := siptest.Tool(t, "sipp", "sip-tester")
	app, hooks := webhookApp(t, map[string]string{"/call": `[{"verb":"answer"},{"verb":"pause","length":60}]`})
	dataDir := filepath.Join(t.TempDir(), "data")
	p := startServe(t, dataDir)
	ready := p.waitLog(t, "voxrun ready")
	cred := credentials(t, dataDir)
	base, key, acct := "http://"+p.http+"/v1", cred["account_api_key"], cred["account_sid"]
	provisionNumber(t, base, key, acct, "15550006666", map[string]any{"call_hook": map[string]any{"url": app.URL + "/call"}})
	rest(t, base, cred["admin_api_key"], "POST", "/Accounts/"+acct+"/Limits", map[string]any{"category": "voice_call_session", "quantity": 1})
	sipAddr := ready["sip_udp"].(string)

	done := make(chan struct{})
	go func() {
		defer close(done)
		runSippCall(t, sipp, "call_wait_bye.xml", sipAddr, "15550006666")
	}()
	var callSID string
	require.Eventually(t, func() bool {
		calls := hooks.get("/call")
		if len(calls) == 0 {
			return false
		}
		callSID = calls[0]["call_sid"].(string)
		return rest(t, base, key, "GET", "/Accounts/"+acct+"/Calls/"+callSID, nil)["call_status"] == "in-progress"
	}, 15*time.Second, 50*time.Millisecond)

	runSippCall(t, sipp, "call_refused_503.xml", sipAddr, "15550006666")
	require.Len(t, hooks.get("/call"), 1, "the refused call never reached the application")
	alerts := rest(t, base, key, "GET", "/Accounts/"+acct+"/Alerts", nil)
	raw, _ := json.Marshal(alerts)
	require.Contains(t, string(raw), `"alert_type":"account-call-limit"`)

	// A call the account places counts against the same limit: refused
	// before any INVITE leaves (the target does not even exist).
	created := rest(t, base, key, "POST", "/Accounts/"+acct+"/Calls", map[string]any{"from": "+15550001234",
		"to": map[string]any{"type": "sip", "sipUri": "sip:nobody@127.0.0.1:9"}, "app_json": `[{"verb":"hangup"}]`})
	require.Eventually(t, func() bool {
		c := rest(t, base, key, "GET", "/Accounts/"+acct+"/Calls/"+created["sid"].(string), nil)
		return c["call_status"] == "failed" && c["sip_status"] == float64(503)
	}, 10*time.Second, 50*time.Millisecond, "the outbound call is refused by the account's limit")

	completeCall(t, base, key, acct, callSID)
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("the first call did not end")
	}
	// The slot is free again: the next call is answered (and hung up).
	done2 := make(chan struct{})
	go func() {
		defer close(done2)
		runSippCall(t, sipp, "call_wait_bye.xml", sipAddr, "15550006666")
	}()
	require.Eventually(t, func() bool { return len(hooks.get("/call")) == 2 }, 15*time.Second, 50*time.Millisecond)
	second := hooks.get("/call")[1]["call_sid"].(string)
	require.Eventually(t, func() bool {
		return rest(t, base, key, "GET", "/Accounts/"+acct+"/Calls/"+second, nil)["call_status"] == "in-progress"
	}, 15*time.Second, 50*time.Millisecond)
	completeCall(t, base, key, acct, second)
	<-done2
	p.stop(t)
}

// completeCall ends a live call over REST (PUT call_status completed).
func completeCall(t *testing.T, base, key, acct, callSID string) {
	t.Helper()
	req, err := http.NewRequest("PUT", base+"/Accounts/"+acct+"/Calls/"+callSID, strings.NewReader(`{"call_status":"completed"}`))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 202, resp.StatusCode)
}
