package api

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/runtime"
	"github.com/voxrun/voxrun/store"
)

// recordingCreator is a CallCreator that records the calls it is asked for.
type recordingCreator struct {
	mu   sync.Mutex
	got  []NewCall
	accs []string
	err  error
}

func (r *recordingCreator) CreateCall(_ context.Context, acct store.Account, call NewCall) (string, string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return "", "", r.err
	}
	r.got = append(r.got, call)
	r.accs = append(r.accs, acct.AccountSID)
	return "call-sid-1", "call-id-1@voxrun", nil
}

func TestCreateCall(t *testing.T) {
	cr := &recordingCreator{}
	e := newEnv(t, func(c *Config) { c.Creator = cr })
	a, other := e.accounts[0][0], e.accounts[1][0]
	app := e.create("/v1/Applications", a.key, map[string]any{"name": "outbound app", "account_sid": a.account,
		"call_hook": map[string]any{"url": "https://example.com/call"}})
	foreign := e.create("/v1/Applications", other.key, map[string]any{"name": "theirs", "account_sid": other.account,
		"call_hook": map[string]any{"url": "https://example.com/call"}})
	base := "/v1/Accounts/" + a.account + "/Calls"

	r := e.do("POST", base, a.key, map[string]any{"application_sid": app, "from": "+15551110000",
		"to": map[string]any{"type": "phone", "number": "+15552220000"}, "timeout": 20, "timeLimit": 60,
		"headers": map[string]any{"X-Campaign": "spring"}, "tag": map[string]any{"lead": 7}})
	require.Equal(t, 201, r.code, r.raw)
	require.Equal(t, map[string]any{"sid": "call-sid-1", "callId": "call-id-1@voxrun"}, r.obj(t))
	cr.mu.Lock()
	got := cr.got[0]
	require.Equal(t, a.account, cr.accs[0])
	cr.mu.Unlock()
	require.Equal(t, app, got.Application.ApplicationSID)
	require.Equal(t, runtime.Target{Type: "phone", Number: "+15552220000"}, got.To)
	require.Equal(t, 20*time.Second, got.Timeout)
	require.Equal(t, time.Minute, got.TimeLimit)
	require.Equal(t, "spring", got.Headers["X-Campaign"])
	require.JSONEq(t, `{"lead":7}`, string(got.Tag))

	for _, uri := range []string{"sip:bob@example.com", "sip:desk@10.0.0.5:5080;transport=tcp", "SIP:carrier.example.com", "sip:+15551234567@[::1]:5060"} {
		r := e.do("POST", base, a.key, map[string]any{"app_json": `[{"verb":"hangup"}]`, "from": "alice", "to": map[string]any{"type": "sip", "sipUri": uri}})
		require.Equal(t, 201, r.code, "%s: %s", uri, r.raw)
	}
	cr.mu.Lock()
	cr.got = cr.got[:1]
	cr.accs = cr.accs[:1]
	cr.mu.Unlock()
	r = e.do("POST", base, a.key, map[string]any{"call_hook": "https://example.com/c", "call_status_hook": map[string]any{"url": "https://example.com/s"},
		"from": "alice", "to": map[string]any{"type": "sip", "sipUri": "sip:bob@example.com"}})
	require.Equal(t, 201, r.code, r.raw)
	r = e.do("POST", base, a.key, map[string]any{"app_json": `[{"verb":"hangup"}]`, "from": "alice", "to": map[string]any{"type": "user", "name": "carol"}})
	require.Equal(t, 201, r.code, r.raw)
	cr.mu.Lock()
	require.Equal(t, "https://example.com/c", cr.got[1].CallHook.URL)
	require.Equal(t, "https://example.com/s", cr.got[1].CallStatusHook.URL)
	require.JSONEq(t, `[{"verb":"hangup"}]`, string(cr.got[2].AppJSON))
	cr.mu.Unlock()

	bad := []struct {
		name string
		body map[string]any
		code int
	}{
		{"no to", map[string]any{"application_sid": app, "from": "x"}, 400},
		{"bad target", map[string]any{"application_sid": app, "from": "x", "to": map[string]any{"type": "fax", "number": "1"}}, 400},
		{"no from", map[string]any{"application_sid": app, "to": map[string]any{"type": "phone", "number": "1"}}, 400},
		{"no app", map[string]any{"from": "x", "to": map[string]any{"type": "phone", "number": "1"}}, 400},
		{"two apps", map[string]any{"application_sid": app, "call_hook": "https://example.com", "from": "x", "to": map[string]any{"type": "phone", "number": "1"}}, 400},
		{"another tenant's app", map[string]any{"application_sid": foreign, "from": "x", "to": map[string]any{"type": "phone", "number": "1"}}, 422},
		{"bad timeout", map[string]any{"application_sid": app, "from": "x", "to": map[string]any{"type": "phone", "number": "1"}, "timeout": -1}, 400},
		{"app_json not verbs", map[string]any{"app_json": `{"verb":"hangup"}`, "from": "x", "to": map[string]any{"type": "phone", "number": "1"}}, 400},
		{"sip target not sip", map[string]any{"application_sid": app, "from": "x", "to": map[string]any{"type": "sip", "sipUri": "http://x"}}, 400},
		{"sip target with spaces", map[string]any{"application_sid": app, "from": "x", "to": map[string]any{"type": "sip", "sipUri": "sip:bob smith@example.com"}}, 400},
		{"sip target with two @", map[string]any{"application_sid": app, "from": "x", "to": map[string]any{"type": "sip", "sipUri": "sip:a@b@c"}}, 400},
		{"bad fromHost", map[string]any{"application_sid": app, "from": "x", "fromHost": "a b<c>", "to": map[string]any{"type": "phone", "number": "1"}}, 400},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("POST", base, a.key, tc.body)
			require.Equal(t, tc.code, r.code, r.raw)
			require.NotEmpty(t, r.obj(t)["msg"])
		})
	}
	// Another tenant's key cannot place calls for this account.
	require.Equal(t, 404, e.do("POST", base, other.key, map[string]any{"application_sid": app, "from": "x",
		"to": map[string]any{"type": "phone", "number": "1"}}).code)

	// The runtime's refusals.
	cr.mu.Lock()
	cr.err = runtime.ErrDraining
	cr.mu.Unlock()
	r = e.do("POST", base, a.key, map[string]any{"application_sid": app, "from": "x", "to": map[string]any{"type": "phone", "number": "1"}})
	require.Equal(t, 503, r.code, r.raw)
	cr.mu.Lock()
	cr.err = &runtime.PlaceError{Status: 403, Reason: "account not allowed"}
	cr.mu.Unlock()
	r = e.do("POST", base, a.key, map[string]any{"application_sid": app, "from": "x", "to": map[string]any{"type": "phone", "number": "1"}})
	require.Equal(t, 422, r.code, r.raw)
}

func TestCreateCallWithoutOutboundIs503(t *testing.T) {
	e := newEnv(t)
	a := e.accounts[0][0]
	r := e.do("POST", "/v1/Accounts/"+a.account+"/Calls", a.key, map[string]any{"call_hook": "https://example.com/c", "from": "x",
		"to": map[string]any{"type": "phone", "number": "1"}})
	require.Equal(t, 503, r.code, r.raw)
}
