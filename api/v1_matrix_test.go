package api

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/runtime"
	"github.com/voxrun/voxrun/store"
)

// matrixCalls stands in for the node's running calls and its outbound
// dialer, so that the owner's cells of the live-call routes reach their
// success answers (201, 202); the real ones have their own end-to-end tests.
type matrixCalls struct{ placed atomic.Int32 }

func (m *matrixCalls) Control(string, runtime.Command) bool { return true }

func (m *matrixCalls) CreateCall(context.Context, store.Account, NewCall) (string, string, error) {
	n := m.placed.Add(1)
	return fmt.Sprintf("placed-%d", n), fmt.Sprintf("placed-%d@voxrun", n), nil
}

// mutation is what the owner's and the admin's cells of a POST, PUT or
// DELETE route send and expect.
type mutation struct {
	// body of the request (nil for DELETE).
	body func() any
	// own and admin are the exact statuses of the route's owner (the
	// account's key, or the provider's for a provider's path) and of the
	// platform admin.
	own, admin int
}

// foreignStatus is the exact answer to a key that does not own the route's
// target: 404 ("not yours" and "does not exist" alike), or 403 where the
// API refuses the key's kind whatever the target (an account key on a
// provider's paths, on its own limits, on deleting accounts; a provider key
// on deleting providers). Either way the answer is the same for a target
// that does not exist, which the matrix checks too.
func foreignStatus(method, route string, accountKey bool) int {
	switch {
	case accountKey && strings.HasPrefix(route, "/v1/ServiceProviders/:sid/"):
		return 403
	case accountKey && route == "/v1/ServiceProviders/:rsid" && method != "GET":
		return 403
	case route == "/v1/ServiceProviders/:rsid" && method == "DELETE":
		return 403
	case accountKey && route == "/v1/Accounts/:rsid" && method == "DELETE":
		return 403
	case accountKey && route == "/v1/Accounts/:sid/Limits" && method != "GET":
		return 403
	}
	return 404
}

// TestRouteMatrix walks every registered /v1 route with its parameters
// pointing at one tenant's records, and sends it with every kind of key:
// no key or a revoked key is always 401; another account's or provider's
// key gets exactly foreignStatus, the same answer as for a target that does
// not exist, and none of the tenant's data; the owner and the admin get
// exactly the route's success (or its deliberate refusal), each acting on
// records made for the cell.
func TestRouteMatrix(t *testing.T) {
	calls := &matrixCalls{}
	e := newEnv(t, func(c *Config) { c.Calls, c.Creator = calls, calls })
	ctx := context.Background()
	seeded := e.seedAccount(0, 0)
	e.seedAccount(1, 0)
	victim := e.accounts[0][0]
	require.NoError(t, e.live.PutCall(ctx, victim.account, "call-of-the-owner",
		map[string]string{"call_sid": "call-of-the-owner", "call_status": "in-progress", "direction": "inbound"}))
	bySID := map[string]string{"Accounts": victim.account, "ServiceProviders": e.sp[0]}
	kinds := map[string]string{"Applications": "application", "PhoneNumbers": "phone number", "VoipCarriers": "voip carrier",
		"SipGateways": "sip gateway", "Lcrs": "lcr", "LcrRoutes": "lcr route", "LcrCarrierSetEntries": "lcr carrier set entry",
		"Clients": "client", "ApiKeys": "api key", "SpeechCredentials": "speech credential",
		"JsApps": "js app", "Versions": "js app version"}
	puts := map[string]map[string]any{}
	for coll, kind := range kinds {
		for _, o := range seeded {
			if o.kind == kind {
				bySID[coll] = o.sid
				puts[coll] = o.put
			}
		}
	}
	spSpeech := e.create("/v1/ServiceProviders/"+e.sp[0]+"/SpeechCredentials", e.spKey[0], map[string]any{"vendor": "google", "api_key": "sp-secret-key"})
	secrets := []string{victim.account, e.realm[0][0], "wh_secret_initial", "sp-secret-key", "js-secret-00", "hi00"}
	for _, o := range seeded {
		secrets = append(secrets, o.sid)
	}

	revoked := e.do("POST", "/v1/ApiKeys", victim.key, map[string]any{}).obj(t)
	require.Equal(t, 204, e.do("DELETE", "/v1/ApiKeys/"+revoked["sid"].(string), victim.key, nil).code)

	type cell struct {
		name, key string
		account   bool
	}
	foreign := []cell{{"sibling account", e.accounts[0][1].key, true}, {"other provider's account", e.accounts[1][0].key, true},
		{"other provider", e.spKey[1], false}}
	nobody := []cell{{"no key", "", false}, {"revoked key", revoked["token"].(string), false}}

	// fresh makes a new record of the collection a route's last parameter
	// names, owned by the victim, for a cell that deletes it.
	var n atomic.Int32
	uniq := func(p string) string { return fmt.Sprintf("%s-%d", p, n.Add(1)) }
	fresh := func(route string) string {
		acct := "/v1/Accounts/" + victim.account
		segs := strings.Split(route, "/")
		switch coll := segs[len(segs)-2]; coll {
		case "Applications":
			return e.create("/v1/Applications", victim.key, map[string]any{"name": uniq("app")})
		case "PhoneNumbers":
			return e.create("/v1/PhoneNumbers", victim.key, map[string]any{"number": fmt.Sprintf("1555777%04d", n.Add(1))})
		case "VoipCarriers":
			return e.create("/v1/VoipCarriers", victim.key, map[string]any{"name": uniq("carrier")})
		case "SipGateways":
			return e.create("/v1/SipGateways", victim.key, map[string]any{"voip_carrier_sid": bySID["VoipCarriers"], "ipv4": "198.51.100." + fmt.Sprint(n.Add(1)%250)})
		case "Lcrs":
			return e.create("/v1/Lcrs", victim.key, map[string]any{"name": uniq("lcr")})
		case "LcrRoutes":
			return e.create("/v1/LcrRoutes", victim.key, map[string]any{"lcr_sid": bySID["Lcrs"], "regex": "^9", "priority": n.Add(1)})
		case "LcrCarrierSetEntries":
			return e.create("/v1/LcrCarrierSetEntries", victim.key, map[string]any{"lcr_route_sid": bySID["LcrRoutes"], "voip_carrier_sid": bySID["VoipCarriers"]})
		case "Clients":
			return e.create("/v1/Clients", victim.key, map[string]any{"username": uniq("user"), "password": "pw"})
		case "ApiKeys":
			return e.create("/v1/ApiKeys", victim.key, map[string]any{})
		case "SpeechCredentials":
			if segs[2] == "ServiceProviders" {
				return e.create("/v1/ServiceProviders/"+e.sp[0]+"/SpeechCredentials", e.spKey[0], map[string]any{"vendor": "google", "label": uniq("l"), "api_key": "k"})
			}
			return e.create(acct+"/SpeechCredentials", victim.key, map[string]any{"vendor": "google", "label": uniq("l"), "api_key": "k"})
		case "JsApps":
			return e.create(acct+"/JsApps", victim.key, map[string]any{"name": uniq("js")})
		case "Versions":
			return e.create(acct+"/JsApps/"+bySID["JsApps"]+"/Versions", victim.key, map[string]any{"source": "module.exports = {call: () => []}"})
		case "Calls":
			sid := uniq("live")
			require.NoError(t, e.live.PutCall(ctx, victim.account, sid, map[string]string{"call_sid": sid, "call_status": "in-progress"}))
			return sid
		case "Accounts":
			return e.create("/v1/Accounts", e.spKey[0], map[string]any{"name": uniq("acct")})
		case "ServiceProviders":
			return e.create("/v1/ServiceProviders", e.admin, map[string]any{"name": uniq("sp")})
		}
		t.Fatalf("no fresh record for %s", route)
		return ""
	}

	obj := func(m map[string]any) func() any { return func() any { return m } }
	named := func(p string) func() any { return func() any { return map[string]any{"name": uniq(p)} } }
	speech := func() any { return map[string]any{"vendor": "google", "label": uniq("l"), "api_key": "k"} }
	put := func(coll string) func() any { return obj(puts[coll]) }
	mutations := map[string]mutation{
		"POST /v1/Accounts/:sid/Applications":                   {named("app"), 201, 201},
		"POST /v1/Accounts/:sid/VoipCarriers":                   {named("carrier"), 201, 201},
		"POST /v1/Accounts/:sid/SpeechCredentials":              {speech, 201, 201},
		"POST /v1/Accounts/:sid/Limits":                         {obj(map[string]any{"category": "device", "quantity": 3}), 403, 201},
		"POST /v1/Accounts/:sid/RegisteredSipUsers":             {func() any { return []string{"alice"} }, 200, 200},
		"POST /v1/Accounts/:sid/Calls":                          {obj(map[string]any{"from": "15550001111", "to": map[string]any{"type": "phone", "number": "15550002222"}, "app_json": []any{map[string]any{"verb": "hangup"}}}), 201, 201},
		"POST /v1/ServiceProviders/:sid/VoipCarriers":           {named("carrier"), 201, 201},
		"POST /v1/ServiceProviders/:sid/Lcrs":                   {named("lcr"), 201, 201},
		"POST /v1/ServiceProviders/:sid/SpeechCredentials":      {speech, 201, 201},
		"POST /v1/Accounts/:sid/Simulations":                    {obj(map[string]any{"application_sid": bySID["Applications"]}), 503, 503}, // no simulator in this env
		"POST /v1/Accounts/:sid/Simulations/:callSid/Dtmf":      {obj(map[string]any{"digits": "1"}), 503, 503},
		"POST /v1/Accounts/:sid/Simulations/:callSid/Speech":    {obj(map[string]any{"text": "hi"}), 503, 503},
		"POST /v1/Accounts/:sid/Simulations/:callSid/Hangup":    {obj(map[string]any{}), 503, 503},
		"POST /v1/Accounts/:sid/JsApps":                         {named("js"), 201, 201},
		"POST /v1/Accounts/:sid/JsApps/:rsid/Versions":          {obj(map[string]any{"source": "module.exports = {call: () => []}"}), 201, 201},
		"PUT /v1/ServiceProviders/:rsid":                        {obj(map[string]any{"description": "updated"}), 204, 204},
		"PUT /v1/Accounts/:rsid":                                {obj(map[string]any{"name": "renamed"}), 204, 204},
		"PUT /v1/Applications/:rsid":                            {put("Applications"), 204, 204},
		"PUT /v1/PhoneNumbers/:rsid":                            {put("PhoneNumbers"), 204, 204},
		"PUT /v1/VoipCarriers/:rsid":                            {put("VoipCarriers"), 204, 204},
		"PUT /v1/SipGateways/:rsid":                             {put("SipGateways"), 204, 204},
		"PUT /v1/Lcrs/:rsid":                                    {put("Lcrs"), 204, 204},
		"PUT /v1/LcrRoutes/:rsid":                               {put("LcrRoutes"), 204, 204},
		"PUT /v1/LcrCarrierSetEntries/:rsid":                    {put("LcrCarrierSetEntries"), 204, 204},
		"PUT /v1/Clients/:rsid":                                 {put("Clients"), 204, 204},
		"PUT /v1/Accounts/:sid/Applications/:rsid":              {put("Applications"), 204, 204},
		"PUT /v1/Accounts/:sid/SpeechCredentials/:rsid":         {put("SpeechCredentials"), 204, 204},
		"PUT /v1/Accounts/:sid/Calls/:callSid":                  {obj(map[string]any{"tag": map[string]any{"k": "v"}}), 202, 202},
		"PUT /v1/ServiceProviders/:sid/SpeechCredentials/:rsid": {obj(map[string]any{"label": "x"}), 204, 204},
		"PUT /v1/Accounts/:sid/JsApps/:rsid":                    {named("js"), 204, 204},
		"DELETE /v1/ServiceProviders/:rsid":                     {nil, 403, 204},
		"DELETE /v1/Accounts/:rsid":                             {nil, 403, 204},
		"DELETE /v1/Accounts/:sid/Limits":                       {nil, 403, 204},
	}
	// Top-level creates act in the key's own scope; the admin names the owner.
	for route, m := range map[string]mutation{
		"/v1/ServiceProviders": {named("sp"), 403, 201},
		"/v1/Accounts":         {func() any { return map[string]any{"name": uniq("acct"), "service_provider_sid": e.sp[0]} }, 403, 201},
		"/v1/Applications":     {func() any { return map[string]any{"name": uniq("app"), "account_sid": victim.account} }, 201, 201},
		"/v1/PhoneNumbers": {func() any {
			return map[string]any{"number": fmt.Sprintf("1555888%04d", n.Add(1)), "account_sid": victim.account}
		}, 201, 201},
		"/v1/VoipCarriers": {func() any { return map[string]any{"name": uniq("carrier"), "account_sid": victim.account} }, 201, 201},
		"/v1/SipGateways": {func() any {
			return map[string]any{"voip_carrier_sid": bySID["VoipCarriers"], "ipv4": fmt.Sprintf("203.0.113.%d", n.Add(1)%250)}
		}, 201, 201},
		"/v1/Lcrs":      {func() any { return map[string]any{"name": uniq("lcr"), "account_sid": victim.account} }, 201, 201},
		"/v1/LcrRoutes": {func() any { return map[string]any{"lcr_sid": bySID["Lcrs"], "regex": "^8", "priority": n.Add(1)} }, 201, 201},
		"/v1/LcrCarrierSetEntries": {func() any {
			return map[string]any{"lcr_route_sid": bySID["LcrRoutes"], "voip_carrier_sid": bySID["VoipCarriers"]}
		}, 201, 201},
		"/v1/Clients": {func() any {
			return map[string]any{"username": uniq("user"), "password": "pw", "account_sid": victim.account}
		}, 201, 201},
		"/v1/ApiKeys": {func() any { return map[string]any{"account_sid": victim.account} }, 201, 201},
	} {
		mutations["POST "+route] = m
	}
	for _, coll := range []string{"Applications", "PhoneNumbers", "VoipCarriers", "SipGateways", "Lcrs", "LcrRoutes",
		"LcrCarrierSetEntries", "Clients", "ApiKeys"} {
		mutations["DELETE /v1/"+coll+"/:rsid"] = mutation{nil, 204, 204}
	}
	for _, r := range []string{"/v1/Accounts/:sid/Applications/:rsid", "/v1/Accounts/:sid/SpeechCredentials/:rsid",
		"/v1/Accounts/:sid/Calls/:callSid", "/v1/ServiceProviders/:sid/SpeechCredentials/:rsid",
		"/v1/Accounts/:sid/JsApps/:rsid", "/v1/Accounts/:sid/JsApps/:rsid/Versions/:vsid"} {
		mutations["DELETE "+r] = mutation{nil, 204, 204}
	}

	// fill puts the tenant's sids into a route's parameters; with last set,
	// the route's last parameter is that value instead.
	fill := func(route, last string) (string, bool) {
		segs := strings.Split(route, "/")
		hasParam, lastParam := false, -1
		for i, s := range segs {
			switch s {
			case ":sid", ":rsid", ":vsid":
				hasParam, lastParam = true, i
				segs[i] = bySID[segs[i-1]]
				if s == ":rsid" && segs[i-1] == "SpeechCredentials" && segs[2] == "ServiceProviders" {
					segs[i] = spSpeech
				}
			case ":client":
				segs[i], lastParam = "alice", i
			case ":callSid":
				segs[i], lastParam = "call-of-the-owner", i
			case ":clip":
				segs[i], lastParam = "1", i
			}
		}
		if last != "" && lastParam >= 0 {
			segs[lastParam] = last
		}
		return strings.Join(segs, "/"), hasParam
	}

	var walked, mutating int
	for _, rt := range e.srv.App().GetRoutes(true) {
		if !strings.HasPrefix(rt.Path, "/v1/") || rt.Method == "HEAD" || rt.Path == openAPIRoute || strings.HasSuffix(rt.Path, "/Events") {
			continue // the events websocket is authenticated by its first message (TestSimulationsOverREST)
		}
		path, hasParam := fill(rt.Path, "")
		require.NotContains(t, path, ":", "a parameter without a value in %s", rt.Path)
		query := "?" + url.Values{"page": {"1"}, "count": {"25"}}.Encode()
		var body any
		if rt.Method == "POST" || rt.Method == "PUT" {
			body = map[string]any{"name": "intruder", "category": "device", "quantity": 1, "vendor": "google",
				"account_sid": victim.account}
		}
		walked++
		name := rt.Method + " " + rt.Path
		t.Run(name, func(t *testing.T) {
			for _, k := range nobody {
				r := e.do(rt.Method, path+query, k.key, body)
				require.Equal(t, 401, r.code, "%s: %s", k.name, r.raw)
				require.Equal(t, map[string]any{"msg": msgUnauthorized}, r.obj(t))
			}
			if !hasParam {
				return // a top-level collection acts on the caller's own scope
			}
			missing, _ := fill(rt.Path, uuid.NewString())
			for _, k := range foreign {
				if k.name == "sibling account" && rt.Method == "GET" && rt.Path == "/v1/ServiceProviders/:rsid" {
					continue // an account reads its own provider, which it shares with its siblings
				}
				want := foreignStatus(rt.Method, rt.Path, k.account)
				r := e.do(rt.Method, path+query, k.key, body)
				require.Equal(t, want, r.code, "%s: %s", k.name, r.raw)
				for _, s := range secrets {
					require.NotContains(t, r.raw, s, "%s: the answer carries the tenant's data", k.name)
				}
				// The same answer as for a target that does not exist: no oracle.
				gone := e.do(rt.Method, missing+query, k.key, body)
				require.Equal(t, r.code, gone.code, "%s: %s answers %d, a missing target %d: %s", k.name, path, r.code, gone.code, gone.raw)
				require.Equal(t, r.raw, gone.raw, k.name)
			}
		})
		if rt.Method == "GET" {
			continue
		}
		m, ok := mutations[name]
		require.True(t, ok, "no owner and admin cells for %s: add it to mutations", name)
		mutating++
		t.Run(name+"/owner and admin", func(t *testing.T) {
			owner := victim.key
			if strings.HasPrefix(rt.Path, "/v1/ServiceProviders/") {
				owner = e.spKey[0]
			}
			for _, c := range []struct {
				who, key string
				want     int
			}{{"owner", owner, m.own}, {"admin", e.admin, m.admin}} {
				target := ""
				if rt.Method == "DELETE" && c.want == 204 && rt.Path != "/v1/Accounts/:sid/Limits" {
					target = fresh(rt.Path)
				}
				p, _ := fill(rt.Path, target)
				var b any
				if m.body != nil {
					b = m.body()
				}
				r := e.do(rt.Method, p, c.key, b)
				require.Equal(t, c.want, r.code, "%s %s: %s", c.who, p, r.raw)
				switch c.want {
				case 201:
					require.NotEmpty(t, r.obj(t)["sid"], r.raw)
				case 204:
					require.Empty(t, r.raw)
				case 200, 202:
				default:
					require.NotEmpty(t, r.obj(t)["msg"], r.raw)
				}
				if target != "" {
					require.Equal(t, 404, e.do("DELETE", p, c.key, nil).code, "%s: deleted for good", p)
				}
			}
		})
	}
	require.Greater(t, walked, 60, "the walk found the routes")
	require.Equal(t, len(mutations), mutating, "every listed mutation is a registered route")

	// And the owner's and the admin's GETs all succeed, after the attempts.
	for _, rt := range e.srv.App().GetRoutes(true) {
		if !strings.HasPrefix(rt.Path, "/v1/") || rt.Method != "GET" || !strings.Contains(rt.Path, ":") || rt.Path == openAPIRoute {
			continue
		}
		if strings.Contains(rt.Path, "/Simulations") {
			continue // no simulator in this env (503); TestSimulationsOverREST has the owner's side
		}
		path, _ := fill(rt.Path, "")
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
