package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/store"
	"github.com/voxrun/voxrun/store/memory"
	sqlstore "github.com/voxrun/voxrun/store/sql"
)

// fakeClock is the injected clock of the rate limiter and of RecentCalls.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// tenant is one account of the test platform and its key.
type tenant struct {
	sp, account, key string
}

// env is a voxrun API server on a real SQLite provisioning store and an
// in-memory live store, with two service providers of two accounts each.
type env struct {
	t     *testing.T
	srv   *Server
	prov  *sqlstore.DB
	live  *memory.Store
	clock *fakeClock

	admin    string       // the admin key
	spKey    [2]string    // the providers' keys
	sp       [2]string    // the providers' sids
	accounts [2][2]tenant // accounts[sp][n]
	realm    [2][2]string // sip realms
}

type envOption func(*Config)

func newEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	return newEnvOn(t, sqlstore.DriverSQLite, filepath.Join(t.TempDir(), "voxrun.db"), opts...)
}

// newEnvOn is newEnv on the given provisioning database (MariaDB for the
// tests that must hold on both dialects).
func newEnvOn(t *testing.T, driver, dsn string, opts ...envOption) *env {
	t.Helper()
	ctx := context.Background()
	sealer, err := store.NewSealer(bytes.Repeat([]byte{7}, store.KeySize))
	require.NoError(t, err)
	db, err := sqlstore.Open(ctx, sqlstore.Config{Driver: driver, DSN: dsn, Sealer: sealer})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	_, err = db.Migrate(ctx)
	require.NoError(t, err)
	live := memory.New()
	t.Cleanup(func() { _ = live.Close() })

	e := &env{t: t, prov: db, live: live, clock: &fakeClock{t: time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)}}
	e.admin = e.makeKey(store.Admin(), store.APIKey{})
	for i := range 2 {
		sp, err := db.ServiceProviders(store.Admin()).Create(ctx, &store.ServiceProvider{Name: "sp" + string(rune('A'+i))})
		require.NoError(t, err)
		e.sp[i] = sp
		e.spKey[i] = e.makeKey(store.ForServiceProvider(sp), store.APIKey{ServiceProviderSID: sp})
		for j := range 2 {
			realm := "r" + string(rune('a'+i)) + string(rune('0'+j)) + ".sip.example.com"
			acct, err := db.Accounts(store.ForServiceProvider(sp)).Create(ctx, &store.Account{
				Name: "acct" + realm, SIPRealm: realm, IsActive: true, WebhookSecret: "wh_secret_initial"})
			require.NoError(t, err)
			key := e.makeKey(store.ForAccount(sp, acct), store.APIKey{AccountSID: acct})
			e.accounts[i][j] = tenant{sp: sp, account: acct, key: key}
			e.realm[i][j] = realm
		}
	}
	cfg := Config{
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		Provisioning: db,
		Live:         live,
		Now:          e.clock.now,
		RateLimit:    RateLimit{Disabled: true},
		CompileJS:    compileJS,
	}
	for _, o := range opts {
		o(&cfg)
	}
	e.srv = New(cfg)
	return e
}

func (e *env) makeKey(s store.Scope, k store.APIKey) string {
	e.t.Helper()
	_, err := e.prov.APIKeys(s).Create(context.Background(), &k)
	require.NoError(e.t, err)
	require.NotEmpty(e.t, k.Token)
	return k.Token
}

// resp is one answer of the server.
type resp struct {
	code int
	raw  string
	hdr  map[string]string
}

// obj decodes the body as an object.
func (r resp) obj(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.raw), &m), r.raw)
	return m
}

// arr decodes the body as an array of objects.
func (r resp) arr(t *testing.T) []map[string]any {
	t.Helper()
	var a []map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.raw), &a), r.raw)
	return a
}

// do sends one request; body is marshalled unless it is a string or []byte.
func (e *env) do(method, path, key string, body any) resp {
	e.t.Helper()
	return e.doFrom("192.0.2.1", method, path, key, body)
}

func (e *env) doFrom(addr, method, path, key string, body any) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(e.t, err)
		rd = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, path, rd)
	req.RemoteAddr = addr + ":40000"
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	return e.send(req)
}

// send serves one request and reads the whole answer.
func (e *env) send(req *http.Request) resp {
	e.t.Helper()
	res, err := e.srv.App().Test(req, -1)
	require.NoError(e.t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(e.t, err)
	hdr := map[string]string{}
	for k := range res.Header {
		hdr[k] = res.Header.Get(k)
	}
	return resp{code: res.StatusCode, raw: string(raw), hdr: hdr}
}

// create posts body and returns the new sid, requiring 201 {"sid"}.
func (e *env) create(path, key string, body any) string {
	e.t.Helper()
	r := e.do("POST", path, key, body)
	require.Equal(e.t, 201, r.code, "POST %s: %s", path, r.raw)
	m := r.obj(e.t)
	sid, _ := m["sid"].(string)
	require.NotEmpty(e.t, sid, r.raw)
	return sid
}

// doHeader sends a GET with a raw Authorization header.
func (e *env) doHeader(method, path, auth string) resp {
	e.t.Helper()
	req := httptest.NewRequest(method, path, nil)
	req.Header.Set("Authorization", auth)
	res, err := e.srv.App().Test(req, -1)
	require.NoError(e.t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(e.t, err)
	return resp{code: res.StatusCode, raw: string(raw)}
}
