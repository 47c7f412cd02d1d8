package storetest

import (
	"database/sql"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/store"
)

// RawSQL is implemented by SQL-backed provisioning stores. The suite uses it
// to read raw columns and prove what is stored at rest (ciphertext, token
// hashes); on a store without it those checks are skipped.
type RawSQL interface {
	SQL() *sql.DB
}

// RunProvisioning runs the provisioning conformance suite. open returns a
// fresh, migrated, empty store for each call; it registers its own cleanup.
func RunProvisioning(t *testing.T, open func(t *testing.T) store.Provisioning) {
	cases := []struct {
		name string
		run  func(t *testing.T, p store.Provisioning)
	}{
		{"CRUD", testCRUD},
		{"Hooks", testHooks},
		{"Secrets", testSecrets},
		{"APIKeys", testAPIKeys},
		{"FilterAndPatchValidation", testValidation},
		{"Conflicts", testConflicts},
		{"InUse", testInUse},
		{"Scoping", testScoping},
		{"ScopedCreate", testScopedCreate},
		{"CDRs", testCDRs},
		{"Alerts", testAlerts},
		{"TableVersions", testTableVersions},
		{"JSApps", testJSApps},
		{"JSAppInvocations", testJSAppInvocations},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.run(t, open(t))
		})
	}
}

var uniq atomic.Int64

// unique makes names that do not collide within a store.
func unique(prefix string) string {
	return fmt.Sprintf("%s-%d-%s", prefix, uniq.Add(1), uuid.NewString()[:8])
}

// tenant is one account of a service provider, with one of every kind of
// record it can own.
type tenant struct {
	sp, account                           string
	app, number, carrier, gateway, client string
	lcr, route, entry, jsApp, jsVersion   string
	speech, apiKey, limit                 string
}

func (tn tenant) scope() store.Scope { return store.ForAccount(tn.sp, tn.account) }

func newSP(t *testing.T, p store.Provisioning) string {
	t.Helper()
	sid, err := p.ServiceProviders(store.Admin()).Create(t.Context(), &store.ServiceProvider{Name: unique("sp")})
	require.NoError(t, err)
	return sid
}

// newTenant creates an account under sp and one record of each kind for it,
// each made in the narrowest scope allowed to make it.
func newTenant(t *testing.T, p store.Provisioning, sp string) tenant {
	t.Helper()
	ctx := t.Context()
	tn := tenant{sp: sp}
	var err error
	spScope := store.ForServiceProvider(sp)
	tn.account, err = p.Accounts(spScope).Create(ctx, &store.Account{
		Name: unique("acct"), SIPRealm: unique("realm") + ".example.com", IsActive: true, WebhookSecret: "wh_secret_" + uuid.NewString()})
	require.NoError(t, err)
	s := tn.scope()
	tn.app, err = p.Applications(s).Create(ctx, &store.Application{Name: unique("app"),
		CallHook: &store.Webhook{URL: "https://app.example.com/call"}, CallStatusHook: &store.Webhook{URL: "https://app.example.com/status"},
		SpeechSynthesisVendor: "google", SpeechSynthesisLanguage: "en-US", SpeechRecognizerVendor: "google", SpeechRecognizerLanguage: "en-US"})
	require.NoError(t, err)
	tn.carrier, err = p.VoipCarriers(s).Create(ctx, &store.VoipCarrier{Name: unique("carrier"), IsActive: true, RegisterPassword: "carrier-secret"})
	require.NoError(t, err)
	tn.gateway, err = p.SipGateways(s).Create(ctx, &store.SipGateway{IPv4: "192.0.2.10", Netmask: 32, Port: 5060, Inbound: true, VoipCarrierSID: tn.carrier, IsActive: true})
	require.NoError(t, err)
	tn.number, err = p.PhoneNumbers(s).Create(ctx, &store.PhoneNumber{Number: unique("1555"), ApplicationSID: tn.app, VoipCarrierSID: tn.carrier})
	require.NoError(t, err)
	tn.client, err = p.Clients(s).Create(ctx, &store.Client{Username: unique("alice"), Password: "client-secret", IsActive: true})
	require.NoError(t, err)
	tn.lcr, err = p.LCRs(s).Create(ctx, &store.LCR{Name: unique("lcr"), IsActive: true})
	require.NoError(t, err)
	tn.route, err = p.LCRRoutes(s).Create(ctx, &store.LCRRoute{LCRSID: tn.lcr, Regex: "^1", Priority: 1})
	require.NoError(t, err)
	tn.entry, err = p.LCRCarrierSetEntries(s).Create(ctx, &store.LCRCarrierSetEntry{LCRRouteSID: tn.route, VoipCarrierSID: tn.carrier, Workload: 1, Priority: 1})
	require.NoError(t, err)
	tn.jsApp, err = p.JSApps(s).Create(ctx, &store.JSApp{Name: unique("js"), SecretEnvVars: `{"KEY":"js-secret"}`})
	require.NoError(t, err)
	tn.jsVersion, err = p.JSAppVersions(s).Create(ctx, &store.JSAppVersion{JSAppSID: tn.jsApp, Source: "export default {}"})
	require.NoError(t, err)
	require.NoError(t, p.JSApps(s).Update(ctx, tn.jsApp, store.Patch{"active_version_sid": tn.jsVersion}))
	tn.speech, err = p.SpeechCredentials(s).Create(ctx, &store.SpeechCredential{Vendor: "google", Credential: `{"key":"speech-secret"}`, UseForTTS: true})
	require.NoError(t, err)
	tn.apiKey, err = p.APIKeys(s).Create(ctx, &store.APIKey{})
	require.NoError(t, err)
	tn.limit, err = p.AccountLimits(spScope).Create(ctx, &store.AccountLimit{AccountSID: tn.account, Category: store.LimitVoiceCallSession, Quantity: 10})
	require.NoError(t, err)
	return tn
}

// crud runs Create, Get, List, Update, Get, Delete, Get on one repository.
// rec is created; patch is applied and check verifies it on the record read back.
func crud[T any](t *testing.T, r store.Repo[T], rec *T, sidOf func(T) string, patch store.Patch, check func(t *testing.T, got T)) {
	t.Helper()
	ctx := t.Context()
	sid, err := r.Create(ctx, rec)
	require.NoError(t, err)
	require.NotEmpty(t, sid)
	require.Equal(t, sid, sidOf(*rec), "Create fills in the sid")
	_, err = uuid.Parse(sid)
	require.NoError(t, err, "sids are UUIDs")

	got, err := r.Get(ctx, sid)
	require.NoError(t, err)
	require.Equal(t, *rec, got, "Get returns what Create stored")

	list, err := r.List(ctx, nil)
	require.NoError(t, err)
	require.Contains(t, sids(list, sidOf), sid)

	require.NoError(t, r.Update(ctx, sid, patch))
	got, err = r.Get(ctx, sid)
	require.NoError(t, err)
	check(t, got)

	require.NoError(t, r.Delete(ctx, sid))
	_, err = r.Get(ctx, sid)
	require.ErrorIs(t, err, store.ErrNotFound)
	require.ErrorIs(t, r.Delete(ctx, sid), store.ErrNotFound)
	require.ErrorIs(t, r.Update(ctx, sid, patch), store.ErrNotFound)
}

func sids[T any](list []T, sidOf func(T) string) []string {
	out := make([]string, len(list))
	for i, r := range list {
		out[i] = sidOf(r)
	}
	return out
}

func testCRUD(t *testing.T, p store.Provisioning) {
	admin := store.Admin()
	sp := newSP(t, p)
	tn := newTenant(t, p, sp)
	s := tn.scope()
	past := time.Now().Add(-time.Hour).UTC().Truncate(time.Millisecond)

	cases := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"ServiceProviders", func(t *testing.T) {
			crud(t, p.ServiceProviders(admin), &store.ServiceProvider{Name: unique("sp"), Description: "d",
				RegistrationHook: &store.Webhook{URL: "https://sp.example.com/reg", Method: "GET", Username: "u", Password: "p"}},
				func(r store.ServiceProvider) string { return r.ServiceProviderSID },
				store.Patch{"description": "changed", "root_domain": "sp.example.com"},
				func(t *testing.T, got store.ServiceProvider) {
					require.Equal(t, "changed", got.Description)
					require.Equal(t, "sp.example.com", got.RootDomain)
					require.Equal(t, "https://sp.example.com/reg", got.RegistrationHook.URL)
				})
		}},
		{"Accounts", func(t *testing.T) {
			crud(t, p.Accounts(store.ForServiceProvider(sp)), &store.Account{Name: unique("acct"), SIPRealm: unique("r") + ".example.com",
				IsActive: true, WebhookSecret: "s3cret", QueueEventHook: &store.Webhook{URL: "https://q.example.com"}},
				func(r store.Account) string { return r.AccountSID },
				store.Patch{"is_active": false, "record_all_calls": true, "sip_realm": nil, "device_calling_application_sid": tn.app},
				func(t *testing.T, got store.Account) {
					require.False(t, got.IsActive)
					require.True(t, got.RecordAllCalls)
					require.Empty(t, got.SIPRealm)
					require.Equal(t, tn.app, got.DeviceCallingApplicationSID)
					require.Equal(t, sp, got.ServiceProviderSID)
					require.Equal(t, "s3cret", got.WebhookSecret)
				})
		}},
		{"AccountLimits", func(t *testing.T) {
			crud(t, p.AccountLimits(store.ForServiceProvider(sp)), &store.AccountLimit{AccountSID: tn.account, Category: store.LimitDevice, Quantity: 5},
				func(r store.AccountLimit) string { return r.AccountLimitsSID },
				store.Patch{"quantity": 7},
				func(t *testing.T, got store.AccountLimit) { require.Equal(t, 7, got.Quantity) })
		}},
		{"Applications", func(t *testing.T) {
			crud(t, p.Applications(s), &store.Application{Name: unique("app"), CallHook: &store.Webhook{URL: "https://a.example.com/c"},
				AppJSON: `[{"verb":"say","text":"hi"}]`, EnvVars: `{"TOKEN":"x"}`, JSAppSID: tn.jsApp, SpeechSynthesisVendor: "google",
				SpeechSynthesisLanguage: "en-US", SpeechRecognizerVendor: "google", SpeechRecognizerLanguage: "en-US", StrictVerbs: true,
				HookTimeoutSecs: 4},
				func(r store.Application) string { return r.ApplicationSID },
				store.Patch{"name": "renamed", "record_all_calls": true, "app_json": "", "hook_timeout_secs": 25},
				func(t *testing.T, got store.Application) {
					require.Equal(t, "renamed", got.Name)
					require.Equal(t, 25, got.HookTimeoutSecs)
					require.True(t, got.RecordAllCalls)
					require.Empty(t, got.AppJSON)
					require.Equal(t, tn.account, got.AccountSID)
					require.Empty(t, got.ServiceProviderSID, "an account's application has one owner, as in jambonz")
				})
		}},
		{"PhoneNumbers", func(t *testing.T) {
			crud(t, p.PhoneNumbers(s), &store.PhoneNumber{Number: unique("1444"), VoipCarrierSID: tn.carrier},
				func(r store.PhoneNumber) string { return r.PhoneNumberSID },
				store.Patch{"application_sid": tn.app},
				func(t *testing.T, got store.PhoneNumber) { require.Equal(t, tn.app, got.ApplicationSID) })
		}},
		{"VoipCarriers", func(t *testing.T) {
			crud(t, p.VoipCarriers(store.ForServiceProvider(sp)), &store.VoipCarrier{Name: unique("c"), E164LeadingPlus: true,
				RequiresRegister: true, RegisterUsername: "u", RegisterPassword: "pw", InboundAuthPassword: "in-pw", IsActive: true},
				func(r store.VoipCarrier) string { return r.VoipCarrierSID },
				store.Patch{"register_password": "new-pw", "is_active": false},
				func(t *testing.T, got store.VoipCarrier) {
					require.Equal(t, "new-pw", got.RegisterPassword)
					require.False(t, got.IsActive)
					require.Equal(t, sp, got.ServiceProviderSID, "an SP-scoped carrier belongs to the SP")
					require.Empty(t, got.AccountSID)
				})
		}},
		{"SipGateways", func(t *testing.T) {
			crud(t, p.SipGateways(s), &store.SipGateway{IPv4: "198.51.100.7", Netmask: 32, Port: 5080, Protocol: "udp", Outbound: true, VoipCarrierSID: tn.carrier},
				func(r store.SipGateway) string { return r.SipGatewaySID },
				store.Patch{"port": 0, "netmask": 24.0},
				func(t *testing.T, got store.SipGateway) {
					require.Zero(t, got.Port)
					require.Equal(t, 24, got.Netmask)
				})
		}},
		{"LCRs", func(t *testing.T) {
			crud(t, p.LCRs(s), &store.LCR{Name: unique("lcr"), IsActive: true},
				func(r store.LCR) string { return r.LCRSID },
				store.Patch{"default_carrier_set_entry_sid": tn.entry},
				func(t *testing.T, got store.LCR) { require.Equal(t, tn.entry, got.DefaultCarrierSetEntrySID) })
		}},
		{"LCRRoutes", func(t *testing.T) {
			crud(t, p.LCRRoutes(s), &store.LCRRoute{LCRSID: tn.lcr, Regex: "^44", Priority: 2},
				func(r store.LCRRoute) string { return r.LCRRouteSID },
				store.Patch{"description": "UK"},
				func(t *testing.T, got store.LCRRoute) { require.Equal(t, "UK", got.Description) })
		}},
		{"LCRCarrierSetEntries", func(t *testing.T) {
			crud(t, p.LCRCarrierSetEntries(s), &store.LCRCarrierSetEntry{LCRRouteSID: tn.route, VoipCarrierSID: tn.carrier, Workload: 50, Priority: 2},
				func(r store.LCRCarrierSetEntry) string { return r.LCRCarrierSetEntrySID },
				store.Patch{"workload": 100},
				func(t *testing.T, got store.LCRCarrierSetEntry) { require.Equal(t, 100, got.Workload) })
		}},
		{"Clients", func(t *testing.T) {
			crud(t, p.Clients(s), &store.Client{Username: unique("bob"), Password: "pw", IsActive: true, AllowDirectAppCalling: true},
				func(r store.Client) string { return r.ClientSID },
				store.Patch{"password": "pw2", "allow_direct_user_calling": true},
				func(t *testing.T, got store.Client) {
					require.Equal(t, "pw2", got.Password)
					require.True(t, got.AllowDirectUserCalling)
				})
		}},
		{"APIKeys", func(t *testing.T) {
			r := p.APIKeys(s)
			rec := &store.APIKey{ExpiresAt: new(time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond))}
			sid, err := r.Create(t.Context(), rec)
			require.NoError(t, err)
			require.NotEmpty(t, rec.Token)
			got, err := r.Get(t.Context(), sid)
			require.NoError(t, err)
			require.Empty(t, got.Token, "the token is shown once, by Create")
			want := *rec
			want.Token = ""
			require.Equal(t, want, got)
			require.NoError(t, r.Update(t.Context(), sid, store.Patch{"expires_at": past}))
			_, err = p.AuthenticateAPIKey(t.Context(), rec.Token)
			require.ErrorIs(t, err, store.ErrNotFound, "expired")
			require.NoError(t, r.Delete(t.Context(), sid))
			_, err = r.Get(t.Context(), sid)
			require.ErrorIs(t, err, store.ErrNotFound)
		}},
		{"SpeechCredentials", func(t *testing.T) {
			crud(t, p.SpeechCredentials(s), &store.SpeechCredential{Vendor: "deepgram", Label: "dg", Credential: `{"api_key":"k"}`, UseForSTT: true, LastTested: &past},
				func(r store.SpeechCredential) string { return r.SpeechCredentialSID },
				store.Patch{"last_tested": nil, "credential": `{"api_key":"k2"}`},
				func(t *testing.T, got store.SpeechCredential) {
					require.Nil(t, got.LastTested)
					require.Equal(t, `{"api_key":"k2"}`, got.Credential)
				})
		}},
		{"JSApps", func(t *testing.T) {
			var created time.Time
			crud(t, p.JSApps(s), &store.JSApp{Name: unique("js"), Description: "d", EnvVars: `{"A":"1"}`, SecretEnvVars: `{"B":"2"}`},
				func(r store.JSApp) string { created = r.UpdatedAt; return r.JSAppSID },
				store.Patch{"description": "changed", "env_vars": `{"A":"3"}`, "secret_env_vars": nil},
				func(t *testing.T, got store.JSApp) {
					require.Equal(t, "changed", got.Description)
					require.Equal(t, `{"A":"3"}`, got.EnvVars)
					require.Empty(t, got.SecretEnvVars)
					require.False(t, got.UpdatedAt.Before(created), "updated_at moves on update")
				})
		}},
		{"JSAppVersions", func(t *testing.T) {
			src := strings.Repeat("// big\n", 2000)
			crud(t, p.JSAppVersions(s), &store.JSAppVersion{JSAppSID: tn.jsApp, Label: "app.js", Source: src},
				func(r store.JSAppVersion) string { return r.JSAppVersionSID },
				store.Patch{"label": "renamed.js"},
				func(t *testing.T, got store.JSAppVersion) {
					require.Equal(t, "renamed.js", got.Label)
					require.Equal(t, src, got.Source)
				})
		}},
	}
	for _, c := range cases {
		t.Run(c.name, c.run)
	}
}

func testTableVersions(t *testing.T, p store.Provisioning) {
	tv, err := p.TableVersions(t.Context())
	require.NoError(t, err)
	got := map[string]int{}
	for _, v := range tv {
		got[v.Table] = v.Version
	}
	for _, table := range []string{"service_providers", "accounts", "account_limits", "applications", "webhooks",
		"phone_numbers", "voip_carriers", "sip_gateways", "lcr", "lcr_routes", "lcr_carrier_set_entry", "clients",
		"api_keys", "speech_credentials", "js_apps", "js_app_versions", "js_app_invocations", "cdrs", "alerts"} {
		require.GreaterOrEqual(t, got[table], 1, "tableversions has %s", table)
	}
	require.NoError(t, p.Ping(t.Context()))
}
