package registrar_test

import (
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/apps"
	"github.com/voxrun/voxrun/apps/webhook"
	"github.com/voxrun/voxrun/sip/admission"
	"github.com/voxrun/voxrun/sip/registrar"
	"github.com/voxrun/voxrun/sip/siptest"
	"github.com/voxrun/voxrun/store"
)

// webhookSender is the adapter cmd writes: apps/webhook's client (the
// guarded dialer, JSON as JSON.stringify writes it, Jambonz-Signature,
// basic auth, retries and timeouts) through Exchange, which returns the
// reply body as it came.
type webhookSender struct {
	client *webhook.Client
}

var _ registrar.HookSender = (*webhookSender)(nil)

func newWebhookSender(t *testing.T) *webhookSender {
	guard, err := webhook.NewGuard(webhook.LoopbackAllow, time.Second)
	require.NoError(t, err)
	c, err := webhook.NewClient(webhook.Options{Guard: guard, Timeout: 2 * time.Second})
	require.NoError(t, err)
	return &webhookSender{client: c}
}

func (s *webhookSender) SendHook(ctx context.Context, req registrar.HookRequest) ([]byte, error) {
	return s.client.Exchange(ctx, apps.Request{
		Hook:    apps.Hook{URL: req.URL, Method: req.Method, Username: req.Username, Password: req.Password},
		Payload: req.Payload,
		Secret:  req.Secret,
	})
}

// customer is the customer's registration hook server: it checks the
// signature and basic auth, recomputes the digest with its own password
// and answers ok or fail.
type customer struct {
	t        *testing.T
	mu       sync.Mutex
	payloads []map[string]any
	reply    func(p map[string]any, match bool) string
}

func (c *customer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	user, pass, ok := r.BasicAuth()
	if !ok || user != "hookuser" || pass != "hookpass" {
		http.Error(w, "auth", http.StatusUnauthorized)
		return
	}
	// Jambonz-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, t.body)>
	sig := r.Header.Get(webhook.SignatureHeader)
	ts, v1, _ := strings.Cut(strings.TrimPrefix(sig, "t="), ",v1=")
	m := hmac.New(sha256.New, []byte("hook-secret"))
	m.Write([]byte(ts + "." + string(body)))
	if !hmac.Equal([]byte(hex.EncodeToString(m.Sum(nil))), []byte(v1)) {
		http.Error(w, "signature", http.StatusForbidden)
		return
	}
	var p map[string]any
	if err := json.Unmarshal(body, &p); err != nil {
		http.Error(w, "json", http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	c.payloads = append(c.payloads, p)
	c.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, c.reply(p, expectedResponse(p, password) == p["response"]))
}

func (c *customer) last() map[string]any {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.payloads) == 0 {
		return nil
	}
	return c.payloads[len(c.payloads)-1]
}

// expectedResponse is the digest response (RFC 7616 §3.4.1) a customer
// computes from the payload and the user's password.
func expectedResponse(p map[string]any, pass string) string {
	s := func(k string) string { v, _ := p[k].(string); return v }
	var h func() hash.Hash = md5.New
	if strings.EqualFold(s("algorithm"), "SHA-256") {
		h = sha256.New
	}
	hx := func(parts ...string) string {
		d := h()
		d.Write([]byte(strings.Join(parts, ":")))
		return hex.EncodeToString(d.Sum(nil))
	}
	ha1 := hx(s("username"), s("realm"), pass)
	ha2 := hx(s("method"), s("uri"))
	return hx(ha1, s("nonce"), s("nc"), s("cnonce"), s("qop"), ha2)
}

func TestRegistrationHook(t *testing.T) {
	c := &customer{t: t, reply: func(p map[string]any, match bool) string {
		switch {
		case p["username"] == "mallory":
			return `{"status":"fail","msg":"spammer","blacklist":true}`
		case p["username"] == "broken":
			return `{"verdict":"yes"}`
		case match:
			return `{"status":"ok","expires":120,"application_sid":"app-1"}`
		}
		return `{"status":"fail","message":"invalid password"}`
	}}
	hs := httptest.NewServer(c)
	defer hs.Close()
	ids := make(chan registrar.Identity, 1)
	e := newEnv(t, options{hooks: newWebhookSender(t), lockout: admission.LockoutConfig{MaxFailures: 5, LockFor: time.Minute},
		invite: func(id registrar.Identity) { ids <- id }})
	ctx := context.Background()
	require.NoError(t, e.db.Accounts(e.spScope).Update(ctx, e.hooked.AccountSID, store.Patch{
		"registration_hook": &store.Webhook{URL: hs.URL + "/auth", Username: "hookuser", Password: "hookpass"}}))

	cases := []struct {
		name, local, user, pass string
		extra                   []string
		status, expires         int
	}{
		{name: "customer admits", local: "127.0.0.2", user: "dave", pass: password, extra: []string{"Expires: 600"}, status: 200, expires: 120},
		{name: "customer refuses", local: "127.0.0.2", user: "dave", pass: "guess", status: 403},
		{name: "customer reply malformed", local: "127.0.0.2", user: "broken", pass: password, status: 500},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := newUA(t, e, tc.local, tc.user, hookRealm)
			res := u.register(tc.pass, request{extra: tc.extra})
			require.Equal(t, tc.status, siptest.Status(res), string(res))
			p := c.last()
			require.NotNil(t, p)
			for _, k := range []string{"method", "realm", "username", "nonce", "uri", "response", "algorithm", "qop", "cnonce", "nc", "source_address", "source_port", "scheme"} {
				require.Contains(t, p, k)
			}
			require.Equal(t, "REGISTER", p["method"])
			require.Equal(t, hookRealm, p["realm"])
			require.Equal(t, tc.user, p["username"])
			require.Equal(t, tc.local, p["source_address"])
			require.EqualValues(t, u.local().Port(), p["source_port"])
			require.Equal(t, "00000001", p["nc"])
			if tc.status != 200 {
				return
			}
			require.EqualValues(t, 600, p["expires"])
			reg, err := e.live.Registration(ctx, tc.user, hookRealm)
			require.NoError(t, err)
			require.Contains(t, siptest.Header(res, "Contact"), fmt.Sprintf("expires=%d", tc.expires))
			require.WithinDuration(t, time.Now().Add(time.Duration(tc.expires)*time.Second), reg.ExpiresAt, 3*time.Second)
		})
	}

	t.Run("nonce count replayed to the hook", func(t *testing.T) {
		u := newUA(t, e, "127.0.0.3", "erin", hookRealm)
		ch := u.challenge(request{})
		authz := "Authorization: " + credentials(t, ch[1], "REGISTER", "sip:"+hookRealm, "erin", password, 1)
		require.Equal(t, 200, siptest.Status(u.send(request{extra: []string{authz}})))
		before := c.last()
		require.Equal(t, 401, siptest.Status(u.send(request{extra: []string{authz}})))
		require.Equal(t, before, c.last(), "a replay never reaches the customer")
	})

	t.Run("INVITE through the hook", func(t *testing.T) {
		u := newUA(t, e, "127.0.0.3", "erin", hookRealm)
		res := u.register(password, request{method: "INVITE", ruri: "sip:15551230001@" + hookRealm, contact: "-"})
		require.Equal(t, 486, siptest.Status(res), "the handler ran after authentication")
		id := <-ids
		require.Equal(t, "erin", id.Username)
		require.True(t, id.ViaHook)
		require.Equal(t, "app-1", id.ApplicationSID)
		require.Equal(t, "INVITE", c.last()["method"])
		require.NotContains(t, c.last(), "expires")
	})

	t.Run("blacklist bans the source", func(t *testing.T) {
		u := newUA(t, e, "127.0.0.4", "mallory", hookRealm)
		require.Equal(t, 403, siptest.Status(u.register(password, request{})))
		good := newUA(t, e, "127.0.0.4", "dave", hookRealm)
		good.sendUnanswered(request{}) // the source is banned
		require.Contains(t, e.logs.String(), "blacklisted by the registration hook")
	})

	t.Run("customer unreachable", func(t *testing.T) {
		hs.Close()
		u := newUA(t, e, "127.0.0.5", "dave", hookRealm)
		res := u.register(password, request{})
		require.Equal(t, 503, siptest.Status(res), string(res))
		require.NotEmpty(t, siptest.Header(res, "Retry-After"))
	})
}

func TestParseHookReply(t *testing.T) {
	cases := []struct {
		name string
		body string
		want registrar.HookReply
		err  bool
	}{
		{"ok", `{"status":"ok"}`, registrar.HookReply{OK: true}, false},
		{"ok with expires", `{"status":"ok","expires":300.0,"application_sid":"a"}`, registrar.HookReply{OK: true, Expires: 300, ApplicationSID: "a"}, false},
		{"fail with message", `{"status":"fail","message":"no"}`, registrar.HookReply{Message: "no"}, false},
		{"fail with msg", `{"status":"fail","msg":"no"}`, registrar.HookReply{Message: "no"}, false},
		{"blacklist true", `{"status":"fail","blacklist":true}`, registrar.HookReply{Blacklist: true}, false},
		{"blacklist object", `{"status":"fail","blacklist":{"expires":3600}}`, registrar.HookReply{Blacklist: true}, false},
		{"blacklist false", `{"status":"fail","blacklist":false}`, registrar.HookReply{}, false},
		{"negative expires ignored", `{"status":"ok","expires":-5}`, registrar.HookReply{OK: true}, false},
		{"unknown status", `{"status":"maybe"}`, registrar.HookReply{}, true},
		{"no status", `{}`, registrar.HookReply{}, true},
		{"not json", `ok`, registrar.HookReply{}, true},
		{"verb array", `[]`, registrar.HookReply{}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := registrar.ParseHookReply([]byte(tc.body))
			if tc.err {
				require.ErrorIs(t, err, registrar.ErrHookReply)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}
