package storetest

import (
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/store"
)

// raw returns the store's database/sql handle, or skips the at-rest checks.
func raw(t *testing.T, p store.Provisioning) *sql.DB {
	t.Helper()
	r, ok := p.(RawSQL)
	if !ok {
		t.Skip("the store exposes no SQL handle: at-rest checks do not apply")
	}
	return r.SQL()
}

func rawString(t *testing.T, db *sql.DB, query string, args ...any) string {
	t.Helper()
	var s sql.NullString
	require.NoError(t, db.QueryRowContext(t.Context(), query, args...).Scan(&s))
	return s.String
}

func rawCount(t *testing.T, db *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, db.QueryRowContext(t.Context(), query, args...).Scan(&n))
	return n
}

func testHooks(t *testing.T, p store.Provisioning) {
	ctx := t.Context()
	tn := newTenant(t, p, newSP(t, p))
	r := p.Applications(tn.scope())
	app := &store.Application{Name: unique("hooks"),
		CallHook:       &store.Webhook{URL: "https://h.example.com/call", Method: "GET", Username: "u", Password: "p"},
		CallStatusHook: &store.Webhook{URL: "https://h.example.com/status"},
		FallbackHook:   &store.Webhook{URL: "https://h.example.com/fallback"}}
	sid, err := r.Create(ctx, app)
	require.NoError(t, err)
	require.NotEmpty(t, app.CallHook.WebhookSID)
	require.Equal(t, "POST", app.CallStatusHook.Method, "the method defaults to POST")

	got, err := r.Get(ctx, sid)
	require.NoError(t, err)
	require.Equal(t, store.Webhook{WebhookSID: app.CallHook.WebhookSID, URL: "https://h.example.com/call", Method: "GET", Username: "u", Password: "p"}, *got.CallHook)
	require.Nil(t, got.MessagingHook)

	list, err := r.List(ctx, store.Filter{"application_sid": sid})
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, got, list[0], "List loads hooks like Get")

	callHookSID := app.CallHook.WebhookSID
	statusHookSID := app.CallStatusHook.WebhookSID
	require.NoError(t, r.Update(ctx, sid, store.Patch{
		"call_hook":        &store.Webhook{URL: "https://h.example.com/call2"},
		"call_status_hook": nil,
		"messaging_hook":   store.Webhook{URL: "https://h.example.com/sms"},
	}))
	got, err = r.Get(ctx, sid)
	require.NoError(t, err)
	require.Equal(t, "https://h.example.com/call2", got.CallHook.URL)
	require.Equal(t, "POST", got.CallHook.Method)
	require.Empty(t, got.CallHook.Username, "a replaced hook is replaced whole")
	require.Equal(t, callHookSID, got.CallHook.WebhookSID, "replacing keeps the webhook row")
	require.Nil(t, got.CallStatusHook)
	require.Equal(t, "https://h.example.com/sms", got.MessagingHook.URL)
	require.NotNil(t, got.FallbackHook, "untouched hooks stay")

	byHook, err := r.List(ctx, store.Filter{"call_hook_sid": callHookSID})
	require.NoError(t, err)
	require.Len(t, byHook, 1)

	require.NoError(t, r.Delete(ctx, sid))
	if rp, ok := p.(RawSQL); ok {
		db := rp.SQL()
		for _, hs := range []string{callHookSID, statusHookSID, got.MessagingHook.WebhookSID, got.FallbackHook.WebhookSID} {
			require.Zero(t, rawCount(t, db, "SELECT COUNT(*) FROM `webhooks` WHERE `webhook_sid` = ?", hs),
				"webhook rows go with their parent (and a cleared hook's row at once)")
		}
	}

	// Hooks of service providers and accounts work the same way.
	acct := p.Accounts(store.ForServiceProvider(tn.sp))
	require.NoError(t, acct.Update(ctx, tn.account, store.Patch{"registration_hook": &store.Webhook{URL: "https://reg.example.com"}}))
	a, err := acct.Get(ctx, tn.account)
	require.NoError(t, err)
	require.Equal(t, "https://reg.example.com", a.RegistrationHook.URL)
	require.Nil(t, a.QueueEventHook)
}

// secretColumns are the columns sealed at rest, with a query that reads the
// raw value of one row by sid.
func testSecrets(t *testing.T, p store.Provisioning) {
	ctx := t.Context()
	db := raw(t, p)
	tn := newTenant(t, p, newSP(t, p))
	s := tn.scope()
	app, err := p.Applications(s).Create(ctx, &store.Application{Name: unique("sec"), EnvVars: `{"API_TOKEN":"app-env-secret"}`,
		CallHook: &store.Webhook{URL: "https://s.example.com", Username: "u", Password: "hook-secret"}})
	require.NoError(t, err)
	jsApp, err := p.JSApps(s).Create(ctx, &store.JSApp{Name: unique("sec"), SecretEnvVars: `{"K":"js-env-secret"}`})
	require.NoError(t, err)
	carrier, err := p.VoipCarriers(s).Create(ctx, &store.VoipCarrier{Name: unique("sec"), RegisterPassword: "reg-secret", InboundAuthPassword: "inbound-secret"})
	require.NoError(t, err)
	gotApp, err := p.Applications(s).Get(ctx, app)
	require.NoError(t, err)

	cases := []struct {
		name, query, sid, plain string
		get                     func() (string, error)
	}{
		{"account webhook_secret", "SELECT `webhook_secret` FROM `accounts` WHERE `account_sid` = ?", tn.account, "", func() (string, error) {
			a, err := p.Accounts(s).Get(ctx, tn.account)
			return a.WebhookSecret, err
		}},
		{"webhook password", "SELECT `password` FROM `webhooks` WHERE `webhook_sid` = ?", gotApp.CallHook.WebhookSID, "hook-secret", func() (string, error) {
			a, err := p.Applications(s).Get(ctx, app)
			return a.CallHook.Password, err
		}},
		{"application env_vars", "SELECT `env_vars` FROM `applications` WHERE `application_sid` = ?", app, `{"API_TOKEN":"app-env-secret"}`, func() (string, error) {
			a, err := p.Applications(s).Get(ctx, app)
			return a.EnvVars, err
		}},
		{"carrier register_password", "SELECT `register_password` FROM `voip_carriers` WHERE `voip_carrier_sid` = ?", carrier, "reg-secret", func() (string, error) {
			c, err := p.VoipCarriers(s).Get(ctx, carrier)
			return c.RegisterPassword, err
		}},
		{"carrier inbound_auth_password", "SELECT `inbound_auth_password` FROM `voip_carriers` WHERE `voip_carrier_sid` = ?", carrier, "inbound-secret", func() (string, error) {
			c, err := p.VoipCarriers(s).Get(ctx, carrier)
			return c.InboundAuthPassword, err
		}},
		{"client password", "SELECT `password` FROM `clients` WHERE `client_sid` = ?", tn.client, "client-secret", func() (string, error) {
			c, err := p.Clients(s).Get(ctx, tn.client)
			return c.Password, err
		}},
		{"speech credential", "SELECT `credential` FROM `speech_credentials` WHERE `speech_credential_sid` = ?", tn.speech, `{"key":"speech-secret"}`, func() (string, error) {
			c, err := p.SpeechCredentials(s).Get(ctx, tn.speech)
			return c.Credential, err
		}},
		{"js app secret_env_vars", "SELECT `secret_env_vars` FROM `js_apps` WHERE `js_app_sid` = ?", jsApp, `{"K":"js-env-secret"}`, func() (string, error) {
			j, err := p.JSApps(s).Get(ctx, jsApp)
			return j.SecretEnvVars, err
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			plain, err := c.get()
			require.NoError(t, err)
			if c.plain != "" {
				require.Equal(t, c.plain, plain, "Get returns the plaintext")
			}
			require.NotEmpty(t, plain)
			stored := rawString(t, db, c.query, c.sid)
			require.True(t, strings.HasPrefix(stored, store.SealedPrefix), "stored value %q is sealed", stored)
			require.NotContains(t, stored, plain, "the plaintext is not stored")
		})
	}

	// Patching a secret seals the new value too.
	require.NoError(t, p.Clients(s).Update(ctx, tn.client, store.Patch{"password": "patched-secret"}))
	stored := rawString(t, db, "SELECT `password` FROM `clients` WHERE `client_sid` = ?", tn.client)
	require.True(t, strings.HasPrefix(stored, store.SealedPrefix))
	require.NotContains(t, stored, "patched-secret")

	_, err = p.Clients(s).List(ctx, store.Filter{"password": "patched-secret"})
	require.ErrorIs(t, err, store.ErrInvalid, "secrets cannot be filtered on")
}

func testAPIKeys(t *testing.T, p store.Provisioning) {
	ctx := t.Context()
	tn := newTenant(t, p, newSP(t, p))
	cases := []struct {
		name  string
		scope store.Scope
		rec   store.APIKey
		want  store.Scope
	}{
		{"admin", store.Admin(), store.APIKey{}, store.Admin()},
		{"service provider", store.ForServiceProvider(tn.sp), store.APIKey{}, store.ForServiceProvider(tn.sp)},
		{"account", tn.scope(), store.APIKey{}, tn.scope()},
		{"account made by its SP", store.ForServiceProvider(tn.sp), store.APIKey{AccountSID: tn.account}, tn.scope()},
		{"caller's hash ignored", tn.scope(), store.APIKey{TokenHash: store.HashToken("chosen"), Token: "chosen"}, tn.scope()},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := c.rec
			sid, err := p.APIKeys(c.scope).Create(ctx, &rec)
			require.NoError(t, err)
			require.NotEmpty(t, rec.Token)
			require.NotEqual(t, "chosen", rec.Token, "the store makes the token")
			require.Equal(t, store.HashToken(rec.Token), rec.TokenHash)

			key, err := p.AuthenticateAPIKey(ctx, rec.Token)
			require.NoError(t, err)
			require.Equal(t, sid, key.APIKeySID)
			require.Equal(t, c.want, key.Scope())
			require.Empty(t, key.Token)
			require.NotNil(t, key.LastUsed, "authentication records last_used")

			list, err := p.APIKeys(c.scope).List(ctx, store.Filter{"api_key_sid": sid})
			require.NoError(t, err)
			require.Len(t, list, 1)
			require.Empty(t, list[0].Token)

			if rp, ok := p.(RawSQL); ok {
				db := rp.SQL()
				require.Equal(t, store.HashToken(rec.Token),
					rawString(t, db, "SELECT `token_hash` FROM `api_keys` WHERE `api_key_sid` = ?", sid), "the column holds the SHA-256")
				require.Zero(t, rawCount(t, db, "SELECT COUNT(*) FROM `api_keys` WHERE `token_hash` = ? OR `api_key_sid` = ?", rec.Token, rec.Token),
					"the token itself is stored nowhere")
			}
		})
	}

	t.Run("unknown, empty and expired tokens", func(t *testing.T) {
		for _, tok := range []string{"", "not-a-key", store.HashToken("x")} {
			_, err := p.AuthenticateAPIKey(ctx, tok)
			require.ErrorIs(t, err, store.ErrNotFound)
		}
		expired := store.APIKey{ExpiresAt: new(time.Now().Add(-time.Minute))}
		_, err := p.APIKeys(tn.scope()).Create(ctx, &expired)
		require.NoError(t, err)
		_, err = p.AuthenticateAPIKey(ctx, expired.Token)
		require.ErrorIs(t, err, store.ErrNotFound)
	})
	t.Run("hash is read-only", func(t *testing.T) {
		err := p.APIKeys(tn.scope()).Update(ctx, tn.apiKey, store.Patch{"token_hash": store.HashToken("mine")})
		require.ErrorIs(t, err, store.ErrInvalid)
	})
	t.Run("only admin makes admin keys", func(t *testing.T) {
		var k store.APIKey
		_, err := p.APIKeys(store.ForServiceProvider(tn.sp)).Create(ctx, &k)
		require.NoError(t, err)
		require.Equal(t, store.ForServiceProvider(tn.sp), k.Scope(), "an SP key, never an admin key")
	})
}

func testValidation(t *testing.T, p store.Provisioning) {
	ctx := t.Context()
	tn := newTenant(t, p, newSP(t, p))
	apps := p.Applications(tn.scope())
	cases := []struct {
		name    string
		err     func() error
		mention string
	}{
		{"unknown filter key", func() error { _, err := apps.List(ctx, store.Filter{"nope": 1}); return err }, "nope"},
		{"filter value of the wrong type", func() error { _, err := apps.List(ctx, store.Filter{"name": 3}); return err }, "name"},
		{"unknown patch key", func() error { return apps.Update(ctx, tn.app, store.Patch{"bogus": "x"}) }, "bogus"},
		{"sid is read-only", func() error { return apps.Update(ctx, tn.app, store.Patch{"application_sid": "x"}) }, "application_sid"},
		{"created_at is read-only", func() error { return apps.Update(ctx, tn.app, store.Patch{"created_at": time.Now()}) }, "created_at"},
		{"owner is read-only", func() error { return apps.Update(ctx, tn.app, store.Patch{"account_sid": tn.account}) }, "account_sid"},
		{"hook by column name", func() error { return apps.Update(ctx, tn.app, store.Patch{"call_hook_sid": "x"}) }, "call_hook"},
		{"hook of the wrong type", func() error { return apps.Update(ctx, tn.app, store.Patch{"call_hook": "https://x"}) }, "call_hook"},
		{"bool of the wrong type", func() error { return apps.Update(ctx, tn.app, store.Patch{"record_all_calls": "yes"}) }, "record_all_calls"},
		{"null into a not-null column", func() error { return apps.Update(ctx, tn.app, store.Patch{"name": nil}) }, "name"},
		{"parent required", func() error {
			_, err := p.SipGateways(tn.scope()).Create(ctx, &store.SipGateway{IPv4: "192.0.2.1"})
			return err
		}, "voip_carrier_sid"},
		{"CDR page too large", func() error { _, _, err := p.ListCDRs(ctx, tn.scope(), store.CDRQuery{Count: 501}); return err }, "count"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.err()
			require.ErrorIs(t, err, store.ErrInvalid)
			require.Contains(t, err.Error(), c.mention)
		})
	}
	got, err := apps.Get(ctx, tn.app)
	require.NoError(t, err)
	require.Equal(t, tn.app, got.ApplicationSID, "nothing changed")

	// A filter on a nullable column: nil (or "") matches NULL.
	list, err := apps.List(ctx, store.Filter{"js_app_sid": nil, "name": got.Name})
	require.NoError(t, err)
	require.Len(t, list, 1)
	list, err = apps.List(ctx, store.Filter{"js_app_sid": "", "record_all_calls": false})
	require.NoError(t, err)
	require.Len(t, list, 1)
}

func testConflicts(t *testing.T, p store.Provisioning) {
	ctx := t.Context()
	sp := newSP(t, p)
	a, b := newTenant(t, p, sp), newTenant(t, p, sp)
	num, err := p.PhoneNumbers(a.scope()).Get(ctx, a.number)
	require.NoError(t, err)
	acct, err := p.Accounts(a.scope()).Get(ctx, a.account)
	require.NoError(t, err)
	cl, err := p.Clients(a.scope()).Get(ctx, a.client)
	require.NoError(t, err)
	app, err := p.Applications(a.scope()).Get(ctx, a.app)
	require.NoError(t, err)
	spRec, err := p.ServiceProviders(store.Admin()).Get(ctx, sp)
	require.NoError(t, err)

	cases := []struct {
		name string
		err  func() error
	}{
		{"phone number taken, even by another tenant", func() error {
			_, err := p.PhoneNumbers(b.scope()).Create(ctx, &store.PhoneNumber{Number: num.Number})
			return err
		}},
		{"sip realm taken", func() error {
			_, err := p.Accounts(store.ForServiceProvider(sp)).Create(ctx, &store.Account{Name: unique("x"), SIPRealm: acct.SIPRealm})
			return err
		}},
		{"sip realm taken by update", func() error {
			return p.Accounts(b.scope()).Update(ctx, b.account, store.Patch{"sip_realm": acct.SIPRealm})
		}},
		{"client username taken in the account", func() error {
			_, err := p.Clients(a.scope()).Create(ctx, &store.Client{Username: cl.Username})
			return err
		}},
		{"application name taken in the account", func() error {
			_, err := p.Applications(a.scope()).Create(ctx, &store.Application{Name: app.Name})
			return err
		}},
		{"service provider name taken", func() error {
			_, err := p.ServiceProviders(store.Admin()).Create(ctx, &store.ServiceProvider{Name: spRec.Name})
			return err
		}},
		{"account limit category taken", func() error {
			_, err := p.AccountLimits(store.ForServiceProvider(sp)).Create(ctx, &store.AccountLimit{AccountSID: a.account, Category: store.LimitVoiceCallSession, Quantity: 1})
			return err
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.ErrorIs(t, c.err(), store.ErrConflict)
		})
	}
	// The same username and application name in another account are fine.
	_, err = p.Clients(b.scope()).Create(ctx, &store.Client{Username: cl.Username})
	require.NoError(t, err)
	_, err = p.Applications(b.scope()).Create(ctx, &store.Application{Name: app.Name})
	require.NoError(t, err)
}

func testInUse(t *testing.T, p store.Provisioning) {
	ctx := t.Context()
	admin := store.Admin()
	tn := newTenant(t, p, newSP(t, p))
	s := tn.scope()
	cases := []struct {
		name string
		del  func() error
	}{
		{"application with a phone number", func() error { return p.Applications(s).Delete(ctx, tn.app) }},
		{"carrier with a phone number", func() error { return p.VoipCarriers(s).Delete(ctx, tn.carrier) }},
		{"account with records", func() error { return p.Accounts(store.ForServiceProvider(tn.sp)).Delete(ctx, tn.account) }},
		{"service provider with accounts", func() error { return p.ServiceProviders(admin).Delete(ctx, tn.sp) }},
		{"js app used by an application", func() error {
			require.NoError(t, p.Applications(s).Update(ctx, tn.app, store.Patch{"js_app_sid": tn.jsApp}))
			return p.JSApps(s).Delete(ctx, tn.jsApp)
		}},
		{"js app used as an application's fallback", func() error {
			require.NoError(t, p.Applications(s).Update(ctx, tn.app, store.Patch{"js_app_sid": nil, "fallback_js_app_sid": tn.jsApp}))
			return p.JSApps(s).Delete(ctx, tn.jsApp)
		}},
		{"the active version of a js app", func() error { return p.JSAppVersions(s).Delete(ctx, tn.jsVersion) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.ErrorIs(t, c.del(), store.ErrInUse)
		})
	}
	_, err := p.Applications(s).Get(ctx, tn.app)
	require.NoError(t, err, "a refused delete deletes nothing")
	app, err := p.Applications(s).Get(ctx, tn.app)
	require.NoError(t, err)
	require.NotNil(t, app.CallHook, "nor the hooks")

	// Children that belong wholly to their parent go with it.
	require.NoError(t, p.PhoneNumbers(s).Delete(ctx, tn.number))
	require.ErrorIs(t, p.VoipCarriers(s).Delete(ctx, tn.carrier), store.ErrInUse, "still in an LCR carrier set")
	require.NoError(t, p.LCRs(s).Delete(ctx, tn.lcr))
	_, err = p.LCRRoutes(s).Get(ctx, tn.route)
	require.ErrorIs(t, err, store.ErrNotFound, "routes go with their LCR")
	_, err = p.LCRCarrierSetEntries(s).Get(ctx, tn.entry)
	require.ErrorIs(t, err, store.ErrNotFound, "carrier set entries go with their route")
	require.NoError(t, p.VoipCarriers(s).Delete(ctx, tn.carrier))
	_, err = p.SipGateways(s).Get(ctx, tn.gateway)
	require.ErrorIs(t, err, store.ErrNotFound, "gateways go with their carrier")
	require.NoError(t, p.Applications(s).Update(ctx, tn.app, store.Patch{"js_app_sid": nil, "fallback_js_app_sid": nil}))
	require.NoError(t, p.JSApps(s).Delete(ctx, tn.jsApp), "an app goes with its active version")
	_, err = p.JSAppVersions(s).Get(ctx, tn.jsVersion)
	require.ErrorIs(t, err, store.ErrNotFound, "versions go with their JS app")
	require.NoError(t, p.Applications(s).Delete(ctx, tn.app))
}
