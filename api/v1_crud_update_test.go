package api

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// foreignKeys are the keys that must not reach sp0/acct0's records.
func (e *env) foreignKeys() []struct{ name, key string } {
	return []struct{ name, key string }{
		{"sibling account", e.accounts[0][1].key},
		{"other provider's account", e.accounts[1][0].key},
		{"other provider", e.spKey[1]},
	}
}

// requireUntouchable sends a PUT (when body is not nil) and a DELETE to item
// with every foreign key: each answers exactly 404 {"msg":"not found"}, and
// the record reads the same afterwards.
func (e *env) requireUntouchable(t *testing.T, item, ownerKey string, body map[string]any) {
	t.Helper()
	before := e.do("GET", item, ownerKey, nil)
	require.Equal(t, 200, before.code, before.raw)
	for _, k := range e.foreignKeys() {
		if body != nil {
			r := e.do("PUT", item, k.key, body)
			require.Equal(t, 404, r.code, "%s PUT %s: %s", k.name, item, r.raw)
			require.Equal(t, map[string]any{"msg": "not found"}, r.obj(t))
		}
		r := e.do("DELETE", item, k.key, nil)
		require.Equal(t, 404, r.code, "%s DELETE %s: %s", k.name, item, r.raw)
		require.Equal(t, map[string]any{"msg": "not found"}, r.obj(t))
	}
	require.JSONEq(t, before.raw, e.do("GET", item, ownerKey, nil).raw, "the foreign attempts changed nothing")
}

// requireDeleted checks that a deleted record is gone for good: GET, PUT
// and a second DELETE all answer 404.
func (e *env) requireDeleted(t *testing.T, item, key string) {
	t.Helper()
	require.Equal(t, 404, e.do("GET", item, key, nil).code, item)
	require.Equal(t, 404, e.do("PUT", item, key, map[string]any{"name": "x"}).code, item)
	require.Equal(t, 404, e.do("DELETE", item, key, nil).code, item)
}

func TestLCRUpdateAndDelete(t *testing.T) {
	e := newEnv(t)
	a := e.accounts[0][0]
	carrier := e.create("/v1/VoipCarriers", a.key, map[string]any{"name": "c1"})
	carrier2 := e.create("/v1/VoipCarriers", a.key, map[string]any{"name": "c2"})
	foreignCarrier := e.create("/v1/VoipCarriers", e.accounts[1][0].key, map[string]any{"name": "theirs"})
	lcr := e.create("/v1/Lcrs", a.key, map[string]any{"name": "l1"})
	otherLcr := e.create("/v1/Lcrs", a.key, map[string]any{"name": "l2"})
	route := e.create("/v1/LcrRoutes", a.key, map[string]any{"lcr_sid": lcr, "regex": "^1", "priority": 1})
	entry := e.create("/v1/LcrCarrierSetEntries", a.key, map[string]any{"lcr_route_sid": route, "voip_carrier_sid": carrier, "priority": 1, "workload": 1})
	lcrPath, routePath, entryPath := "/v1/Lcrs/"+lcr, "/v1/LcrRoutes/"+route, "/v1/LcrCarrierSetEntries/"+entry

	t.Run("foreign keys get 404", func(t *testing.T) {
		e.requireUntouchable(t, lcrPath, a.key, map[string]any{"name": "stolen"})
		e.requireUntouchable(t, routePath, a.key, map[string]any{"regex": "^9"})
		e.requireUntouchable(t, entryPath, a.key, map[string]any{"workload": 9})
	})

	t.Run("update", func(t *testing.T) {
		cases := []struct {
			name, path string
			body       map[string]any
			code       int
			want       map[string]any
		}{
			{"rename and switch off an lcr", lcrPath, map[string]any{"name": "renamed", "is_active": false}, 204,
				map[string]any{"name": "renamed", "is_active": false}},
			{"default entry", lcrPath, map[string]any{"default_carrier_set_entry_sid": entry}, 204,
				map[string]any{"default_carrier_set_entry_sid": entry}},
			{"another tenant's entry as default", lcrPath, map[string]any{"default_carrier_set_entry_sid": "00000000-0000-0000-0000-000000000000"}, 422, nil},
			{"owner in the body is ignored", lcrPath, map[string]any{"account_sid": e.accounts[1][0].account, "name": "mine"}, 204,
				map[string]any{"account_sid": a.account, "name": "mine"}},
			{"route pattern and priority", routePath, map[string]any{"regex": "^44", "priority": 5, "description": "uk"}, 204,
				map[string]any{"regex": "^44", "priority": float64(5), "description": "uk"}},
			{"a route stays in its lcr", routePath, map[string]any{"lcr_sid": otherLcr, "priority": 6}, 204,
				map[string]any{"lcr_sid": lcr, "priority": float64(6)}},
			{"entry workload, priority and carrier", entryPath, map[string]any{"workload": 3, "priority": 2, "voip_carrier_sid": carrier2}, 204,
				map[string]any{"workload": float64(3), "priority": float64(2), "voip_carrier_sid": carrier2}},
			{"an entry stays in its route", entryPath, map[string]any{"lcr_route_sid": "elsewhere"}, 204,
				map[string]any{"lcr_route_sid": route}},
			{"another tenant's carrier", entryPath, map[string]any{"voip_carrier_sid": foreignCarrier}, 422,
				map[string]any{"voip_carrier_sid": carrier2}},
			{"wrong type", routePath, map[string]any{"priority": "high"}, 400, nil},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := e.do("PUT", tc.path, a.key, tc.body)
				require.Equal(t, tc.code, r.code, r.raw)
				if tc.code == 204 {
					require.Empty(t, r.raw)
				} else {
					require.NotEmpty(t, r.obj(t)["msg"])
					require.NotContains(t, r.raw, foreignCarrier)
				}
				got := e.do("GET", tc.path, a.key, nil).obj(t)
				for k, v := range tc.want {
					require.Equal(t, v, got[k], k)
				}
			})
		}
		// The provider and the admin update the account's table too.
		require.Equal(t, 204, e.do("PUT", lcrPath, e.spKey[0], map[string]any{"name": "by provider"}).code)
		require.Equal(t, 204, e.do("PUT", routePath, e.admin, map[string]any{"description": "by admin"}).code)
		require.Equal(t, "by provider", e.do("GET", lcrPath, a.key, nil).obj(t)["name"])
	})

	t.Run("delete", func(t *testing.T) {
		// The lcr's default entry is in use: neither it nor its route may go.
		r := e.do("DELETE", entryPath, a.key, nil)
		require.Equal(t, 422, r.code, r.raw)
		require.Equal(t, map[string]any{"msg": "resource is in use"}, r.obj(t))
		r = e.do("DELETE", routePath, a.key, nil)
		require.Equal(t, 422, r.code, "the route's entry is the lcr's default: %s", r.raw)
		require.Equal(t, 200, e.do("GET", entryPath, a.key, nil).code)
		// A carrier named by an entry is in use.
		require.Equal(t, 422, e.do("DELETE", "/v1/VoipCarriers/"+carrier2, a.key, nil).code)

		require.Equal(t, 204, e.do("PUT", lcrPath, a.key, map[string]any{"default_carrier_set_entry_sid": nil}).code)
		r = e.do("DELETE", entryPath, a.key, nil)
		require.Equal(t, 204, r.code, r.raw)
		require.Empty(t, r.raw)
		e.requireDeleted(t, entryPath, a.key)
		require.Equal(t, 204, e.do("DELETE", "/v1/VoipCarriers/"+carrier2, a.key, nil).code, "no longer in use")

		// A route goes with its entries.
		second := e.create("/v1/LcrCarrierSetEntries", a.key, map[string]any{"lcr_route_sid": route, "voip_carrier_sid": carrier})
		require.Equal(t, 204, e.do("DELETE", routePath, a.key, nil).code)
		e.requireDeleted(t, routePath, a.key)
		e.requireDeleted(t, "/v1/LcrCarrierSetEntries/"+second, a.key)

		// An lcr goes with its routes and entries, its default entry included.
		route2 := e.create("/v1/LcrRoutes", a.key, map[string]any{"lcr_sid": lcr, "regex": "^2", "priority": 1})
		entry2 := e.create("/v1/LcrCarrierSetEntries", a.key, map[string]any{"lcr_route_sid": route2, "voip_carrier_sid": carrier})
		require.Equal(t, 204, e.do("PUT", lcrPath, a.key, map[string]any{"default_carrier_set_entry_sid": entry2}).code)
		// ... unless an account routes through it.
		require.Equal(t, 204, e.do("PUT", "/v1/Accounts/"+a.account, a.key, map[string]any{"lcr_sid": lcr}).code)
		r = e.do("DELETE", lcrPath, a.key, nil)
		require.Equal(t, 422, r.code, r.raw)
		require.Equal(t, 204, e.do("PUT", "/v1/Accounts/"+a.account, a.key, map[string]any{"lcr_sid": nil}).code)
		require.Equal(t, 204, e.do("DELETE", lcrPath, a.key, nil).code)
		e.requireDeleted(t, lcrPath, a.key)
		e.requireDeleted(t, "/v1/LcrRoutes/"+route2, a.key)
		e.requireDeleted(t, "/v1/LcrCarrierSetEntries/"+entry2, a.key)
		require.Equal(t, 204, e.do("DELETE", "/v1/Lcrs/"+otherLcr, e.admin, nil).code, "the admin deletes any")
	})

	t.Run("provider's own table", func(t *testing.T) {
		spLcr := e.create("/v1/ServiceProviders/"+e.sp[0]+"/Lcrs", e.spKey[0], map[string]any{"name": "sp table"})
		path := "/v1/Lcrs/" + spLcr
		// The provider's accounts do not see their provider's own table.
		for _, key := range []string{a.key, e.accounts[1][0].key, e.spKey[1]} {
			require.Equal(t, 404, e.do("PUT", path, key, map[string]any{"name": "x"}).code)
			require.Equal(t, 404, e.do("DELETE", path, key, nil).code)
		}
		require.Equal(t, 204, e.do("PUT", path, e.spKey[0], map[string]any{"name": "renamed"}).code)
		require.Equal(t, "renamed", e.do("GET", path, e.spKey[0], nil).obj(t)["name"])
		require.Equal(t, 204, e.do("DELETE", path, e.spKey[0], nil).code)
		e.requireDeleted(t, path, e.spKey[0])
	})
}

func TestClientUpdateAndDelete(t *testing.T) {
	e := newEnv(t)
	a := e.accounts[0][0]
	sid := e.create("/v1/Clients", a.key, map[string]any{"username": "alice", "password": "s3cret-pass"})
	item := "/v1/Clients/" + sid
	e.requireUntouchable(t, item, a.key, map[string]any{"password": "stolen"})

	require.Equal(t, 204, e.do("PUT", item, a.key, map[string]any{"is_active": false, "allow_direct_user_calling": false}).code)
	got := e.do("GET", item, a.key, nil).obj(t)
	require.Equal(t, false, got["is_active"])
	require.Equal(t, false, got["allow_direct_user_calling"])
	require.Equal(t, true, got["allow_direct_app_calling"])
	bob := e.create("/v1/Clients", a.key, map[string]any{"username": "bob", "password": "x"})
	r := e.do("PUT", "/v1/Clients/"+bob, a.key, map[string]any{"username": "alice"})
	require.Equal(t, 422, r.code, "usernames are unique per account: %s", r.raw)

	r = e.do("DELETE", item, a.key, nil)
	require.Equal(t, 204, r.code, r.raw)
	require.Empty(t, r.raw)
	e.requireDeleted(t, item, a.key)
	// The name is free again, and another account may always use it.
	e.create("/v1/Clients", a.key, map[string]any{"username": "alice", "password": "again"})
	e.create("/v1/Clients", e.accounts[0][1].key, map[string]any{"username": "alice", "password": "theirs"})

	// The provider and the admin delete their accounts' clients.
	require.Equal(t, 204, e.do("DELETE", "/v1/Clients/"+bob, e.spKey[0], nil).code)
	carol := e.create("/v1/Clients", a.key, map[string]any{"username": "carol", "password": "x"})
	require.Equal(t, 204, e.do("DELETE", "/v1/Clients/"+carol, e.admin, nil).code)
	require.Len(t, e.do("GET", "/v1/Clients", a.key, nil).arr(t), 1)
}

func TestPhoneNumberAndCarrierUpdate(t *testing.T) {
	e := newEnv(t)
	a := e.accounts[0][0]
	app := e.create("/v1/Applications", a.key, appBody("one"))
	app2 := e.create("/v1/Applications", a.key, appBody("two"))
	carrier := e.create("/v1/VoipCarriers", a.key, map[string]any{"name": "c1", "register_password": "pw1"})
	num := e.create("/v1/PhoneNumbers", a.key, map[string]any{"number": "15550100", "voip_carrier_sid": carrier, "application_sid": app})
	numPath, carrierPath := "/v1/PhoneNumbers/"+num, "/v1/VoipCarriers/"+carrier

	t.Run("foreign keys get 404", func(t *testing.T) {
		e.requireUntouchable(t, numPath, a.key, map[string]any{"application_sid": nil})
		e.requireUntouchable(t, carrierPath, a.key, map[string]any{"name": "stolen"})
	})

	t.Run("phone number", func(t *testing.T) {
		cases := []struct {
			name string
			body map[string]any
			code int
			want map[string]any
		}{
			{"route to another application", map[string]any{"application_sid": app2}, 204, map[string]any{"application_sid": app2}},
			{"unassign", map[string]any{"application_sid": nil}, 204, map[string]any{"application_sid": nil}},
			{"another tenant's application", map[string]any{"application_sid": e.create("/v1/Applications", e.accounts[0][1].key, appBody("theirs"))}, 422,
				map[string]any{"application_sid": nil}},
			{"the number may not change", map[string]any{"number": "15550199"}, 400, map[string]any{"number": "15550100"}},
			{"nor its carrier", map[string]any{"voip_carrier_sid": e.create("/v1/VoipCarriers", a.key, map[string]any{"name": "c2"})}, 400,
				map[string]any{"voip_carrier_sid": carrier}},
			{"the same number and carrier are no change", map[string]any{"number": "15550100", "voip_carrier_sid": carrier, "application_sid": app}, 204,
				map[string]any{"application_sid": app}},
			{"owner in the body is ignored", map[string]any{"account_sid": e.accounts[1][0].account}, 204, map[string]any{"account_sid": a.account}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := e.do("PUT", numPath, a.key, tc.body)
				require.Equal(t, tc.code, r.code, r.raw)
				if tc.code != 204 {
					require.NotEmpty(t, r.obj(t)["msg"])
				}
				got := e.do("GET", numPath, a.key, nil).obj(t)
				for k, v := range tc.want {
					require.Equal(t, v, got[k], k)
				}
			})
		}
		require.Equal(t, 204, e.do("PUT", numPath, e.spKey[0], map[string]any{"application_sid": app2}).code, "the provider may")
		require.Equal(t, 204, e.do("PUT", numPath, e.admin, map[string]any{"application_sid": app}).code, "the admin may")
	})

	t.Run("carrier", func(t *testing.T) {
		require.Equal(t, 204, e.do("PUT", carrierPath, a.key, map[string]any{"name": "renamed", "e164_leading_plus": true,
			"tech_prefix": "99", "application_sid": app2, "is_active": false}).code)
		got := e.do("GET", carrierPath, a.key, nil).obj(t)
		require.Equal(t, "renamed", got["name"])
		require.Equal(t, true, got["e164_leading_plus"])
		require.Equal(t, "99", got["tech_prefix"])
		require.Equal(t, app2, got["application_sid"])
		require.Equal(t, false, got["is_active"])
		require.Equal(t, "pw1", got["register_password"], "a secret not sent is kept")
		r := e.do("PUT", carrierPath, a.key, map[string]any{"application_sid": e.create("/v1/Applications", e.accounts[1][0].key, appBody("x"))})
		require.Equal(t, 422, r.code, r.raw)
		require.Equal(t, 204, e.do("PUT", carrierPath, e.spKey[0], map[string]any{"description": "by provider"}).code)
		// In use by the number: 422 until the number goes.
		r = e.do("DELETE", carrierPath, a.key, nil)
		require.Equal(t, 422, r.code, r.raw)
		require.Equal(t, map[string]any{"msg": "resource is in use"}, r.obj(t))
		require.Equal(t, 204, e.do("DELETE", numPath, a.key, nil).code)
		e.requireDeleted(t, numPath, a.key)
		require.Equal(t, 204, e.do("DELETE", carrierPath, a.key, nil).code)
		e.requireDeleted(t, carrierPath, a.key)
	})
}
