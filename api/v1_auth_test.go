package api

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/store"
)

func TestV1NotMountedWithoutProvisioning(t *testing.T) {
	s := New(Config{})
	code, _, _ := get(t, s, "/v1/Accounts")
	require.Equal(t, 404, code)
}

func TestAuth(t *testing.T) {
	e := newEnv(t)
	a := e.accounts[0][0]

	// A revoked key (deleted) and an expired key.
	revokedSID, revoked := func() (string, string) {
		k := store.APIKey{AccountSID: a.account}
		sid, err := e.prov.APIKeys(store.ForAccount(a.sp, a.account)).Create(context.Background(), &k)
		require.NoError(t, err)
		return sid, k.Token
	}()
	require.Equal(t, 200, e.do("GET", "/v1/Accounts/"+a.account, revoked, nil).code)
	require.Equal(t, 204, e.do("DELETE", "/v1/ApiKeys/"+revokedSID, a.key, nil).code)

	cases := []struct {
		name   string
		header string
		code   int
	}{
		{"no header", "", 401},
		{"not bearer", "Basic dXNlcjpwYXNz", 401},
		{"empty bearer", "Bearer ", 401},
		{"unknown key", "Bearer 6f1c1f8e-0000-4000-8000-000000000000", 401},
		{"revoked key", "Bearer " + revoked, 401},
		{"sql in key", "Bearer ' OR 1=1 --", 401},
		{"admin key", "Bearer " + e.admin, 200},
		{"sp key", "Bearer " + e.spKey[0], 200},
		{"account key", "Bearer " + a.key, 200},
		{"lower-case scheme", "bearer " + a.key, 200},
	}
	var unauthorized string
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := e.do("GET", "/v1/Accounts", "", nil)
			if tc.header != "" {
				req = e.doHeader("GET", "/v1/Accounts", tc.header)
			}
			require.Equal(t, tc.code, req.code, req.raw)
			if tc.code == 401 {
				if unauthorized == "" {
					unauthorized = req.raw
				}
				require.Equal(t, unauthorized, req.raw, "every refused key gets the same answer")
				require.Equal(t, map[string]any{"msg": msgUnauthorized}, req.obj(t))
			}
		})
	}
}

func TestAuthExpiredKey(t *testing.T) {
	e := newEnv(t)
	a := e.accounts[0][0]
	r := e.do("POST", "/v1/ApiKeys", a.key, map[string]any{"expiry_secs": 1})
	require.Equal(t, 201, r.code, r.raw)
	tok := r.obj(t)["token"].(string)
	require.NotEmpty(t, tok, "the token is shown once, in the create response")
	// The store compares expiry with the wall clock; an expiry in the past
	// is set directly.
	past := e.clock.now().AddDate(-1, 0, 0)
	_, err := e.prov.SQL().Exec("UPDATE api_keys SET expires_at = ? WHERE api_key_sid = ?", past.Format("2006-01-02 15:04:05.000"), r.obj(t)["sid"])
	require.NoError(t, err)
	res := e.do("GET", "/v1/Accounts", tok, nil)
	require.Equal(t, 401, res.code, res.raw)
	require.Equal(t, map[string]any{"msg": msgUnauthorized}, res.obj(t))
}

func TestScopes(t *testing.T) {
	e := newEnv(t)
	count := func(key string) int {
		r := e.do("GET", "/v1/Accounts", key, nil)
		require.Equal(t, 200, r.code, r.raw)
		return len(r.arr(t))
	}
	require.Equal(t, 4, count(e.admin), "admin sees every account")
	require.Equal(t, 2, count(e.spKey[0]), "a provider sees its accounts")
	require.Equal(t, 1, count(e.accounts[1][1].key), "an account sees itself")

	// Creating a service provider is the admin's alone.
	require.Equal(t, 403, e.do("POST", "/v1/ServiceProviders", e.spKey[0], map[string]any{"name": "x"}).code)
	require.Equal(t, 403, e.do("POST", "/v1/ServiceProviders", e.accounts[0][0].key, map[string]any{"name": "x"}).code)
	e.create("/v1/ServiceProviders", e.admin, map[string]any{"name": "third"})
	// An account key cannot create accounts; a provider creates them under itself.
	require.Equal(t, 403, e.do("POST", "/v1/Accounts", e.accounts[0][0].key, map[string]any{"name": "x"}).code)
	sid := e.create("/v1/Accounts", e.spKey[0], map[string]any{"name": "new", "service_provider_sid": e.sp[1]})
	r := e.do("GET", "/v1/Accounts/"+sid, e.spKey[0], nil)
	require.Equal(t, 200, r.code)
	require.Equal(t, e.sp[0], r.obj(t)["service_provider_sid"], "the provider comes from the key, not the body")
	require.Regexp(t, `^wh_secret_\w{22}$`, r.obj(t)["webhook_secret"])
	// An account key acting as its provider.
	require.Equal(t, 403, e.do("GET", "/v1/ServiceProviders/"+e.sp[0]+"/Accounts", e.accounts[0][0].key, nil).code)
}
