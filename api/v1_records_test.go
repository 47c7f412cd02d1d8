package api

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/store"
)

func TestRecentCalls(t *testing.T) {
	e := newEnv(t)
	a, other := e.accounts[0][0], e.accounts[1][0]
	now := e.clock.now()
	var cdrs []store.CDR
	for i := range 60 {
		at := now.Add(-time.Duration(i) * 12 * time.Hour) // two a day, back 30 days
		c := store.CDR{CallSID: fmt.Sprintf("call-%02d", i), AccountSID: a.account, Direction: "inbound",
			From: "15550000001", To: "15550000002", CallID: fmt.Sprintf("cid-%d@host", i), SIPStatus: 200, Duration: i,
			AttemptedAt: at, TerminatedAt: at.Add(time.Minute), Answered: i%2 == 0}
		if i%3 == 0 {
			c.Direction, c.From, c.To = "outbound", "15550000002", "15550000003"
		}
		if c.Answered {
			ans := at.Add(time.Second)
			c.AnsweredAt = &ans
		}
		cdrs = append(cdrs, c)
	}
	cdrs = append(cdrs, store.CDR{CallSID: "foreign", AccountSID: other.account, Direction: "inbound", From: "15550000001",
		To: "15550000002", AttemptedAt: now, TerminatedAt: now})
	require.NoError(t, e.prov.WriteCDRs(context.Background(), cdrs))

	path := "/v1/Accounts/" + a.account + "/RecentCalls"
	cases := []struct {
		name               string
		query              url.Values
		code, total, batch int
	}{
		{"first page", url.Values{"page": {"1"}, "count": {"25"}}, 200, 60, 25},
		{"last page", url.Values{"page": {"3"}, "count": {"25"}}, 200, 60, 10},
		{"past the end", url.Values{"page": {"9"}, "count": {"25"}}, 200, 60, 0},
		{"500 per page", url.Values{"page": {"1"}, "count": {"500"}}, 200, 60, 60},
		{"inbound", url.Values{"page": {"1"}, "count": {"100"}, "direction": {"inbound"}}, 200, 40, 40},
		{"outbound", url.Values{"page": {"1"}, "count": {"100"}, "direction": {"outbound"}}, 200, 20, 20},
		{"answered", url.Values{"page": {"1"}, "count": {"100"}, "answered": {"true"}}, 200, 30, 30},
		{"not answered", url.Values{"page": {"1"}, "count": {"100"}, "answered": {"false"}}, 200, 30, 30},
		{"from", url.Values{"page": {"1"}, "count": {"100"}, "from": {"15550000002"}}, 200, 20, 20},
		{"to", url.Values{"page": {"1"}, "count": {"100"}, "to": {"15550000002"}}, 200, 40, 40},
		{"days", url.Values{"page": {"1"}, "count": {"100"}, "days": {"3"}}, 200, 7, 7},
		{"start and end", url.Values{"page": {"1"}, "count": {"100"},
			"start": {now.Add(-49 * time.Hour).Format(time.RFC3339)}, "end": {now.Add(-23 * time.Hour).Format(time.RFC3339)}}, 200, 3, 3},
		{"count over 500", url.Values{"page": {"1"}, "count": {"501"}}, 400, 0, 0},
		{"page 0", url.Values{"page": {"0"}, "count": {"25"}}, 400, 0, 0},
		{"bad direction", url.Values{"page": {"1"}, "count": {"25"}, "direction": {"sideways"}}, 400, 0, 0},
		{"bad answered", url.Values{"page": {"1"}, "count": {"25"}, "answered": {"maybe"}}, 400, 0, 0},
		{"bad start", url.Values{"page": {"1"}, "count": {"25"}, "start": {"yesterday"}}, 400, 0, 0},
		{"sql in a filter", url.Values{"page": {"1"}, "count": {"25"}, "from": {"' OR '1'='1"}}, 200, 0, 0},
		{"sql in to", url.Values{"page": {"1"}, "count": {"25"}, "to": {"x\"; DROP TABLE cdrs; --"}}, 200, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("GET", path+"?"+tc.query.Encode(), a.key, nil)
			require.Equal(t, tc.code, r.code, r.raw)
			m := r.obj(t)
			if tc.code != 200 {
				require.NotEmpty(t, m["msg"])
				return
			}
			require.Equal(t, float64(tc.total), m["total"])
			require.Equal(t, float64(tc.batch), m["batch"])
			require.Len(t, m["data"], tc.batch)
			require.NotContains(t, r.raw, "foreign")
		})
	}

	first := e.do("GET", path+"?page=1&count=25", a.key, nil).obj(t)["data"].([]any)[0].(map[string]any)
	require.Equal(t, "call-00", first["call_sid"], "newest first")
	require.Equal(t, "cid-0@host", first["sip_call_id"])
	require.Equal(t, float64(now.UnixMilli()), first["attempted_at"], "times in ms since the epoch")
	require.Equal(t, true, first["answered"])

	// The same query for the provider and the admin sees the account's calls only.
	for _, key := range []string{e.spKey[0], e.admin} {
		m := e.do("GET", path+"?page=1&count=25", key, nil).obj(t)
		require.Equal(t, float64(60), m["total"])
	}
	require.Equal(t, 404, e.do("GET", path+"?page=1&count=25", other.key, nil).code)

	// A provider's page spans its accounts, never another provider's.
	spPath := "/v1/ServiceProviders/" + e.sp[0] + "/RecentCalls?page=1&count=100"
	r := e.do("GET", spPath, e.spKey[0], nil)
	require.Equal(t, 200, r.code, r.raw)
	require.Equal(t, float64(60), r.obj(t)["total"])
	require.NotContains(t, r.raw, "foreign")
	require.Equal(t, 404, e.do("GET", spPath, e.spKey[1], nil).code)
	require.Equal(t, 403, e.do("GET", spPath, a.key, nil).code)
	r = e.do("GET", "/v1/ServiceProviders/"+e.sp[1]+"/RecentCalls?page=1&count=100", e.admin, nil)
	require.Equal(t, float64(1), r.obj(t)["total"])
}

func TestAlerts(t *testing.T) {
	e := newEnv(t)
	a := e.accounts[0][0]
	now := e.clock.now()
	var alerts []store.Alert
	for i := range 30 {
		typ := "webhook-failure"
		if i%2 == 1 {
			typ = "no-tts"
		}
		alerts = append(alerts, store.Alert{AccountSID: a.account, AlertType: typ, Message: fmt.Sprint("alert ", i),
			CreatedAt: now.Add(-time.Duration(i) * time.Hour)})
	}
	alerts = append(alerts, store.Alert{AccountSID: e.accounts[0][1].account, AlertType: "no-tts", Message: "sibling's"})
	require.NoError(t, e.prov.WriteAlerts(context.Background(), alerts))
	r := e.do("GET", "/v1/ServiceProviders/"+e.sp[0]+"/Alerts?page=1&count=100", e.spKey[0], nil)
	require.Equal(t, float64(31), r.obj(t)["total"], "the provider sees its accounts' alerts")
	require.Equal(t, 404, e.do("GET", "/v1/ServiceProviders/"+e.sp[0]+"/Alerts", e.spKey[1], nil).code)
	path := "/v1/Accounts/" + a.account + "/Alerts"

	cases := []struct {
		name               string
		query              string
		code, total, batch int
	}{
		{"page 1", "page=1&count=25", 200, 30, 25},
		{"page 2", "page=2&count=25", 200, 30, 5},
		{"by type", "page=1&count=100&alert_type=no-tts", 200, 15, 15},
		{"last day", "page=1&count=100&days=1", 200, 25, 25},
		{"bad count", "page=1&count=0", 400, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("GET", path+"?"+tc.query, a.key, nil)
			require.Equal(t, tc.code, r.code, r.raw)
			if tc.code != 200 {
				return
			}
			m := r.obj(t)
			require.Equal(t, float64(tc.total), m["total"])
			require.Equal(t, float64(tc.batch), m["batch"])
			require.NotContains(t, r.raw, "sibling's")
			item := m["data"].([]any)[0].(map[string]any)
			require.Equal(t, a.account, item["account_sid"])
			for _, k := range []string{"time", "account_sid", "alert_type", "message"} {
				require.Contains(t, item, k)
			}
		})
	}
}

func TestLiveState(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a, sib := e.accounts[0][0], e.accounts[0][1]
	realm := e.realm[0][0]
	exp := e.clock.now().Add(time.Hour)
	require.NoError(t, e.live.Register(ctx, store.Registration{Name: "alice", Domain: realm, Contact: "sip:alice@198.51.100.7:5060",
		Transport: "udp", ExpiresAt: exp}, time.Hour))
	require.NoError(t, e.live.Register(ctx, store.Registration{Name: "bob", Domain: e.realm[0][1], Contact: "sip:bob@x", ExpiresAt: exp}, time.Hour))
	e.create("/v1/Clients", a.key, map[string]any{"username": "alice", "password": "pw", "allow_direct_queue_calling": false})
	_, err := e.live.Enqueue(ctx, a.account, "support", store.QueueEntry{CallSID: "c1"})
	require.NoError(t, err)
	_, err = e.live.Enqueue(ctx, a.account, "support", store.QueueEntry{CallSID: "c2"})
	require.NoError(t, err)
	_, err = e.live.Enqueue(ctx, sib.account, "sales", store.QueueEntry{CallSID: "c3"})
	require.NoError(t, err)
	_, err = e.live.JoinConference(ctx, a.account, "standup", store.ConferenceMember{CallSID: "c4"})
	require.NoError(t, err)
	for sid, dir := range map[string]string{"i1": "inbound", "i2": "inbound", "o1": "outbound"} {
		require.NoError(t, e.live.PutCall(ctx, a.account, sid, map[string]string{"direction": dir, "call_status": "in-progress"}))
	}
	require.NoError(t, e.live.PutCall(ctx, a.account, "done", map[string]string{"direction": "inbound", "call_status": "completed"}))
	require.NoError(t, e.live.PutCall(ctx, sib.account, "s1", map[string]string{"direction": "inbound", "call_status": "in-progress"}))

	p := "/v1/Accounts/" + a.account
	cases := []struct {
		name, path, want string
	}{
		{"registered users", p + "/RegisteredSipUsers", `["alice@` + realm + `"]`},
		{"queues", p + "/Queues", `[{"name":"support","length":2}]`},
		{"queues by search", p + "/Queues?search=sales", `[]`},
		{"conferences", p + "/Conferences", `["standup"]`},
		{"call count", p + "/CallCount", `{"inbound":2,"outbound":1}`},
		{"one registration", p + "/RegisteredSipUsers/alice", `{"name":"alice","contact":"sip:alice@198.51.100.7:5060",
			"expiryTime":` + fmt.Sprint(exp.UnixMilli()) + `,"protocol":"udp","allow_direct_app_calling":1,
			"allow_direct_queue_calling":0,"allow_direct_user_calling":1,"registered_status":"active","proxy":null}`},
		{"a sibling's user is not registered here", p + "/RegisteredSipUsers/bob", `{"name":"bob","contact":null,"expiryTime":0,
			"protocol":null,"allow_direct_app_calling":0,"allow_direct_queue_calling":0,"allow_direct_user_calling":0,
			"registered_status":"inactive","proxy":null}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("GET", tc.path, a.key, nil)
			require.Equal(t, 200, r.code, r.raw)
			require.JSONEq(t, tc.want, r.raw)
		})
	}

	t.Run("registrations by name", func(t *testing.T) {
		r := e.do("POST", p+"/RegisteredSipUsers", a.key, `["alice","bob"]`)
		require.Equal(t, 200, r.code, r.raw)
		require.JSONEq(t, `[{"name":"alice","contact":"sip:alice@198.51.100.7:5060","expiryTime":`+fmt.Sprint(exp.UnixMilli())+
			`,"protocol":"udp","registered_status":"active"},
			{"name":"bob","contact":null,"expiryTime":0,"protocol":null,"registered_status":"inactive"}]`, r.raw)
		r = e.do("POST", p+"/RegisteredSipUsers", a.key, nil)
		require.Equal(t, 200, r.code, r.raw)
		require.Len(t, r.arr(t), 1)
		require.Equal(t, 400, e.do("POST", p+"/RegisteredSipUsers", a.key, `{"name":"alice"}`).code)
		require.Equal(t, 404, e.do("POST", p+"/RegisteredSipUsers", e.accounts[1][0].key, `["alice"]`).code)
	})

	t.Run("no live store", func(t *testing.T) {
		e2 := newEnv(t, func(c *Config) { c.Live = nil })
		a2 := e2.accounts[0][0]
		r := e2.do("GET", "/v1/Accounts/"+a2.account+"/CallCount", a2.key, nil)
		require.Equal(t, 503, r.code)
		require.Equal(t, 404, e2.do("GET", "/v1/Accounts/"+e2.accounts[1][0].account+"/CallCount", a2.key, nil).code)
	})
}
