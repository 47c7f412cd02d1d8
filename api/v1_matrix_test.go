package api

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRouteMatrix walks every registered /v1 route with its parameters
// pointing at one tenant's records, and sends it with every kind of key:
// nothing answers 2xx to another tenant, no key or a revoked key is always
// 401, and no refusal carries the tenant's data.
func TestRouteMatrix(t *testing.T) {
	e := newEnv(t)
	seeded := e.seedAccount(0, 0)
	e.seedAccount(1, 0)
	victim := e.accounts[0][0]
	require.NoError(t, e.live.PutCall(context.Background(), victim.account, "call-of-the-owner",
		map[string]string{"call_sid": "call-of-the-owner", "call_status": "in-progress", "direction": "inbound"}))
	bySID := map[string]string{"Accounts": victim.account, "ServiceProviders": e.sp[0]}
	kinds := map[string]string{"Applications": "application", "PhoneNumbers": "phone number", "VoipCarriers": "voip carrier",
		"SipGateways": "sip gateway", "Lcrs": "lcr", "LcrRoutes": "lcr route", "LcrCarrierSetEntries": "lcr carrier set entry",
		"Clients": "client", "ApiKeys": "api key", "SpeechCredentials": "speech credential",
		"JsApps": "js app", "Versions": "js app version"}
	for coll, kind := range kinds {
		for _, o := range seeded {
			if o.kind == kind {
				bySID[coll] = o.sid
			}
		}
	}
	spSpeech := e.create("/v1/ServiceProviders/"+e.sp[0]+"/SpeechCredentials", e.spKey[0], map[string]any{"vendor": "google", "api_key": "sp-secret-key"})
	secrets := []string{victim.account, e.realm[0][0], "wh_secret_initial", "sp-secret-key", "js-secret-00", "hi00"}
	for _, o := range seeded {
		secrets = append(secrets, o.sid)
	}

	revokedSID := e.create("/v1/ApiKeys", victim.key, map[string]any{})
	revoked := e.do("POST", "/v1/ApiKeys", victim.key, map[string]any{}).obj(t)
	require.Equal(t, 204, e.do("DELETE", "/v1/ApiKeys/"+revoked["sid"].(string), victim.key, nil).code)
	_ = revokedSID

	type cell struct{ name, key string }
	foreign := []cell{{"sibling account", e.accounts[0][1].key}, {"other provider's account", e.accounts[1][0].key}, {"other provider", e.spKey[1]}}
	nobody := []cell{{"no key", ""}, {"revoked key", revoked["token"].(string)}}

	// fill puts the tenant's sids into a route's parameters.
	fill := func(route string) (string, bool) {
		segs := strings.Split(route, "/")
		hasParam := false
		for i, s := range segs {
			switch s {
			case ":sid", ":rsid", ":vsid":
				hasParam = true
				segs[i] = bySID[segs[i-1]]
				if s == ":rsid" && segs[i-1] == "SpeechCredentials" && segs[2] == "ServiceProviders" {
					segs[i] = spSpeech
				}
			case ":client":
				segs[i] = "alice"
			case ":callSid":
				segs[i] = "call-of-the-owner"
			case ":clip":
				segs[i] = "1"
			}
		}
		return strings.Join(segs, "/"), hasParam
	}

	var walked int
	for _, rt := range e.srv.App().GetRoutes(true) {
		if !strings.HasPrefix(rt.Path, "/v1/") || rt.Method == "HEAD" || rt.Path == openAPIRoute {
			continue
		}
		path, hasParam := fill(rt.Path)
		require.NotContains(t, path, ":", "a parameter without a value in %s", rt.Path)
		q := url.Values{"page": {"1"}, "count": {"25"}}
		path += "?" + q.Encode()
		var body any
		if rt.Method == "POST" || rt.Method == "PUT" {
			body = map[string]any{"name": "intruder", "category": "device", "quantity": 1, "vendor": "google",
				"account_sid": victim.account}
		}
		walked++
		t.Run(rt.Method+" "+rt.Path, func(t *testing.T) {
			for _, k := range nobody {
				r := e.do(rt.Method, path, k.key, body)
				require.Equal(t, 401, r.code, "%s: %s", k.name, r.raw)
				require.Equal(t, map[string]any{"msg": msgUnauthorized}, r.obj(t))
			}
			if !hasParam {
				return // a top-level collection acts on the caller's own scope
			}
			for _, k := range foreign {
				if k.name == "sibling account" && rt.Method == "GET" && rt.Path == "/v1/ServiceProviders/:rsid" {
					continue // an account reads its own provider, which it shares with its siblings
				}
				r := e.do(rt.Method, path, k.key, body)
				require.GreaterOrEqual(t, r.code, 400, "%s got %d: %s", k.name, r.code, r.raw)
				require.Less(t, r.code, 500, "%s: %s", k.name, r.raw)
				for _, s := range secrets {
					require.NotContains(t, r.raw, s, "%s: the answer carries the tenant's data", k.name)
				}
			}
		})
	}
	require.Greater(t, walked, 60, "the walk found the routes")

	// And the owner's and the admin's GETs all succeed, after the attempts.
	for _, rt := range e.srv.App().GetRoutes(true) {
		if !strings.HasPrefix(rt.Path, "/v1/") || rt.Method != "GET" || !strings.Contains(rt.Path, ":") || rt.Path == openAPIRoute {
			continue
		}
		if strings.Contains(rt.Path, "/Simulations") {
			continue // no simulator in this env (503); TestSimulationsOverREST has the owner's side
		}
		path, _ := fill(rt.Path)
		owner := victim.key
		if strings.HasPrefix(path, "/v1/ServiceProviders/") {
			owner = e.spKey[0]
		}
		for _, key := range []string{owner, e.admin} {
			r := e.do("GET", path, key, nil)
			require.Equal(t, 200, r.code, "GET %s: %s", path, r.raw)
		}
	}
}
