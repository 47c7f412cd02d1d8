package api

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// owned is one record created through the API, with the paths that reach it.
type owned struct {
	kind string
	sid  string
	item string // GET/PUT/DELETE path
	put  map[string]any
}

// seedAccount creates one of everything an account key can create, through
// the API, and returns them.
func (e *env) seedAccount(i, j int) []owned {
	e.t.Helper()
	a := e.accounts[i][j]
	tag := fmt.Sprintf("%d%d", i, j)
	hook := map[string]any{"url": "https://example.com/" + tag, "method": "POST", "username": "u" + tag, "password": "p" + tag}
	app := e.create("/v1/Applications", a.key, map[string]any{"name": "app" + tag, "call_hook": hook, "call_status_hook": hook,
		"speech_synthesis_vendor": "google", "speech_synthesis_language": "en-US",
		"speech_recognizer_vendor": "google", "speech_recognizer_language": "en-US"})
	carrier := e.create("/v1/VoipCarriers", a.key, map[string]any{"name": "carrier" + tag, "is_active": true})
	gw := e.create("/v1/SipGateways", a.key, map[string]any{"voip_carrier_sid": carrier, "ipv4": "192.0.2." + tag, "netmask": 32, "inbound": true, "is_active": true})
	num := e.create("/v1/PhoneNumbers", a.key, map[string]any{"number": "1555000" + tag, "voip_carrier_sid": carrier, "application_sid": app})
	lcr := e.create("/v1/Lcrs", a.key, map[string]any{"name": "lcr" + tag, "is_active": true})
	route := e.create("/v1/LcrRoutes", a.key, map[string]any{"lcr_sid": lcr, "regex": "^1", "priority": 1})
	entry := e.create("/v1/LcrCarrierSetEntries", a.key, map[string]any{"lcr_route_sid": route, "voip_carrier_sid": carrier, "workload": 1, "priority": 1})
	client := e.create("/v1/Clients", a.key, map[string]any{"username": "user" + tag, "password": "secret" + tag, "is_active": true})
	speech := e.create("/v1/Accounts/"+a.account+"/SpeechCredentials", a.key, map[string]any{"vendor": "google", "label": "l" + tag, "service_key": "{\"private_key\":\"k" + tag + "\"}"})
	acctPath := "/v1/Accounts/" + a.account
	jsApp := e.create(acctPath+"/JsApps", a.key, map[string]any{"name": "js" + tag, "env_vars": map[string]any{"GREETING": "hi" + tag},
		"secret_env_vars": map[string]any{"TOKEN": "js-secret-" + tag}})
	jsVersion := e.create(acctPath+"/JsApps/"+jsApp+"/Versions?activate=true", a.key, map[string]any{"source": "module.exports = {call: () => []} // " + tag})
	r := e.do("POST", "/v1/ApiKeys", a.key, map[string]any{})
	require.Equal(e.t, 201, r.code, r.raw)
	key := r.obj(e.t)["sid"].(string)
	return []owned{
		{"account", a.account, acctPath, map[string]any{"name": "renamed"}},
		{"application", app, "/v1/Applications/" + app, map[string]any{"name": "x"}},
		{"nested application", app, acctPath + "/Applications/" + app, map[string]any{"name": "x"}},
		{"voip carrier", carrier, "/v1/VoipCarriers/" + carrier, map[string]any{"name": "x"}},
		{"sip gateway", gw, "/v1/SipGateways/" + gw, map[string]any{"port": 5080}},
		{"phone number", num, "/v1/PhoneNumbers/" + num, map[string]any{"application_sid": nil}},
		{"lcr", lcr, "/v1/Lcrs/" + lcr, map[string]any{"name": "x"}},
		{"lcr route", route, "/v1/LcrRoutes/" + route, map[string]any{"priority": 2}},
		{"lcr carrier set entry", entry, "/v1/LcrCarrierSetEntries/" + entry, map[string]any{"workload": 2}},
		{"client", client, "/v1/Clients/" + client, map[string]any{"is_active": false}},
		{"speech credential", speech, acctPath + "/SpeechCredentials/" + speech, map[string]any{"label": "x"}},
		{"api key", key, "/v1/ApiKeys/" + key, nil},
		{"js app", jsApp, acctPath + "/JsApps/" + jsApp, map[string]any{"name": "x", "active_version_sid": nil}},
		{"js app version", jsVersion, acctPath + "/JsApps/" + jsApp + "/Versions/" + jsVersion, nil},
	}
}

// accountPaths are the read-only paths under an account.
func accountPaths(acct string) []string {
	p := "/v1/Accounts/" + acct
	return []string{p, p + "/Applications", p + "/VoipCarriers", p + "/ApiKeys", p + "/SpeechCredentials",
		p + "/WebhookSecret", p + "/Limits", p + "/RecentCalls?page=1&count=25", p + "/Alerts?page=1&count=25",
		p + "/RegisteredSipUsers", p + "/RegisteredSipUsers/alice", p + "/Queues", p + "/Conferences", p + "/CallCount", p + "/JsApps"}
}

// listPaths are every collection a key may list.
func listPaths() []string {
	return []string{"/v1/ServiceProviders", "/v1/Accounts", "/v1/Applications", "/v1/PhoneNumbers", "/v1/VoipCarriers",
		"/v1/SipGateways", "/v1/Lcrs", "/v1/LcrRoutes", "/v1/LcrCarrierSetEntries", "/v1/Clients"}
}

func TestTenantIsolation(t *testing.T) {
	e := newEnv(t)
	var seeded [2][2][]owned
	for i := range 2 {
		for j := range 2 {
			seeded[i][j] = e.seedAccount(i, j)
		}
	}
	victim := e.accounts[0][0]
	notFound := map[string]any{"msg": "not found"}

	// Keys that must not reach sp0/acct0's records.
	foreign := []struct {
		name, key string
		account   bool
	}{
		{"sibling account", e.accounts[0][1].key, true},
		{"other provider's account", e.accounts[1][0].key, true},
		{"other provider", e.spKey[1], false},
	}
	// Keys that must.
	own := []struct {
		name, key string
	}{
		{"own account", victim.key},
		{"own provider", e.spKey[0]},
		{"admin", e.admin},
	}

	t.Run("records", func(t *testing.T) {
		for _, rec := range seeded[0][0] {
			for _, k := range foreign {
				t.Run(rec.kind+"/"+k.name, func(t *testing.T) {
					if rec.put != nil || rec.kind != "api key" {
						r := e.do("GET", rec.item, k.key, nil)
						require.Equal(t, 404, r.code, "GET %s: %s", rec.item, r.raw)
						require.Equal(t, notFound, r.obj(t))
					}
					if rec.put != nil {
						r := e.do("PUT", rec.item, k.key, rec.put)
						require.Equal(t, 404, r.code, "PUT %s: %s", rec.item, r.raw)
					}
					r := e.do("DELETE", rec.item, k.key, nil)
					want := 404
					if rec.kind == "account" && k.account {
						want = 403 // an account key never deletes accounts, whichever
					}
					require.Equal(t, want, r.code, "DELETE %s: %s", rec.item, r.raw)
					require.NotContains(t, r.raw, rec.sid)
				})
			}
		}
		// Everything is still there, and its owners can read it.
		for _, rec := range seeded[0][0] {
			if rec.kind == "api key" {
				continue
			}
			for _, k := range own {
				r := e.do("GET", rec.item, k.key, nil)
				require.Equal(t, 200, r.code, "%s GET %s: %s", k.name, rec.item, r.raw)
			}
		}
	})

	t.Run("account paths", func(t *testing.T) {
		for _, p := range accountPaths(victim.account) {
			for _, k := range foreign {
				r := e.do("GET", p, k.key, nil)
				require.Equal(t, 404, r.code, "%s GET %s: %s", k.name, p, r.raw)
				require.Equal(t, notFound, r.obj(t))
			}
			for _, k := range own {
				r := e.do("GET", p, k.key, nil)
				require.Equal(t, 200, r.code, "%s GET %s: %s", k.name, p, r.raw)
			}
		}
		r := e.do("GET", "/v1/Accounts/"+victim.account+"/WebhookSecret?regenerate=true", e.accounts[1][0].key, nil)
		require.Equal(t, 404, r.code)
		r = e.do("GET", "/v1/Accounts/"+victim.account+"/WebhookSecret", victim.key, nil)
		require.Equal(t, "wh_secret_initial", r.obj(t)["webhook_secret"], "a foreign regenerate changed nothing")
		for _, p := range []string{"/Applications", "/VoipCarriers"} {
			r := e.do("POST", "/v1/Accounts/"+victim.account+p, e.accounts[1][0].key, map[string]any{"name": "intruder"})
			require.Equal(t, 404, r.code, r.raw)
		}
	})

	t.Run("provider paths", func(t *testing.T) {
		p := "/v1/ServiceProviders/" + e.sp[0]
		for _, sub := range []string{"/Accounts", "/VoipCarriers", "/Lcrs", "/ApiKeys", "/SpeechCredentials"} {
			r := e.do("GET", p+sub, e.spKey[1], nil)
			require.Equal(t, 404, r.code, "GET %s%s: %s", p, sub, r.raw)
			r = e.do("GET", p+sub, e.accounts[0][0].key, nil)
			require.Equal(t, 403, r.code, "an account key never acts as its provider")
			r = e.do("GET", p+sub, e.spKey[0], nil)
			require.Equal(t, 200, r.code, r.raw)
		}
		r := e.do("PUT", p, e.spKey[1], map[string]any{"name": "x"})
		require.Equal(t, 404, r.code)
		r = e.do("DELETE", p, e.spKey[1], nil)
		require.Equal(t, 403, r.code, "only the admin deletes a provider, whichever")
	})

	t.Run("lists", func(t *testing.T) {
		// For every key, the sids of records outside its scope never appear.
		type who struct {
			name, key string
			sees      func(i, j int) bool
		}
		keys := []who{{"admin", e.admin, func(int, int) bool { return true }}}
		for i := range 2 {
			keys = append(keys, who{fmt.Sprintf("sp%d", i), e.spKey[i], func(a, _ int) bool { return a == i }})
			for j := range 2 {
				keys = append(keys, who{fmt.Sprintf("acct%d%d", i, j), e.accounts[i][j].key, func(a, b int) bool { return a == i && b == j }})
			}
		}
		for _, k := range keys {
			var all strings.Builder
			for _, p := range listPaths() {
				r := e.do("GET", p, k.key, nil)
				require.Equal(t, 200, r.code, "%s GET %s: %s", k.name, p, r.raw)
				all.WriteString(r.raw)
			}
			for i := range 2 {
				for j := range 2 {
					for _, rec := range seeded[i][j] {
						if rec.kind == "api key" || rec.kind == "speech credential" || rec.kind == "nested application" ||
							strings.HasPrefix(rec.kind, "js app") {
							continue // not in the top-level lists
						}
						if k.sees(i, j) {
							require.Contains(t, all.String(), rec.sid, "%s lists its own %s", k.name, rec.kind)
						} else {
							require.NotContains(t, all.String(), rec.sid, "%s lists another tenant's %s", k.name, rec.kind)
						}
					}
				}
			}
		}
	})

	t.Run("foreign references in bodies", func(t *testing.T) {
		mine := e.accounts[1][0]
		theirs := seeded[0][0]
		sid := func(kind string) string {
			for _, o := range theirs {
				if o.kind == kind {
					return o.sid
				}
			}
			t.Fatalf("no %s", kind)
			return ""
		}
		cases := []struct {
			name, path string
			body       map[string]any
		}{
			{"gateway on a foreign carrier", "/v1/SipGateways", map[string]any{"voip_carrier_sid": sid("voip carrier"), "ipv4": "198.51.100.1", "netmask": 32}},
			{"number on a foreign application", "/v1/PhoneNumbers", map[string]any{"number": "15559999", "application_sid": sid("application")}},
			{"route in a foreign lcr", "/v1/LcrRoutes", map[string]any{"lcr_sid": sid("lcr"), "regex": "^1", "priority": 1}},
			{"application on a foreign js app", "/v1/Applications", map[string]any{"name": "js", "js_app_sid": sid("js app")}},
			{"application falling back on a foreign js app", "/v1/Applications", map[string]any{"name": "js", "fallback_js_app_sid": sid("js app")}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := e.do("POST", tc.path, mine.key, tc.body)
				require.Equal(t, 422, r.code, r.raw)
				require.Equal(t, map[string]any{"msg": "a referenced record does not exist"}, r.obj(t))
			})
		}
		// A foreign account_sid in a body is ignored: the key's account owns the row.
		app := e.create("/v1/Applications", mine.key, map[string]any{"name": "mine", "account_sid": victim.account,
			"speech_synthesis_vendor": "google", "speech_synthesis_language": "en-US",
			"speech_recognizer_vendor": "google", "speech_recognizer_language": "en-US"})
		r := e.do("GET", "/v1/Applications/"+app, mine.key, nil)
		require.Equal(t, mine.account, r.obj(t)["account_sid"])
		require.Equal(t, 404, e.do("GET", "/v1/Applications/"+app, victim.key, nil).code)
		// Pointing one's own number at a foreign application is refused too.
		num := seeded[1][0][5]
		require.Equal(t, "phone number", num.kind)
		r = e.do("PUT", num.item, mine.key, map[string]any{"application_sid": sid("application")})
		require.Equal(t, 422, r.code, r.raw)
		// Nor may one's own JS app run another tenant's version.
		myJS := seeded[1][0][len(seeded[1][0])-2]
		require.Equal(t, "js app", myJS.kind)
		r = e.do("PUT", myJS.item, mine.key, map[string]any{"active_version_sid": sid("js app version")})
		require.Equal(t, 422, r.code, r.raw)
		require.NotContains(t, r.raw, sid("js app version"))
		// A provider key cannot point its account's application at another provider's JS app.
		r = e.do("PUT", seeded[1][0][1].item, e.spKey[1], map[string]any{"js_app_sid": sid("js app")})
		require.Equal(t, 422, r.code, r.raw)
		// A provider key naming another provider's account.
		r = e.do("POST", "/v1/Applications", e.spKey[1], map[string]any{"name": "x", "account_sid": victim.account})
		require.Equal(t, 422, r.code, r.raw)
	})
}
