package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/store"
	sqlstore "github.com/voxrun/voxrun/store/sql"
	"github.com/voxrun/voxrun/store/storetest"
)

// injectionPayloads are SQL (and LIKE, and NUL) payloads that a filter value
// or a path parameter must treat as plain text.
var injectionPayloads = []string{
	"' OR '1'='1", "' OR 1=1 --", "1' OR '1'='1' /*", "\" OR \"\"=\"", ") OR (1=1", "1 OR 1=1",
	"'; DELETE FROM cdrs; --", "1; DROP TABLE applications; --",
	"x' UNION SELECT token_hash FROM api_keys --", "x' UNION SELECT account_sid, NULL, NULL FROM accounts --",
	"%", "_", "%' OR account_sid LIKE '%", "'||'", "\\", "\\' OR 1=1 #", "x\x00' OR '1'='1",
}

// records is what seedRecords put in one account, and the markers by which
// its data is recognised in an answer.
type records struct {
	tenant
	tag      string
	owned    []owned
	from, to string // of its CDRs and live calls
	alert    string // its own alert type, besides webhook-failure
	limit    string // its limit's category
	queue    string
	jsCall   string // the call_sid of its JS app invocation
	markers  []string
}

func (r records) sid(kind string) string {
	for _, o := range r.owned {
		if o.kind == kind {
			return o.sid
		}
	}
	panic("no " + kind)
}

// seedRecords gives account (i, j) one of everything a filter can select:
// provisioning records, CDRs, alerts, a limit, a queue, live calls, a
// registered device and JS app invocations, all marked with its tag.
func (e *env) seedRecords(i, j int) records {
	e.t.Helper()
	ctx := context.Background()
	a := e.accounts[i][j]
	tag := fmt.Sprintf("%d%d", i, j)
	marker := "tenant-" + tag + "-marker"
	r := records{tenant: a, tag: tag, owned: e.seedAccount(i, j),
		from: "+1555" + tag + "0001", to: "+1666" + tag + "0002", queue: "support-" + tag, jsCall: "jscall-" + tag,
		alert: map[string]string{"00": "no-tts", "01": "tts-failure"}[tag], limit: "device"}
	if r.alert == "" {
		r.alert = "play-url-notfound"
	}
	if tag == "00" {
		r.limit = "voice_call_session"
	}
	now := e.clock.now()
	var cdrs []store.CDR
	var alerts []store.Alert
	for n := range 4 {
		at := now.Add(-time.Duration(n+1) * time.Hour)
		c := store.CDR{CallSID: fmt.Sprintf("cdr-%s-%d", tag, n), AccountSID: a.account, Direction: "inbound", From: r.from, To: r.to,
			CallID: fmt.Sprintf("%s-%d@example.com", marker, n), SIPStatus: 200, Duration: n, AttemptedAt: at,
			TerminatedAt: at.Add(time.Minute), Answered: n%2 == 0, Trunk: marker}
		if n%2 == 1 {
			c.Direction = "outbound"
		}
		if c.Answered {
			ans := at.Add(time.Second)
			c.AnsweredAt = &ans
		}
		cdrs = append(cdrs, c)
		typ := "webhook-failure"
		if n%2 == 1 {
			typ = r.alert
		}
		alerts = append(alerts, store.Alert{AccountSID: a.account, AlertType: typ, Message: marker + " alert", Detail: marker, CreatedAt: at})
	}
	require.NoError(e.t, e.prov.WriteCDRs(ctx, cdrs))
	require.NoError(e.t, e.prov.WriteAlerts(ctx, alerts))
	e.create("/v1/Accounts/"+a.account+"/Limits", e.spKey[i], map[string]any{"category": r.limit, "quantity": 5})
	_, err := e.live.Enqueue(ctx, a.account, r.queue, store.QueueEntry{CallSID: "queued-" + tag, EnqueuedAt: now})
	require.NoError(e.t, err)
	for n, dir := range []string{"inbound", "outbound"} {
		sid := fmt.Sprintf("live-%s-%d", tag, n)
		require.NoError(e.t, e.live.PutCall(ctx, a.account, sid, map[string]string{"call_sid": sid, "account_sid": a.account,
			"direction": dir, "from": r.from, "to": r.to, "call_status": "in-progress", "caller_name": marker}))
	}
	require.NoError(e.t, e.live.Register(ctx, store.Registration{Name: "alice", Domain: e.realm[i][j],
		Contact: "sip:alice@" + marker + ".example.com", Transport: "udp", ExpiresAt: now.Add(time.Hour)}, time.Hour))
	require.NoError(e.t, e.prov.WriteJSAppInvocations(ctx, []store.JSAppInvocation{{JSAppSID: r.sid("js app"), AccountSID: a.account,
		CallSID: r.jsCall, Hook: "call", Outcome: store.JSAppOK, Logs: []store.JSAppLogLine{{Time: now, Level: "info", Message: marker}}}}))

	r.markers = []string{marker, r.from, r.to, r.queue, r.jsCall, a.account, e.realm[i][j]}
	for _, o := range r.owned {
		r.markers = append(r.markers, o.sid)
	}
	return r
}

// rows counts the records of an answer: an array's length, or a page's total
// (with its batch checked against its data).
func rows(t *testing.T, r resp) int {
	t.Helper()
	var page struct {
		Total *int              `json:"total"`
		Batch int               `json:"batch"`
		Data  []json.RawMessage `json:"data"`
	}
	if strings.HasPrefix(r.raw, "{") {
		require.NoError(t, json.Unmarshal([]byte(r.raw), &page), r.raw)
		require.NotNil(t, page.Total, r.raw)
		require.Len(t, page.Data, page.Batch)
		return *page.Total
	}
	var arr []json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(r.raw), &arr), r.raw)
	return len(arr)
}

// TestFilterInjection sends SQL-looking values to every filter parameter of
// every route, with the data of two other tenants in the same database and
// live store (a sibling account of the same provider, an account of another
// provider): never a 500, never a row of another tenant, never more rows than
// the filter selects. Each filter is shown to work (the caller's own value
// selects its rows) so that "0 rows" proves something, and the other tenant's
// real values select nothing.
func TestFilterInjection(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { filterInjection(t, newEnv(t)) })
	t.Run("mariadb", func(t *testing.T) {
		filterInjection(t, newEnvOn(t, sqlstore.DriverMySQL, storetest.MySQLDatabase(t)))
	})
}

func filterInjection(t *testing.T, e *env) {
	me := e.seedRecords(0, 0)
	sibling := e.seedRecords(0, 1)
	stranger := e.seedRecords(1, 0)
	foreignMarkers := append(append([]string{}, sibling.markers...), stranger.markers...)
	acct := "/v1/Accounts/" + me.account
	sp := "/v1/ServiceProviders/" + e.sp[0]
	jsLogs := acct + "/JsApps/" + me.sid("js app") + "/Logs"
	past, future := e.clock.now().Add(-48*time.Hour).Format(time.RFC3339), e.clock.now().Add(time.Hour).Format(time.RFC3339)

	type filter struct {
		path, param string
		// key is the caller (the account's key unless set).
		key string
		// own selects ownRows of the caller's records; foreign is another
		// tenant's real value, which must select nothing.
		own     string
		ownRows int
		foreign string
		// validated parameters refuse what they cannot parse with 400.
		validated bool
		// hidden are the markers that must not appear (the other tenants'
		// unless set: a provider sees its accounts).
		hidden []string
	}
	filters := []filter{
		{path: acct + "/RecentCalls", param: "from", own: me.from, ownRows: 4, foreign: stranger.from},
		{path: acct + "/RecentCalls", param: "to", own: me.to, ownRows: 4, foreign: sibling.to},
		{path: acct + "/RecentCalls", param: "direction", own: "outbound", ownRows: 2, validated: true},
		{path: acct + "/RecentCalls", param: "answered", own: "true", ownRows: 2, validated: true},
		{path: acct + "/RecentCalls", param: "days", own: "1", ownRows: 4, validated: true},
		{path: acct + "/RecentCalls", param: "start", own: past, ownRows: 4, validated: true},
		{path: acct + "/RecentCalls", param: "end", own: future, ownRows: 4, validated: true},
		{path: acct + "/RecentCalls", param: "page", own: "1", ownRows: 4, validated: true},
		{path: acct + "/RecentCalls", param: "count", own: "2", ownRows: 4, validated: true},
		{path: acct + "/Alerts", param: "alert_type", own: me.alert, ownRows: 2, foreign: stranger.alert},
		{path: acct + "/Alerts", param: "days", own: "1", ownRows: 4, validated: true},
		{path: acct + "/Alerts", param: "start", own: past, ownRows: 4, validated: true},
		{path: acct + "/Alerts", param: "end", own: future, ownRows: 4, validated: true},
		{path: acct + "/Alerts", param: "page", own: "1", ownRows: 4, validated: true},
		{path: acct + "/Alerts", param: "count", own: "3", ownRows: 4, validated: true},
		{path: sp + "/RecentCalls", param: "from", key: e.spKey[0], own: sibling.from, ownRows: 4, foreign: stranger.from, hidden: stranger.markers},
		{path: sp + "/RecentCalls", param: "direction", key: e.spKey[0], own: "inbound", ownRows: 4, validated: true, hidden: stranger.markers},
		{path: sp + "/RecentCalls", param: "answered", key: e.spKey[0], own: "false", ownRows: 4, validated: true, hidden: stranger.markers},
		{path: sp + "/RecentCalls", param: "page", key: e.spKey[0], own: "1", ownRows: 8, validated: true, hidden: stranger.markers},
		{path: sp + "/Alerts", param: "alert_type", key: e.spKey[0], own: "webhook-failure", ownRows: 4, foreign: stranger.alert, hidden: stranger.markers},
		{path: sp + "/Alerts", param: "count", key: e.spKey[0], own: "500", ownRows: 8, validated: true, hidden: stranger.markers},
		{path: acct + "/Calls", param: "direction", own: "inbound", ownRows: 1},
		{path: acct + "/Calls", param: "from", own: me.from, ownRows: 2, foreign: stranger.from},
		{path: acct + "/Calls", param: "to", own: me.to, ownRows: 2, foreign: sibling.to},
		{path: acct + "/Calls", param: "callStatus", own: "in-progress", ownRows: 2},
		{path: acct + "/Queues", param: "search", own: me.queue, ownRows: 1, foreign: stranger.queue},
		{path: acct + "/Queues", param: "name", own: "support", ownRows: 1, foreign: sibling.queue},
		{path: acct + "/Limits", param: "category", own: me.limit, ownRows: 1, foreign: stranger.limit},
		{path: "/v1/SipGateways", param: "voip_carrier_sid", own: me.sid("voip carrier"), ownRows: 1, foreign: stranger.sid("voip carrier")},
		{path: "/v1/LcrRoutes", param: "lcr_sid", own: me.sid("lcr"), ownRows: 1, foreign: sibling.sid("lcr")},
		{path: "/v1/LcrCarrierSetEntries", param: "lcr_route_sid", own: me.sid("lcr route"), ownRows: 1, foreign: stranger.sid("lcr route")},
		{path: "/v1/SipGateways", param: "voip_carrier_sid", key: e.spKey[0], own: sibling.sid("voip carrier"), ownRows: 1,
			foreign: stranger.sid("voip carrier"), hidden: stranger.markers},
		{path: jsLogs, param: "call_sid", own: me.jsCall, ownRows: 1, foreign: stranger.jsCall},
		{path: jsLogs, param: "count", own: "1", ownRows: 1, validated: true},
	}
	var sent int
	for _, f := range filters {
		key := f.key
		if key == "" {
			key = me.key
		}
		hidden := f.hidden
		if hidden == nil {
			hidden = foreignMarkers
		}
		get := func(t *testing.T, val string) resp {
			t.Helper()
			r := e.do("GET", f.path+"?"+url.Values{f.param: {val}}.Encode(), key, nil)
			sent++
			require.Less(t, r.code, 500, r.raw)
			for _, m := range hidden {
				require.NotContains(t, r.raw, m, "another tenant's data")
			}
			return r
		}
		t.Run(strings.TrimPrefix(f.path, "/v1/")+"?"+f.param, func(t *testing.T) {
			r := get(t, f.own)
			require.Equal(t, 200, r.code, r.raw)
			require.Equal(t, f.ownRows, rows(t, r), "the filter selects the caller's own records: %s", r.raw)
			if f.foreign != "" {
				r := get(t, f.foreign)
				require.Equal(t, 200, r.code, r.raw)
				require.Zero(t, rows(t, r), "another tenant's value selects nothing: %s", r.raw)
			}
			for _, pl := range injectionPayloads {
				r := get(t, pl)
				if f.validated {
					require.Equal(t, 400, r.code, "%q: %s", pl, r.raw)
					require.NotEmpty(t, r.obj(t)["msg"])
					continue
				}
				require.Equal(t, 200, r.code, "%q: %s", pl, r.raw)
				require.Zero(t, rows(t, r), "%q selects rows: %s", pl, r.raw)
			}
		})
	}

	t.Run("DELETE Limits?category", func(t *testing.T) {
		for _, pl := range injectionPayloads {
			r := e.do("DELETE", acct+"/Limits?"+url.Values{"category": {pl}}.Encode(), e.spKey[0], nil)
			require.Equal(t, 204, r.code, "%q: %s", pl, r.raw)
		}
		for _, who := range []records{me, sibling, stranger} {
			r := e.do("GET", "/v1/Accounts/"+who.account+"/Limits", e.admin, nil)
			require.Len(t, r.arr(t), 1, "%s's limit is still there", who.tag)
		}
	})

	t.Run("RegisteredSipUsers names", func(t *testing.T) {
		// alice is registered in every account's realm; only the caller's binding may show.
		r := e.do("POST", acct+"/RegisteredSipUsers", me.key, append([]string{"alice"}, injectionPayloads...))
		require.Equal(t, 200, r.code, r.raw)
		got := r.arr(t)
		require.Len(t, got, 1+len(injectionPayloads))
		require.Equal(t, "active", got[0]["registered_status"])
		require.Contains(t, got[0]["contact"], "tenant-00-marker")
		for i, pl := range injectionPayloads {
			require.Equal(t, pl, got[i+1]["name"])
			require.Equal(t, "inactive", got[i+1]["registered_status"], "%q", pl)
		}
		for _, m := range foreignMarkers {
			require.NotContains(t, r.raw, m)
		}
		for _, pl := range injectionPayloads {
			r := e.do("GET", acct+"/RegisteredSipUsers/"+url.PathEscape(pl), me.key, nil)
			require.Contains(t, []int{200, 404}, r.code, "%q: %s", pl, r.raw) // a name with '/' is another route
			if r.code == 200 {
				require.Equal(t, "inactive", r.obj(t)["registered_status"], "%q", pl)
			}
		}
	})

	t.Run("values stored as text", func(t *testing.T) {
		// Payloads written into records come back byte for byte, and change
		// nobody's data.
		for _, pl := range injectionPayloads {
			if strings.ContainsRune(pl, 0) {
				continue // NUL is refused by some columns' drivers; covered as a filter above
			}
			sid := e.create("/v1/Applications", me.key, map[string]any{"name": pl, "call_hook": map[string]any{"url": "https://example.com/" + url.PathEscape(pl)}})
			require.Equal(t, pl, e.do("GET", "/v1/Applications/"+sid, me.key, nil).obj(t)["name"])
			v := e.create(acct+"/JsApps/"+me.sid("js app")+"/Versions?"+url.Values{"label": {pl}}.Encode(), me.key,
				map[string]any{"source": "module.exports = {call: () => []}"})
			require.Equal(t, pl, e.do("GET", acct+"/JsApps/"+me.sid("js app")+"/Versions/"+v, me.key, nil).obj(t)["label"])
			r := e.do("GET", acct+"/JsApps/"+me.sid("js app")+"/Versions?activate="+url.QueryEscape(pl), me.key, nil)
			require.Equal(t, 200, r.code, r.raw)
		}
		for _, who := range []records{sibling, stranger} {
			r := e.do("GET", "/v1/Applications", who.key, nil)
			require.Len(t, r.arr(t), 1, "%s's applications are untouched", who.tag)
			r = e.do("GET", "/v1/Accounts/"+who.account+"/RecentCalls", who.key, nil)
			require.Equal(t, 4, rows(t, r))
		}
	})

	t.Run("path parameters", func(t *testing.T) {
		// Every GET route with a parameter, each parameter in turn replaced
		// by a payload: 404, never a 500 or another tenant's data.
		values := map[string]string{":sid": me.account, ":client": "alice", ":callSid": "live-00-0", ":clip": "1"}
		item := map[string]string{"Applications": me.sid("application"), "PhoneNumbers": me.sid("phone number"),
			"VoipCarriers": me.sid("voip carrier"), "SipGateways": me.sid("sip gateway"), "Lcrs": me.sid("lcr"),
			"LcrRoutes": me.sid("lcr route"), "LcrCarrierSetEntries": me.sid("lcr carrier set entry"), "Clients": me.sid("client"),
			"SpeechCredentials": me.sid("speech credential"), "JsApps": me.sid("js app"), "Versions": me.sid("js app version"),
			"ApiKeys": me.sid("api key"), "Accounts": me.account, "ServiceProviders": e.sp[0]}
		for _, rt := range e.srv.App().GetRoutes(true) {
			if rt.Method != "GET" || !strings.HasPrefix(rt.Path, "/v1/") || !strings.Contains(rt.Path, ":") {
				continue
			}
			if strings.HasSuffix(rt.Path, "/Events") {
				continue // a websocket authenticated by its first message: 426 to any plain GET
			}
			segs := strings.Split(rt.Path, "/")
			for i, s := range segs {
				if !strings.HasPrefix(s, ":") {
					continue
				}
				for _, pl := range injectionPayloads {
					p := make([]string, len(segs))
					for k, s := range segs {
						switch {
						case k == i:
							p[k] = url.PathEscape(pl)
						case s == ":rsid" || s == ":vsid" || (s == ":sid" && segs[k-1] != "Accounts"):
							p[k] = item[segs[k-1]]
						case strings.HasPrefix(s, ":"):
							p[k] = values[s]
						default:
							p[k] = s
						}
					}
					path := strings.Join(p, "/")
					key := me.key
					if strings.HasPrefix(rt.Path, "/v1/ServiceProviders/") {
						key = e.spKey[0]
					}
					r := e.do("GET", path, key, nil)
					sent++
					switch {
					case segs[i] == ":client" && r.code == 200:
						require.Equal(t, "inactive", r.obj(t)["registered_status"], path)
					case strings.Contains(rt.Path, "/Simulations/") && segs[i] != ":sid" && r.code == 503:
						// no simulator in this env; the account resolved first
					default:
						require.Equal(t, 404, r.code, "GET %s (%q in %s): %s", path, pl, segs[i], r.raw)
					}
					for _, m := range foreignMarkers {
						require.NotContains(t, r.raw, m, path)
					}
				}
			}
		}
	})
	require.Greater(t, sent, 1000)
}
