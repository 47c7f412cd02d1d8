package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/sip/siptest"
)

// A carrier's SIP MESSAGE to a number reaches the application's
// messaging_hook (202); a number whose application has none gets 405.
func TestSIPMessageReachesTheMessagingHook(t *testing.T) {
	sipp := siptest.Tool(t, "sipp", "sip-tester")
	hooks := &hookLog{got: map[string][]map[string]any{}}
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p map[string]any
		_ = json.NewDecoder(r.Body).Decode(&p)
		hooks.add(r.URL.Path, p)
		w.WriteHeader(200)
	}))
	defer app.Close()
	n := startTenant(t)
	provisionNumber(t, n.base, n.key, n.acct, "15550005555", map[string]any{
		"call_hook": map[string]any{"url": app.URL + "/call"}, "messaging_hook": map[string]any{"url": app.URL + "/sms"}})
	provisionNumber(t, n.base, n.key, n.acct, "15550005556", map[string]any{"call_hook": map[string]any{"url": app.URL + "/call"}})
	sipAddr := n.ready["sip_udp"].(string)

	runSippCall(t, sipp, "message_202.xml", sipAddr, "15550005555")
	got := hooks.get("/sms")
	require.Len(t, got, 1)
	require.Equal(t, "hello from sipp\r\n", got[0]["text"], "the body as sent (sipp ends it with CRLF)")
	require.Equal(t, "+15550001111", got[0]["from"])
	require.Equal(t, "15550005555", got[0]["to"])
	require.Equal(t, n.acct, got[0]["account_sid"])

	runSippCall(t, sipp, "message_405.xml", sipAddr, "15550005556")
	runSippCall(t, sipp, "message_404.xml", sipAddr, "15550009999")
	require.Len(t, hooks.get("/sms"), 1)
	n.p.stop(t)
}
