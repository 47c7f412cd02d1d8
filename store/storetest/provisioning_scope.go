package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/store"
)

// kindOps are the four scoped operations on one kind of record, typed away
// so that the scoping matrix can run over every repository.
type kindOps struct {
	name   string
	sidOf  func(tenant) string
	get    func(ctx context.Context, s store.Scope, sid string) error
	list   func(ctx context.Context, s store.Scope) ([]string, error)
	update func(ctx context.Context, s store.Scope, sid string) error
	del    func(ctx context.Context, s store.Scope, sid string) error
}

func opsFor[T any](name string, repo func(store.Scope) store.Repo[T], sidOf func(T) string, tsid func(tenant) string, patch store.Patch) kindOps {
	return kindOps{
		name:  name,
		sidOf: tsid,
		get: func(ctx context.Context, s store.Scope, sid string) error {
			_, err := repo(s).Get(ctx, sid)
			return err
		},
		list: func(ctx context.Context, s store.Scope) ([]string, error) {
			l, err := repo(s).List(ctx, nil)
			return sids(l, sidOf), err
		},
		update: func(ctx context.Context, s store.Scope, sid string) error { return repo(s).Update(ctx, sid, patch) },
		del:    func(ctx context.Context, s store.Scope, sid string) error { return repo(s).Delete(ctx, sid) },
	}
}

func allKinds(p store.Provisioning) []kindOps {
	return []kindOps{
		opsFor("accounts", p.Accounts, func(r store.Account) string { return r.AccountSID },
			func(tn tenant) string { return tn.account }, store.Patch{"record_all_calls": true}),
		opsFor("account_limits", p.AccountLimits, func(r store.AccountLimit) string { return r.AccountLimitsSID },
			func(tn tenant) string { return tn.limit }, store.Patch{"quantity": 3}),
		opsFor("applications", p.Applications, func(r store.Application) string { return r.ApplicationSID },
			func(tn tenant) string { return tn.app }, store.Patch{"record_all_calls": true}),
		opsFor("phone_numbers", p.PhoneNumbers, func(r store.PhoneNumber) string { return r.PhoneNumberSID },
			func(tn tenant) string { return tn.number }, store.Patch{"application_sid": nil}),
		opsFor("voip_carriers", p.VoipCarriers, func(r store.VoipCarrier) string { return r.VoipCarrierSID },
			func(tn tenant) string { return tn.carrier }, store.Patch{"is_active": false}),
		opsFor("sip_gateways", p.SipGateways, func(r store.SipGateway) string { return r.SipGatewaySID },
			func(tn tenant) string { return tn.gateway }, store.Patch{"port": 5062}),
		opsFor("lcr", p.LCRs, func(r store.LCR) string { return r.LCRSID },
			func(tn tenant) string { return tn.lcr }, store.Patch{"is_active": false}),
		opsFor("lcr_routes", p.LCRRoutes, func(r store.LCRRoute) string { return r.LCRRouteSID },
			func(tn tenant) string { return tn.route }, store.Patch{"priority": 9}),
		opsFor("lcr_carrier_set_entry", p.LCRCarrierSetEntries, func(r store.LCRCarrierSetEntry) string { return r.LCRCarrierSetEntrySID },
			func(tn tenant) string { return tn.entry }, store.Patch{"workload": 9}),
		opsFor("clients", p.Clients, func(r store.Client) string { return r.ClientSID },
			func(tn tenant) string { return tn.client }, store.Patch{"is_active": false}),
		opsFor("api_keys", p.APIKeys, func(r store.APIKey) string { return r.APIKeySID },
			func(tn tenant) string { return tn.apiKey }, store.Patch{"expires_at": nil}),
		opsFor("speech_credentials", p.SpeechCredentials, func(r store.SpeechCredential) string { return r.SpeechCredentialSID },
			func(tn tenant) string { return tn.speech }, store.Patch{"use_for_stt": true}),
		opsFor("js_apps", p.JSApps, func(r store.JSApp) string { return r.JSAppSID },
			func(tn tenant) string { return tn.jsApp }, store.Patch{"description": "x"}),
		opsFor("js_app_versions", p.JSAppVersions, func(r store.JSAppVersion) string { return r.JSAppVersionSID },
			func(tn tenant) string { return tn.jsVersion }, store.Patch{"label": "x"}),
	}
}

// testScoping is the scoping matrix: two service providers with two accounts
// each; every scope sees exactly its own rows and every other row is
// ErrNotFound, for Get, Update and Delete alike, on every repository.
func testScoping(t *testing.T, p store.Provisioning) {
	ctx := t.Context()
	spA, spB := newSP(t, p), newSP(t, p)
	a1, a2 := newTenant(t, p, spA), newTenant(t, p, spA)
	b1, b2 := newTenant(t, p, spB), newTenant(t, p, spB)
	all := []tenant{a1, a2, b1, b2}

	viewers := []struct {
		name  string
		scope store.Scope
		sees  []tenant
	}{
		{"account A1", a1.scope(), []tenant{a1}},
		{"account B2", b2.scope(), []tenant{b2}},
		{"service provider A", store.ForServiceProvider(spA), []tenant{a1, a2}},
		{"service provider B", store.ForServiceProvider(spB), []tenant{b1, b2}},
		{"admin", store.Admin(), all},
	}
	for _, k := range allKinds(p) {
		t.Run(k.name, func(t *testing.T) {
			for _, v := range viewers {
				t.Run(v.name, func(t *testing.T) {
					listed, err := k.list(ctx, v.scope)
					require.NoError(t, err)
					for _, tn := range all {
						sid := k.sidOf(tn)
						if slices.Contains(v.sees, tn) {
							require.Contains(t, listed, sid)
							require.NoError(t, k.get(ctx, v.scope, sid))
							continue
						}
						require.NotContains(t, listed, sid, "List leaks %s of another tenant", k.name)
						require.ErrorIs(t, k.get(ctx, v.scope, sid), store.ErrNotFound, "Get")
						// ErrForbidden (a scope that may never update or delete
						// this kind, whatever the sid) leaks nothing either.
						if err := k.update(ctx, v.scope, sid); !isForbidden(err) {
							require.ErrorIs(t, err, store.ErrNotFound, "Update")
						}
						err := k.del(ctx, v.scope, sid)
						if !isForbidden(err) {
							require.ErrorIs(t, err, store.ErrNotFound, "Delete")
						}
						require.NoError(t, k.get(ctx, store.Admin(), sid), "the refused Delete left the row")
					}
				})
			}
		})
	}

	t.Run("service providers", func(t *testing.T) {
		sps := p.ServiceProviders
		_, err := sps(store.ForServiceProvider(spA)).Get(ctx, spB)
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = sps(a1.scope()).Get(ctx, spB)
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = sps(a1.scope()).Get(ctx, spA)
		require.NoError(t, err, "an account reads its own service provider")
		require.ErrorIs(t, sps(store.ForServiceProvider(spA)).Update(ctx, spB, store.Patch{"description": "x"}), store.ErrNotFound)
		require.NoError(t, sps(store.ForServiceProvider(spA)).Update(ctx, spA, store.Patch{"description": "mine"}))
		require.ErrorIs(t, sps(a1.scope()).Update(ctx, spA, store.Patch{"description": "x"}), store.ErrForbidden)
		list, err := sps(store.ForServiceProvider(spB)).List(ctx, nil)
		require.NoError(t, err)
		require.Equal(t, []string{spB}, sids(list, func(r store.ServiceProvider) string { return r.ServiceProviderSID }))
	})

	t.Run("incomplete scopes see nothing", func(t *testing.T) {
		for _, s := range []store.Scope{{Kind: store.ScopeAccount}, {Kind: store.ScopeServiceProvider}} {
			_, err := p.Applications(s).List(ctx, nil)
			require.Error(t, err)
			_, _, err = p.ListCDRs(ctx, s, store.CDRQuery{})
			require.Error(t, err)
		}
	})
}

func isForbidden(err error) bool { return errors.Is(err, store.ErrForbidden) }

// testScopedCreate: Create under a narrow scope forces ownership and checks
// that every row it points at is visible.
func testScopedCreate(t *testing.T, p store.Provisioning) {
	ctx := t.Context()
	spA, spB := newSP(t, p), newSP(t, p)
	a1, a2 := newTenant(t, p, spA), newTenant(t, p, spA)
	b1 := newTenant(t, p, spB)

	t.Run("account creates for itself", func(t *testing.T) {
		rec := store.Application{Name: unique("mine"), AccountSID: b1.account, ServiceProviderSID: spB}
		sid, err := p.Applications(a1.scope()).Create(ctx, &rec)
		require.NoError(t, err)
		got, err := p.Applications(store.Admin()).Get(ctx, sid)
		require.NoError(t, err)
		require.Equal(t, a1.account, got.AccountSID)
		require.Empty(t, got.ServiceProviderSID, "the row has one owner: the account")
		c := store.Client{Username: unique("c"), AccountSID: b1.account}
		_, err = p.Clients(a1.scope()).Create(ctx, &c)
		require.NoError(t, err)
		require.Equal(t, a1.account, c.AccountSID)
	})
	t.Run("one owner: a row cannot belong to an account and another SP", func(t *testing.T) {
		rec := store.PhoneNumber{Number: unique("1888"), AccountSID: a1.account, ServiceProviderSID: spB}
		sid, err := p.PhoneNumbers(store.Admin()).Create(ctx, &rec)
		require.NoError(t, err)
		require.Empty(t, rec.ServiceProviderSID)
		_, err = p.PhoneNumbers(store.ForServiceProvider(spB)).Get(ctx, sid)
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = p.PhoneNumbers(store.ForServiceProvider(spA)).Get(ctx, sid)
		require.NoError(t, err)
	})
	t.Run("account edits itself", func(t *testing.T) {
		require.NoError(t, p.Accounts(a1.scope()).Update(ctx, a1.account, store.Patch{"record_all_calls": true}))
		got, err := p.Accounts(a1.scope()).Get(ctx, a1.account)
		require.NoError(t, err)
		require.True(t, got.RecordAllCalls)
	})
	t.Run("service provider creates for itself", func(t *testing.T) {
		rec := store.VoipCarrier{Name: unique("c"), ServiceProviderSID: spB}
		_, err := p.VoipCarriers(store.ForServiceProvider(spA)).Create(ctx, &rec)
		require.NoError(t, err)
		require.Equal(t, spA, rec.ServiceProviderSID)
		acct := store.Account{Name: unique("a"), ServiceProviderSID: spB}
		_, err = p.Accounts(store.ForServiceProvider(spA)).Create(ctx, &acct)
		require.NoError(t, err)
		require.Equal(t, spA, acct.ServiceProviderSID)
	})
	t.Run("shared SP rows may be referenced by its accounts", func(t *testing.T) {
		shared := store.VoipCarrier{Name: unique("shared")}
		_, err := p.VoipCarriers(store.ForServiceProvider(spA)).Create(ctx, &shared)
		require.NoError(t, err)
		_, err = p.PhoneNumbers(a1.scope()).Create(ctx, &store.PhoneNumber{Number: unique("1666"), VoipCarrierSID: shared.VoipCarrierSID})
		require.NoError(t, err)
		_, err = p.PhoneNumbers(b1.scope()).Create(ctx, &store.PhoneNumber{Number: unique("1666"), VoipCarrierSID: shared.VoipCarrierSID})
		require.ErrorIs(t, err, store.ErrNotFound, "not by another SP's accounts")
		_, err = p.VoipCarriers(a1.scope()).Get(ctx, shared.VoipCarrierSID)
		require.ErrorIs(t, err, store.ErrNotFound, "referencing is not reading")
	})

	cases := []struct {
		name string
		err  error
		make func() error
	}{
		{"account creates a service provider", store.ErrForbidden, func() error {
			_, err := p.ServiceProviders(a1.scope()).Create(ctx, &store.ServiceProvider{Name: unique("x")})
			return err
		}},
		{"service provider creates a service provider", store.ErrForbidden, func() error {
			_, err := p.ServiceProviders(store.ForServiceProvider(spA)).Create(ctx, &store.ServiceProvider{Name: unique("x")})
			return err
		}},
		{"account creates an account", store.ErrForbidden, func() error {
			_, err := p.Accounts(a1.scope()).Create(ctx, &store.Account{Name: unique("x"), ServiceProviderSID: spA})
			return err
		}},
		{"account sets its own limits", store.ErrForbidden, func() error {
			_, err := p.AccountLimits(a1.scope()).Create(ctx, &store.AccountLimit{AccountSID: a1.account, Category: store.LimitDevice, Quantity: 1000})
			return err
		}},
		{"account switches itself back on", store.ErrForbidden, func() error {
			require.NoError(t, p.Accounts(store.ForServiceProvider(spA)).Update(ctx, a2.account, store.Patch{"is_active": false}))
			return p.Accounts(a2.scope()).Update(ctx, a2.account, store.Patch{"is_active": true})
		}},
		{"account deletes itself", store.ErrForbidden, func() error {
			return p.Accounts(a1.scope()).Delete(ctx, a1.account)
		}},
		{"gateway on another account's carrier", store.ErrNotFound, func() error {
			_, err := p.SipGateways(a1.scope()).Create(ctx, &store.SipGateway{IPv4: "192.0.2.9", VoipCarrierSID: a2.carrier})
			return err
		}},
		{"number routed to another account's application", store.ErrNotFound, func() error {
			_, err := p.PhoneNumbers(a1.scope()).Create(ctx, &store.PhoneNumber{Number: unique("1777"), ApplicationSID: a2.app})
			return err
		}},
		{"number patched to another account's application", store.ErrNotFound, func() error {
			return p.PhoneNumbers(a1.scope()).Update(ctx, a1.number, store.Patch{"application_sid": a2.app})
		}},
		{"route in another SP's LCR", store.ErrNotFound, func() error {
			_, err := p.LCRRoutes(store.ForServiceProvider(spA)).Create(ctx, &store.LCRRoute{LCRSID: b1.lcr, Regex: "^1"})
			return err
		}},
		{"carrier set entry with another tenant's carrier", store.ErrNotFound, func() error {
			_, err := p.LCRCarrierSetEntries(a1.scope()).Create(ctx, &store.LCRCarrierSetEntry{LCRRouteSID: a1.route, VoipCarrierSID: b1.carrier})
			return err
		}},
		{"SP creates for another SP's account", store.ErrNotFound, func() error {
			_, err := p.Applications(store.ForServiceProvider(spA)).Create(ctx, &store.Application{Name: unique("x"), AccountSID: b1.account})
			return err
		}},
		{"SP sets limits of another SP's account", store.ErrNotFound, func() error {
			_, err := p.AccountLimits(store.ForServiceProvider(spA)).Create(ctx, &store.AccountLimit{AccountSID: b1.account, Category: store.LimitDevice, Quantity: 1})
			return err
		}},
		{"version of another account's JS app", store.ErrNotFound, func() error {
			_, err := p.JSAppVersions(a1.scope()).Create(ctx, &store.JSAppVersion{JSAppSID: a2.jsApp, Version: 9, Source: "x"})
			return err
		}},
		{"key for another SP's account", store.ErrNotFound, func() error {
			_, err := p.APIKeys(store.ForServiceProvider(spA)).Create(ctx, &store.APIKey{AccountSID: b1.account})
			return err
		}},
		{"admin names a missing parent", store.ErrNotFound, func() error {
			_, err := p.Clients(store.Admin()).Create(ctx, &store.Client{AccountSID: "00000000-0000-4000-8000-000000000000", Username: "x"})
			return err
		}},
		{"application without an owner", store.ErrInvalid, func() error {
			_, err := p.Applications(store.Admin()).Create(ctx, &store.Application{Name: unique("x")})
			return err
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.ErrorIs(t, c.make(), c.err)
		})
	}
}
