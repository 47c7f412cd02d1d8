package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/media/g711"
	"github.com/voxrun/voxrun/sip/siptest"
)

// The whole flow of a jambonz application over real SIP and RTP: sipp calls
// a number; the webhook app says and gathers; sipp presses 1 (RFC 2833); the
// action hook answers with a dial to a second sipp acting as the callee;
// once bridged, the caller talks (a pcap of three tones) and the test hears
// those tones on the callee's side, through voxrun's bridge; the callee
// hangs up, the dial's action hook gets the outcome and hangs up the caller.
// Every payload, both CDRs and (on Redis) both call hashes are checked, on
// embedded defaults and on MariaDB and Redis.
func TestDialEndToEndWithTwoSipps(t *testing.T) {
	t.Run("embedded defaults", func(t *testing.T) { dialEndToEnd(t, nil) })
	t.Run("mysql and redis", func(t *testing.T) {
		rdb, args := mysqlAndRedis(t, 12)
		dialEndToEnd(t, rdb, args...)
	})
}

func dialEndToEnd(t *testing.T, rdb *redis.Client, args ...string) {
	sipp := siptest.Tool(t, "sipp", "sip-tester")
	capture := listenRTP(t)
	callee := siptest.StartSippUAS(t, filepath.Join("testdata", "sipp", "uas_capture_hangup.xml"), "u1",
		"-key", "rtp_port", strconv.Itoa(capture.port()))

	app, hooks := webhookApp(t, map[string]string{
		"/call": `[{"verb":"gather","say":{"text":"Press one for sales."},"numDigits":1,"timeout":10,"actionHook":"/menu"}]`,
		"/menu": `[{"verb":"dial","callerId":"+15550009999","actionHook":"/dialed","timeout":10,
			"headers":{"X-Campaign":"e2e"},"target":[{"type":"sip","sipUri":"` + callee.Target + `"}]}]`,
		"/dialed": `[{"verb":"hangup"}]`,
	})

	n := startTenant(t, args...)
	p, ready, base, key, acct := n.p, n.ready, n.base, n.key, n.acct
	provisionNumber(t, base, key, acct, "15551230042", map[string]any{
		"call_hook":        map[string]any{"url": app.URL + "/call"},
		"call_status_hook": map[string]any{"url": app.URL + "/status"},
	})

	// What the caller says once bridged: three tones, as 20 ms PCMU packets.
	ref, pcapPath := tonesPcap(t)
	runSippCall(t, sipp, scenarioWithPcap(t, "call_gather_then_talk.xml", pcapPath), ready["sip_udp"].(string), "15551230042")
	callee.Wait(t)
	pkts := capture.quiet(300 * time.Millisecond)

	require.Eventually(t, func() bool {
		st := hooks.get("/status")
		done := 0
		for _, s := range st {
			if s["call_status"] == "completed" {
				done++
			}
		}
		return done == 2
	}, 10*time.Second, 20*time.Millisecond, "both legs completed")

	first := hooks.get("/call")
	require.Len(t, first, 1)
	callSID := first[0]["call_sid"].(string)
	menu := hooks.get("/menu")
	require.Len(t, menu, 1)
	require.Equal(t, "1", menu[0]["digits"])
	dialed := hooks.get("/dialed")
	require.Len(t, dialed, 1)
	d := dialed[0]
	require.Equal(t, callSID, d["call_sid"])
	require.Equal(t, "completed", d["dial_call_status"])
	require.EqualValues(t, 200, d["dial_sip_status"])
	childSID, _ := d["dial_call_sid"].(string)
	require.NotEmpty(t, childSID)
	require.GreaterOrEqual(t, d["duration"], 3.0, "bridged until the callee hung up, 4.5 s after its answer")

	byLeg := map[string][]string{}
	for _, s := range hooks.get("/status") {
		sid := s["call_sid"].(string)
		byLeg[sid] = append(byLeg[sid], s["call_status"].(string))
		if sid == childSID {
			require.Equal(t, callSID, s["parent_call_sid"])
			require.Equal(t, "outbound", s["direction"])
			require.Equal(t, "+15550009999", s["from"])
		}
	}
	require.Equal(t, []string{"trying", "in-progress", "completed"}, byLeg[callSID])
	require.Equal(t, []string{"trying", "ringing", "in-progress", "completed"}, byLeg[childSID], "the B leg's own status events")

	// The caller's tones reached the callee through the bridge.
	require.NotEmpty(t, pkts, "voxrun sent the callee RTP")
	best := heardCorrelation(t, ref, pkts)
	t.Logf("callee heard %d packets; best correlation with the caller's tones %.4f", len(pkts), best)
	require.Greater(t, best, 0.95, "the callee heard what the caller said")

	// Both CDRs reach the database.
	require.Eventually(t, func() bool {
		page := rest(t, base, key, "GET", "/Accounts/"+acct+"/RecentCalls?page=1&count=25", nil)
		data, _ := page["data"].([]any)
		found := map[string]string{}
		for _, row := range data {
			if c, ok := row.(map[string]any); ok && c["answered"] == true {
				found[c["call_sid"].(string)], _ = c["direction"].(string)
			}
		}
		return found[callSID] == "inbound" && found[childSID] == "outbound"
	}, 10*time.Second, 100*time.Millisecond, "a CDR per leg in RecentCalls")

	if rdb != nil {
		ctx := context.Background()
		for sid, dir := range map[string]string{callSID: "inbound", childSID: "outbound"} {
			h, err := rdb.HGetAll(ctx, "call:"+acct+":"+sid).Result()
			require.NoError(t, err)
			require.Equal(t, "completed", h["call_status"])
			require.Equal(t, dir, h["direction"])
		}
	}
	p.stop(t)
}

// scenarioWithPcap copies a scenario of testdata/sipp into a temporary
// directory with its [test_pcap] placeholder replaced by pcapPath (sipp
// reads the path when it loads the scenario) and returns the copy's path
// relative to testdata/sipp, for runSippCall.
func scenarioWithPcap(t *testing.T, name, pcapPath string) string {
	t.Helper()
	sipDir, err := filepath.Abs(filepath.Join("testdata", "sipp"))
	require.NoError(t, err)
	tmpl, err := os.ReadFile(filepath.Join(sipDir, name))
	require.NoError(t, err)
	scenario := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(scenario, bytes.ReplaceAll(tmpl, []byte(`play_pcap_audio="[test_pcap]"`), []byte(`play_pcap_audio="`+pcapPath+`"`)), 0o644))
	rel, err := filepath.Rel(sipDir, scenario)
	require.NoError(t, err)
	return rel
}

// A dial with answerOnBridge to one callee that answers with early media
// (183 with SDP, then tones, then 200): the caller gets 183 and hears the
// tones before the callee answers, as jambonz passes early media through.
func TestDialPassesTheCalleesEarlyMediaToTheCaller(t *testing.T) {
	sipp := siptest.Tool(t, "sipp", "sip-tester")
	ref, pcapPath := tonesPcap(t)
	callee := siptest.StartSippUAS(t, filepath.Join("testdata", "sipp", scenarioWithPcap(t, "uas_early_tones.xml", pcapPath)), "u1")

	app, hooks := mediaApp(t, func(string) string {
		return `[{"verb":"dial","answerOnBridge":true,"actionHook":"/dialed","target":[{"type":"sip","sipUri":"` + callee.Target + `"}]}]`
	}, nil)
	p, sipAddr := mediaServe(t, "15550004001", app)
	capture := listenRTP(t)
	runSippCall(t, sipp, "call_capture_rtp.xml", sipAddr, "15550004001", "-key", "rtp_port", strconv.Itoa(capture.port()))
	callee.Wait(t)
	pkts := capture.quiet(300 * time.Millisecond)
	waitCompleted(t, hooks)
	p.stop(t)

	var statuses []string
	for _, s := range hooks.get("/status") {
		if s["parent_call_sid"] == nil {
			statuses = append(statuses, s["call_status"].(string))
		}
	}
	require.Equal(t, []string{"trying", "early-media", "in-progress", "completed"}, statuses, "the caller got 183, then 200 with the bridge")
	best := heardCorrelation(t, ref, pkts)
	t.Logf("caller heard %d packets; best correlation with the callee's early tones %.4f", len(pkts), best)
	require.Greater(t, best, 0.95, "the caller heard the callee's early media")
	require.Equal(t, "completed", hooks.get("/dialed")[0]["dial_call_status"])
}

// tonesPcap writes the test prompt's three tones as a pcap of 20 ms PCMU
// RTP packets for sipp's play_pcap_audio, and returns the tones and the path.
func tonesPcap(t *testing.T) ([]int16, string) {
	t.Helper()
	ref := synth(promptTones)
	var payloads [][]byte
	for i := 0; i+160 <= len(ref); i += 160 {
		pay := make([]byte, 160)
		g711.EncodeUlaw(pay, ref[i:i+160])
		payloads = append(payloads, pay)
	}
	path := filepath.Join(t.TempDir(), "tones_pcmu.pcap")
	require.NoError(t, os.WriteFile(path, rtpPcap(0, payloads), 0o644))
	return ref, path
}

// heardCorrelation decodes captured PCMU packets and returns the best
// normalised cross-correlation of ref with them: near 1 when ref is in
// what was heard.
func heardCorrelation(t *testing.T, ref []int16, pkts []captured) float64 {
	t.Helper()
	got := make([]int16, 0, 160*len(pkts))
	for _, pk := range pkts {
		require.Equal(t, uint8(0), pk.hdr.PayloadType, "PCMU")
		s := make([]int16, len(pk.pay))
		g711.DecodeUlaw(s, pk.pay)
		got = append(got, s...)
	}
	require.GreaterOrEqual(t, len(got), len(ref), "the whole of the tones")
	best := -1.0
	for lag := 0; lag+len(ref) <= len(got); lag += 4 {
		best = max(best, normXCorr(ref, got, lag))
	}
	return best
}
