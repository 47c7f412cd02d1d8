package api

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/store"
)

func appBody(name string) map[string]any {
	return map[string]any{"name": name,
		"call_hook":                 map[string]any{"url": "https://example.com/call", "method": "post", "username": "u", "password": "p"},
		"call_status_hook":          "https://example.com/status",
		"messaging_hook":            map[string]any{"url": "https://example.com/sms", "method": "GET"},
		"speech_synthesis_vendor":   "google",
		"speech_synthesis_language": "en-US", "speech_recognizer_vendor": "google", "speech_recognizer_language": "en-US"}
}

func TestApplicationCRUD(t *testing.T) {
	e := newEnv(t)
	a := e.accounts[0][0]

	sid := e.create("/v1/Applications", a.key, appBody("ivr"))
	r := e.do("GET", "/v1/Applications/"+sid, a.key, nil)
	require.Equal(t, 200, r.code, r.raw)
	got := r.obj(t)
	require.Equal(t, sid, got["application_sid"])
	require.Equal(t, a.account, got["account_sid"])
	hook := got["call_hook"].(map[string]any)
	require.Equal(t, "https://example.com/call", hook["url"])
	require.Equal(t, "POST", hook["method"])
	require.Equal(t, "u", hook["username"])
	require.Equal(t, "p", hook["password"])
	require.Equal(t, "https://example.com/status", got["call_status_hook"].(map[string]any)["url"], "a bare URL is a POST hook")
	require.Equal(t, "GET", got["messaging_hook"].(map[string]any)["method"])

	cases := []struct {
		name  string
		body  any
		code  int
		check func(t *testing.T, app map[string]any)
	}{
		{"rename", map[string]any{"name": "ivr2"}, 204, func(t *testing.T, app map[string]any) {
			require.Equal(t, "ivr2", app["name"])
		}},
		{"replace a hook", map[string]any{"call_hook": map[string]any{"url": "https://example.org/new"}}, 204, func(t *testing.T, app map[string]any) {
			require.Equal(t, "https://example.org/new", app["call_hook"].(map[string]any)["url"])
		}},
		{"clear a hook", map[string]any{"messaging_hook": nil}, 204, func(t *testing.T, app map[string]any) {
			require.Nil(t, app["messaging_hook"])
		}},
		{"booleans as jambonz's 0/1", map[string]any{"record_all_calls": 1}, 204, func(t *testing.T, app map[string]any) {
			require.Equal(t, true, app["record_all_calls"])
		}},
		{"app_json as JSON", map[string]any{"app_json": []any{map[string]any{"verb": "say", "text": "hi"}}}, 204, func(t *testing.T, app map[string]any) {
			require.JSONEq(t, `[{"verb":"say","text":"hi"}]`, app["app_json"].(string))
		}},
		{"a round trip of the whole record", nil, 204, nil},
		{"unknown properties are ignored", map[string]any{"use_for_fallback_speech": 1}, 204, nil},
		{"owner and sid are ignored", map[string]any{"account_sid": e.accounts[1][0].account, "application_sid": "x"}, 204, func(t *testing.T, app map[string]any) {
			require.Equal(t, a.account, app["account_sid"])
			require.Equal(t, sid, app["application_sid"])
		}},
		{"wrong type", map[string]any{"name": true}, 400, nil},
		{"a number for a string", map[string]any{"name": 5}, 204, func(t *testing.T, app map[string]any) {
			require.Equal(t, "5", app["name"])
		}},
		{"bad hook method", map[string]any{"call_hook": map[string]any{"url": "https://x", "method": "DELETE"}}, 400, nil},
		{"not an object", `[1,2]`, 400, nil},
		{"not JSON", `{"name":`, 400, nil},
		{"null for a required column", map[string]any{"name": nil}, 422, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := tc.body
			if body == nil {
				body = e.do("GET", "/v1/Applications/"+sid, a.key, nil).raw
			}
			r := e.do("PUT", "/v1/Applications/"+sid, a.key, body)
			require.Equal(t, tc.code, r.code, r.raw)
			if tc.code == 204 {
				require.Empty(t, r.raw)
			} else {
				require.NotEmpty(t, r.obj(t)["msg"])
			}
			if tc.check != nil {
				tc.check(t, e.do("GET", "/v1/Applications/"+sid, a.key, nil).obj(t))
			}
		})
	}

	// Nested under the account (the paths @jambonz/node-client uses).
	r = e.do("GET", "/v1/Accounts/"+a.account+"/Applications", a.key, nil)
	require.Equal(t, 200, r.code)
	require.Len(t, r.arr(t), 1)
	nested := e.create("/v1/Accounts/"+a.account+"/Applications", e.spKey[0], appBody("by provider"))
	r = e.do("GET", "/v1/Applications/"+nested, a.key, nil)
	require.Equal(t, a.account, r.obj(t)["account_sid"], "the path's account owns it")

	// In use: a phone number points at the application.
	num := e.create("/v1/PhoneNumbers", a.key, map[string]any{"number": "15551230000", "application_sid": sid})
	r = e.do("DELETE", "/v1/Applications/"+sid, a.key, nil)
	require.Equal(t, 422, r.code, r.raw)
	require.Equal(t, map[string]any{"msg": "resource is in use"}, r.obj(t))
	require.Equal(t, 204, e.do("DELETE", "/v1/PhoneNumbers/"+num, a.key, nil).code)
	r = e.do("DELETE", "/v1/Applications/"+sid, a.key, nil)
	require.Equal(t, 204, r.code, r.raw)
	require.Empty(t, r.raw)
	require.Equal(t, 404, e.do("GET", "/v1/Applications/"+sid, a.key, nil).code)
	require.Equal(t, 404, e.do("DELETE", "/v1/Applications/"+sid, a.key, nil).code)
	require.Equal(t, 404, e.do("PUT", "/v1/Applications/"+sid, a.key, map[string]any{"name": "x"}).code)
	require.Equal(t, 404, e.do("PUT", "/v1/Applications/"+sid, a.key, map[string]any{}).code)
}

func TestCarrierGatewayLCRCRUD(t *testing.T) {
	e := newEnv(t)
	a := e.accounts[0][0]
	carrier := e.create("/v1/VoipCarriers", a.key, map[string]any{"name": "c1", "is_active": true, "register_password": "pw"})
	gw := e.create("/v1/SipGateways", a.key, map[string]any{"voip_carrier_sid": carrier, "ipv4": "203.0.113.5", "netmask": "32", "port": 5060, "inbound": 1, "outbound": true})
	r := e.do("GET", "/v1/SipGateways?voip_carrier_sid="+carrier, a.key, nil)
	require.Equal(t, 200, r.code)
	require.Len(t, r.arr(t), 1)
	require.Equal(t, float64(32), r.arr(t)[0]["netmask"], "integers may arrive as strings")
	require.Equal(t, 204, e.do("PUT", "/v1/SipGateways/"+gw, a.key, map[string]any{"port": 5080, "voip_carrier_sid": "ignored"}).code)
	require.Equal(t, float64(5080), e.do("GET", "/v1/SipGateways/"+gw, a.key, nil).obj(t)["port"])

	// Conflicts answer 422, as jambonz answers a duplicate entry.
	// Carrier names need not be unique; phone numbers must be.
	dup := e.create("/v1/VoipCarriers", a.key, map[string]any{"name": "c1"})
	require.Equal(t, 204, e.do("DELETE", "/v1/VoipCarriers/"+dup, a.key, nil).code)
	e.create("/v1/PhoneNumbers", a.key, map[string]any{"number": "15550001111"})
	r = e.do("POST", "/v1/PhoneNumbers", e.accounts[1][1].key, map[string]any{"number": "15550001111"})
	require.Equal(t, 422, r.code, r.raw)
	require.Equal(t, map[string]any{"msg": "a record with that value already exists"}, r.obj(t))

	lcr := e.create("/v1/Lcrs", a.key, map[string]any{"name": "l"})
	route := e.create("/v1/LcrRoutes", a.key, map[string]any{"lcr_sid": lcr, "regex": "^44", "priority": 1})
	e.create("/v1/LcrCarrierSetEntries", a.key, map[string]any{"lcr_route_sid": route, "voip_carrier_sid": carrier, "priority": 1, "workload": 1})
	r = e.do("GET", "/v1/Lcrs/"+lcr+"/Routes", a.key, nil)
	require.Equal(t, 200, r.code)
	require.Len(t, r.arr(t), 1)
	r = e.do("GET", "/v1/LcrCarrierSetEntries?lcr_route_sid="+route, a.key, nil)
	require.Len(t, r.arr(t), 1)

	// The carrier is in use by the gateway and the set entry.
	r = e.do("DELETE", "/v1/VoipCarriers/"+carrier, a.key, nil)
	require.Equal(t, 422, r.code, r.raw)

	// Provider-level carriers are listed under the provider, not its accounts'.
	spc := e.create("/v1/ServiceProviders/"+e.sp[0]+"/VoipCarriers", e.spKey[0], map[string]any{"name": "sp carrier"})
	r = e.do("GET", "/v1/ServiceProviders/"+e.sp[0]+"/VoipCarriers", e.spKey[0], nil)
	require.Len(t, r.arr(t), 1)
	require.Equal(t, spc, r.arr(t)[0]["voip_carrier_sid"])
	r = e.do("GET", "/v1/Accounts/"+a.account+"/VoipCarriers", e.spKey[0], nil)
	require.Len(t, r.arr(t), 1)
	require.Equal(t, carrier, r.arr(t)[0]["voip_carrier_sid"])
}

func TestClientsMaskPasswords(t *testing.T) {
	e := newEnv(t)
	a := e.accounts[0][0]
	sid := e.create("/v1/Clients", a.key, map[string]any{"username": "alice", "password": "correct-horse-battery", "is_active": true})
	r := e.do("GET", "/v1/Clients/"+sid, a.key, nil)
	require.NotContains(t, r.raw, "correct-horse")
	require.Equal(t, strings.Repeat("X", 17)+"tery", r.obj(t)["password"])
	// A round trip with the mask keeps the password.
	require.Equal(t, 204, e.do("PUT", "/v1/Clients/"+sid, a.key, r.raw).code)
	c, err := e.prov.Clients(store.Admin()).Get(context.Background(), sid)
	require.NoError(t, err)
	require.Equal(t, "correct-horse-battery", c.Password)
	// Unique username per account.
	r = e.do("POST", "/v1/Clients", a.key, map[string]any{"username": "alice", "password": "x"})
	require.Equal(t, 422, r.code, r.raw)
}

func TestServiceProviderCRUD(t *testing.T) {
	e := newEnv(t)
	sid := e.create("/v1/ServiceProviders", e.admin, map[string]any{"name": "new sp", "registration_hook": map[string]any{"url": "https://reg.example.com"}})
	r := e.do("GET", "/v1/ServiceProviders/"+sid, e.admin, nil)
	require.Equal(t, "https://reg.example.com", r.obj(t)["registration_hook"].(map[string]any)["url"])
	require.Equal(t, 204, e.do("PUT", "/v1/ServiceProviders/"+e.sp[0], e.spKey[0], map[string]any{"description": "mine"}).code)
	require.Equal(t, 403, e.do("DELETE", "/v1/ServiceProviders/"+e.sp[0], e.spKey[0], nil).code)
	r = e.do("DELETE", "/v1/ServiceProviders/"+e.sp[0], e.admin, nil)
	require.Equal(t, 422, r.code, "a provider with accounts is in use: %s", r.raw)
	require.Equal(t, 204, e.do("DELETE", "/v1/ServiceProviders/"+sid, e.admin, nil).code)
	// An account reads its own provider.
	require.Equal(t, 200, e.do("GET", "/v1/ServiceProviders/"+e.sp[0], e.accounts[0][0].key, nil).code)
}

func TestAccountUpdateAndDelete(t *testing.T) {
	e := newEnv(t)
	a := e.accounts[0][0]
	require.Equal(t, 204, e.do("PUT", "/v1/Accounts/"+a.account, a.key, map[string]any{"name": "renamed",
		"queue_event_hook": map[string]any{"url": "https://q.example.com"}}).code)
	r := e.do("GET", "/v1/Accounts/"+a.account, a.key, nil).obj(t)
	require.Equal(t, "renamed", r["name"])
	require.Equal(t, "https://q.example.com", r["queue_event_hook"].(map[string]any)["url"])
	require.Equal(t, 403, e.do("PUT", "/v1/Accounts/"+a.account, a.key, map[string]any{"is_active": false}).code,
		"only the provider switches an account off")
	require.Equal(t, 204, e.do("PUT", "/v1/Accounts/"+a.account, e.spKey[0], map[string]any{"is_active": false}).code)

	e.create("/v1/Applications", a.key, appBody("x"))
	r2 := e.do("DELETE", "/v1/Accounts/"+a.account, e.spKey[0], nil)
	require.Equal(t, 422, r2.code, r2.raw)
	require.Equal(t, 403, e.do("DELETE", "/v1/Accounts/"+e.accounts[0][1].account, e.accounts[0][1].key, nil).code)
}

func TestAPIKeys(t *testing.T) {
	e := newEnv(t)
	a := e.accounts[0][0]
	cases := []struct {
		name    string
		key     string
		body    map[string]any
		code    int
		listAt  string
		listKey string
	}{
		{"account makes its own", a.key, map[string]any{"account_sid": e.accounts[1][0].account}, 201, "/v1/Accounts/" + a.account + "/ApiKeys", a.key},
		{"provider for an account", e.spKey[0], map[string]any{"account_sid": e.accounts[0][1].account}, 201, "/v1/Accounts/" + e.accounts[0][1].account + "/ApiKeys", e.spKey[0]},
		{"provider for itself", e.spKey[0], map[string]any{}, 201, "/v1/ServiceProviders/" + e.sp[0] + "/ApiKeys", e.spKey[0]},
		{"provider for a foreign account", e.spKey[0], map[string]any{"account_sid": e.accounts[1][0].account}, 422, "", ""},
		{"admin key", e.admin, map[string]any{}, 201, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("POST", "/v1/ApiKeys", tc.key, tc.body)
			require.Equal(t, tc.code, r.code, r.raw)
			if tc.code != 201 {
				return
			}
			m := r.obj(t)
			tok := m["token"].(string)
			require.NotEmpty(t, tok)
			require.Equal(t, 200, e.do("GET", "/v1/Accounts", tok, nil).code, "the new key works")
			if tc.listAt != "" {
				l := e.do("GET", tc.listAt, tc.listKey, nil)
				require.Equal(t, 200, l.code)
				require.Contains(t, l.raw, m["sid"])
				require.NotContains(t, l.raw, tok, "the token is shown only once")
			}
		})
	}
	// The account key made in the first case belongs to a's account, whatever the body said.
	l := e.do("GET", "/v1/Accounts/"+e.accounts[1][0].account+"/ApiKeys", e.admin, nil)
	require.Len(t, l.arr(t), 1, "only the seeded key: %s", l.raw)
}

func TestWebhookSecret(t *testing.T) {
	e := newEnv(t)
	a := e.accounts[0][0]
	path := "/v1/Accounts/" + a.account + "/WebhookSecret"
	r := e.do("GET", path, a.key, nil)
	require.Equal(t, 200, r.code)
	require.Equal(t, map[string]any{"webhook_secret": "wh_secret_initial"}, r.obj(t))
	r = e.do("GET", path+"?regenerate=true", a.key, nil)
	require.Equal(t, 200, r.code)
	fresh := r.obj(t)["webhook_secret"].(string)
	require.Regexp(t, `^wh_secret_[1-9A-HJ-NP-Za-km-z]{22}$`, fresh)
	require.Equal(t, fresh, e.do("GET", path, a.key, nil).obj(t)["webhook_secret"])
	acct, err := e.prov.Accounts(store.Admin()).Get(context.Background(), a.account)
	require.NoError(t, err)
	require.Equal(t, fresh, acct.WebhookSecret)
	r = e.do("GET", path+"?regenerate=true", e.spKey[0], nil)
	require.NotEqual(t, fresh, r.obj(t)["webhook_secret"], "the provider may regenerate too")
}

func TestLimits(t *testing.T) {
	e := newEnv(t)
	a := e.accounts[0][0]
	path := "/v1/Accounts/" + a.account + "/Limits"
	sid := e.create(path, e.spKey[0], map[string]any{"category": "voice_call_session", "quantity": 10})
	again := e.create(path, e.spKey[0], map[string]any{"category": "voice_call_session", "quantity": 20})
	require.Equal(t, sid, again, "a second POST replaces the category's quantity")
	e.create(path, e.admin, map[string]any{"category": "device", "quantity": 5})
	r := e.do("GET", path, a.key, nil)
	require.Equal(t, 200, r.code)
	require.Len(t, r.arr(t), 2)
	r = e.do("GET", path+"?category=voice_call_session", a.key, nil)
	require.Len(t, r.arr(t), 1)
	require.Equal(t, float64(20), r.arr(t)[0]["quantity"])

	require.Equal(t, 403, e.do("POST", path, a.key, map[string]any{"category": "device", "quantity": 50}).code, "an account cannot raise its own limits")
	require.Equal(t, 400, e.do("POST", path, e.spKey[0], map[string]any{"category": "nope", "quantity": 1}).code)
	require.Equal(t, 400, e.do("POST", path, e.spKey[0], map[string]any{"category": "device", "quantity": -1}).code)
	require.Equal(t, 404, e.do("POST", path, e.spKey[1], map[string]any{"category": "device", "quantity": 1}).code)

	require.Equal(t, 204, e.do("DELETE", path+"?category=device", e.spKey[0], nil).code)
	require.Len(t, e.do("GET", path, a.key, nil).arr(t), 1)
	require.Equal(t, 204, e.do("DELETE", path, e.spKey[0], nil).code)
	require.Empty(t, e.do("GET", path, a.key, nil).arr(t))
}

func TestSpeechCredentials(t *testing.T) {
	e := newEnv(t)
	a := e.accounts[0][0]
	path := "/v1/Accounts/" + a.account + "/SpeechCredentials"
	secret := "AKIAIOSFODNN7EXAMPLE-very-secret"
	sid := e.create(path, a.key, map[string]any{"vendor": "aws", "label": "main", "access_key_id": "AKIAIOSFODNN7EXAMPLE",
		"secret_access_key": secret, "aws_region": "us-east-1", "use_for_stt": false})
	r := e.do("GET", path+"/"+sid, a.key, nil)
	require.Equal(t, 200, r.code, r.raw)
	require.NotContains(t, r.raw, secret)
	require.NotContains(t, r.raw, "AKIAIOSFODNN7EXAMPLE")
	m := r.obj(t)
	require.Equal(t, "aws", m["vendor"])
	require.Equal(t, "us-east-1", m["aws_region"], "settings are shown")
	require.True(t, strings.HasPrefix(m["secret_access_key"].(string), "XXXX"))
	require.Equal(t, true, m["use_for_tts"])
	require.Equal(t, false, m["use_for_stt"])

	// Stored encrypted: the raw column holds no plaintext.
	var raw string
	require.NoError(t, e.prov.SQL().QueryRow("SELECT credential FROM speech_credentials WHERE speech_credential_sid = ?", sid).Scan(&raw))
	require.True(t, strings.HasPrefix(raw, store.SealedPrefix), raw)
	require.NotContains(t, raw, secret)

	// A round trip with masks changes nothing; a new value replaces one.
	require.Equal(t, 204, e.do("PUT", path+"/"+sid, a.key, r.raw).code)
	require.Equal(t, 204, e.do("PUT", path+"/"+sid, a.key, map[string]any{"aws_region": "eu-west-1", "use_for_stt": true}).code)
	cred, err := e.prov.SpeechCredentials(store.Admin()).Get(context.Background(), sid)
	require.NoError(t, err)
	require.Contains(t, cred.Credential, secret)
	require.Contains(t, cred.Credential, "eu-west-1")
	require.True(t, cred.UseForSTT)

	l := e.do("GET", path, a.key, nil)
	require.Len(t, l.arr(t), 1)
	require.NotContains(t, l.raw, secret)
	require.Equal(t, 400, e.do("POST", path, a.key, map[string]any{"label": "no vendor"}).code)

	// Provider-level credentials.
	spPath := "/v1/ServiceProviders/" + e.sp[0] + "/SpeechCredentials"
	spc := e.create(spPath, e.spKey[0], map[string]any{"vendor": "google", "service_key": map[string]any{"private_key": "-----BEGIN"}})
	l = e.do("GET", spPath, e.spKey[0], nil)
	require.Len(t, l.arr(t), 1)
	require.NotContains(t, l.raw, "BEGIN")
	require.Equal(t, 204, e.do("DELETE", spPath+"/"+spc, e.spKey[0], nil).code)
	require.Equal(t, 204, e.do("DELETE", path+"/"+sid, a.key, nil).code)
	require.Equal(t, 404, e.do("GET", path+"/"+sid, a.key, nil).code)
}

func TestCreateRequiresFields(t *testing.T) {
	e := newEnv(t)
	a := e.accounts[0][0]
	cases := []struct {
		name, path, key string
		body            map[string]any
		missing         string
	}{
		{"application without a name", "/v1/Applications", a.key, map[string]any{"call_hook": "https://x"}, "name"},
		{"account without a name", "/v1/Accounts", e.spKey[0], map[string]any{}, "name"},
		{"number without a number", "/v1/PhoneNumbers", a.key, map[string]any{"number": ""}, "number"},
		{"gateway without an address", "/v1/SipGateways", a.key, map[string]any{"voip_carrier_sid": "x"}, "ipv4"},
		{"client without a username", "/v1/Clients", a.key, map[string]any{"password": "p"}, "username"},
		{"provider without a name", "/v1/ServiceProviders", e.admin, map[string]any{"description": "d"}, "name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("POST", tc.path, tc.key, tc.body)
			require.Equal(t, 400, r.code, r.raw)
			require.Equal(t, map[string]any{"msg": "missing field " + tc.missing}, r.obj(t))
		})
	}
}

func TestCreateDefaults(t *testing.T) {
	e := newEnv(t)
	a := e.accounts[0][0]
	carrier := e.create("/v1/VoipCarriers", a.key, map[string]any{"name": "c"})
	gw := e.create("/v1/SipGateways", a.key, map[string]any{"voip_carrier_sid": carrier, "ipv4": "203.0.113.9", "inbound": true})
	client := e.create("/v1/Clients", a.key, map[string]any{"username": "bob", "password": "pw"})
	acct := e.create("/v1/Accounts", e.spKey[0], map[string]any{"name": "fresh"})
	lcr := e.create("/v1/Lcrs", a.key, map[string]any{"name": "l"})
	route := e.create("/v1/LcrRoutes", a.key, map[string]any{"lcr_sid": lcr, "regex": "^1", "priority": 1})
	entry := e.create("/v1/LcrCarrierSetEntries", a.key, map[string]any{"lcr_route_sid": route, "voip_carrier_sid": carrier})
	cases := []struct {
		name, path, key string
		want            map[string]any
	}{
		{"gateway: netmask 32, never the whole internet", "/v1/SipGateways/" + gw, a.key, map[string]any{"netmask": float64(32), "is_active": true}},
		{"carrier is active", "/v1/VoipCarriers/" + carrier, a.key, map[string]any{"is_active": true}},
		{"client may call", "/v1/Clients/" + client, a.key, map[string]any{"is_active": true, "allow_direct_app_calling": true,
			"allow_direct_queue_calling": true, "allow_direct_user_calling": true}},
		{"account is active", "/v1/Accounts/" + acct, e.spKey[0], map[string]any{"is_active": true}},
		{"lcr is active", "/v1/Lcrs/" + lcr, a.key, map[string]any{"is_active": true}},
		{"entry carries all the traffic", "/v1/LcrCarrierSetEntries/" + entry, a.key, map[string]any{"workload": float64(1)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := e.do("GET", tc.path, tc.key, nil).obj(t)
			for k, v := range tc.want {
				require.Equal(t, v, got[k], k)
			}
		})
	}
	// An explicit value wins over the default.
	off := e.create("/v1/VoipCarriers", a.key, map[string]any{"name": "off", "is_active": false})
	require.Equal(t, false, e.do("GET", "/v1/VoipCarriers/"+off, a.key, nil).obj(t)["is_active"])
}
