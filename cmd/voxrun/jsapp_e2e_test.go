package main

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/sip/siptest"
)

// menuJS is the JS app of the end-to-end test: say and gather, the /menu
// handler dials sales (ctx.env) when 1 is pressed, /dialed hangs up; state
// carries the caller between hooks and every handler logs.
const menuJS = `export default {
  call(req, ctx) {
    ctx.state.caller = req.from;
    ctx.log.info('call from ' + req.from);
    return new Verbs().gather({say: {text: 'Press one for sales.'}, numDigits: 1, timeout: 10, actionHook: '/menu'});
  },
  '/menu'(req, ctx) {
    ctx.log.info('pressed ' + req.digits + ' by ' + ctx.state.caller);
    if (req.digits !== '1') return [{verb: 'hangup'}];
    return [{verb: 'dial', callerId: ctx.env.CALLER_ID, actionHook: '/dialed', target: [{type: 'sip', sipUri: ctx.env.SALES}]}];
  },
  '/dialed': (req, ctx) => {
    ctx.log.info('dial ' + req.dial_call_status);
    return [{verb: 'hangup'}];
  },
  status(req, ctx) { ctx.log.info('status ' + req.call_status); },
};
`

// sipp calls a number whose application is a JS app uploaded over REST:
// the app says and gathers, sipp presses 1 (RFC 2833), the /menu handler
// dials a second sipp (its URI from the app's variables), the caller's
// audio reaches the callee through the bridge, the callee hangs up and
// /dialed hangs up the caller. The app's invocation logs list every hook
// with its log lines, and both legs have CDRs.
func TestJSAppEndToEndWithTwoSipps(t *testing.T) {
	sipp := siptest.Tool(t, "sipp", "sip-tester")
	capture := listenRTP(t)
	callee := siptest.StartSippUAS(t, filepath.Join("testdata", "sipp", "uas_capture_hangup.xml"), "u1",
		"-key", "rtp_port", strconv.Itoa(capture.port()))

	n := startTenant(t)
	appPath := "/Accounts/" + n.acct + "/JsApps"
	js := rest(t, n.base, n.key, "POST", appPath, map[string]any{
		"name": "menu", "env_vars": map[string]any{"SALES": callee.Target, "CALLER_ID": "+15550009999"}})
	jsSID := js["sid"].(string)
	version := rest(t, n.base, n.key, "POST", appPath+"/"+jsSID+"/Versions?activate=true", map[string]any{"source": menuJS})
	require.Equal(t, true, version["active"])

	carrier := rest(t, n.base, n.key, "POST", "/VoipCarriers", map[string]any{"name": "js e2e carrier", "account_sid": n.acct})
	rest(t, n.base, n.key, "POST", "/SipGateways", map[string]any{"voip_carrier_sid": carrier["sid"], "ipv4": "127.0.0.1", "netmask": 32, "inbound": true})
	application := rest(t, n.base, n.key, "POST", "/Applications", map[string]any{"name": "js menu", "account_sid": n.acct, "js_app_sid": jsSID})
	rest(t, n.base, n.key, "POST", "/PhoneNumbers", map[string]any{"number": "15551230077", "voip_carrier_sid": carrier["sid"],
		"application_sid": application["sid"], "account_sid": n.acct})

	_, pcapPath := tonesPcap(t)
	runSippCall(t, sipp, scenarioWithPcap(t, "call_gather_then_talk.xml", pcapPath), n.ready["sip_udp"].(string), "15551230077")
	callee.Wait(t)
	pkts := capture.quiet(300 * time.Millisecond)
	require.NotEmpty(t, pkts, "the callee heard the caller through the bridge")

	// The invocation logs: every hook, in order, with the handler's lines.
	var hooks []string
	var lines []string
	require.Eventually(t, func() bool {
		logs := restList(t, n.base, n.key, appPath+"/"+jsSID+"/Logs?count=100")
		hooks, lines = nil, nil
		for i := len(logs) - 1; i >= 0; i-- { // newest first
			inv := logs[i]
			require.Equal(t, "ok", inv["outcome"], "invocation %v", inv)
			hooks = append(hooks, inv["hook"].(string))
			entries, _ := inv["logs"].([]any)
			for _, e := range entries {
				lines = append(lines, e.(map[string]any)["msg"].(string))
			}
		}
		return strings.Contains(strings.Join(lines, "|"), "status completed")
	}, 10*time.Second, 100*time.Millisecond, "the final status reached the app's status handler")
	require.Subset(t, hooks, []string{"call", "/menu", "/dialed", "status"})
	require.Contains(t, lines, "call from +15550001111")
	require.Contains(t, lines, "pressed 1 by +15550001111", "ctx.state carried the caller from the call hook to /menu")
	require.Contains(t, lines, "dial completed")

	require.Eventually(t, func() bool {
		page := rest(t, n.base, n.key, "GET", "/Accounts/"+n.acct+"/RecentCalls?page=1&count=25", nil)
		data, _ := page["data"].([]any)
		dirs := map[string]int{}
		for _, row := range data {
			if c, ok := row.(map[string]any); ok && c["answered"] == true {
				dirs[c["direction"].(string)]++
			}
		}
		return dirs["inbound"] == 1 && dirs["outbound"] == 1
	}, 10*time.Second, 100*time.Millisecond, "a CDR per leg")
	n.p.stop(t)
}

// An upload is compiled in a sandbox worker, not in the server: a source
// nested 200,000 levels deep (which takes goja's recursive parser's stack
// and memory with it) is refused with 422 and the server, its memory and
// its next uploads are unharmed.
func TestJSUploadNestingBombIsCompiledInAWorker(t *testing.T) {
	n := startTenant(t)
	appPath := "/Accounts/" + n.acct + "/JsApps"
	js := rest(t, n.base, n.key, "POST", appPath, map[string]any{"name": "bomb"})
	before := rssKiB(t, n.p.cmd.Process.Pid)

	bomb := "export default { call: () => " + strings.Repeat("[", 200_000) + " }"
	status, body := restStatus(t, n.base, n.key, "POST", appPath+"/"+js["sid"].(string)+"/Versions", map[string]any{"source": bomb})
	require.Equal(t, 422, status, "%s", body)
	require.Contains(t, body, "nested")

	after := rssKiB(t, n.p.cmd.Process.Pid)
	t.Logf("server RSS %d KiB before, %d KiB after the bomb", before, after)
	require.Less(t, after-before, 100*1024, "the server's memory did not take the parse")
	good := rest(t, n.base, n.key, "POST", appPath+"/"+js["sid"].(string)+"/Versions?activate=true",
		map[string]any{"source": `export default { call: () => [{verb: 'hangup'}] }`})
	require.Equal(t, true, good["active"], "the next upload compiles")
	n.p.stop(t)
}
