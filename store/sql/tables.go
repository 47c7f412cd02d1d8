package sqlstore

import (
	"fmt"
	"reflect"

	"github.com/voxrun/voxrun/store"
)

// ownership is how a table's rows belong to a tenant; scopeWhere turns it
// into SQL.
type ownership int

const (
	// ownNone: not reachable through a scope (webhooks: only through their parent row).
	ownNone ownership = iota
	// ownServiceProviderRow: the service_providers table itself.
	ownServiceProviderRow
	// ownAccountRow: the accounts table itself (account_sid, service_provider_sid).
	ownAccountRow
	// ownAccount: an account_sid column that is never NULL.
	ownAccount
	// ownEither: an account_sid column or a service_provider_sid column.
	ownEither
	// ownParent: through parentCol, a row of parent.
	ownParent
)

// ref is a column that names a row of another table. Create and Update check
// that the named row is visible in the caller's scope, so that no tenant can
// point its rows at another tenant's.
type ref struct {
	col string
	to  *table
}

// table is the declarative description of one provisioning table: all that
// the generic data-access layer needs besides the record's db tags.
type table struct {
	name string
	pk   string
	m    *mapping

	own       ownership
	parentCol string // ownParent
	parent    *table // ownParent
	// ownerOptional: an ownEither row may have neither owner when an admin
	// creates it (admin API keys).
	ownerOptional bool
	// carrySP: an ownEither row owned by an account also records the
	// account's service provider (api_keys); elsewhere it is NULL.
	carrySP bool

	refs []ref
	// sameAccount lists ref columns whose row must also belong to the
	// referring row's account (an application's JS app), not merely be
	// visible to the caller.
	sameAccount map[string]bool
	// ownChild lists ref columns whose row must be a child of the referring
	// row (a JS app's active version is one of its own versions).
	ownChild map[string]bool
	// usedBy lists the columns of other tables that may name a row of this
	// one without a foreign key (one that would cycle): Delete answers
	// store.ErrInUse while one does.
	usedBy []ref
	// children are the tables whose rows this one's delete removes (ON
	// DELETE CASCADE on their parent column): a delete is refused while a
	// row that survives it names one of theirs.
	children []*table

	// The narrowest scope allowed to create, update and delete rows; a
	// narrower caller gets store.ErrForbidden.
	createMin, updateMin, deleteMin store.ScopeKind

	// readOnly columns cannot be patched (besides pk and created_at, always).
	readOnly map[string]bool
	// patchMin is, per column, the narrowest scope that may patch it when it
	// is narrower than updateMin allows (an account may edit itself, but not
	// switch itself back on after its service provider switched it off).
	patchMin map[string]store.ScopeKind
}

// schema is every table, built once by Open.
type schema struct {
	webhooks, serviceProviders, accounts, accountLimits, applications, phoneNumbers,
	voipCarriers, sipGateways, lcr, lcrRoutes, lcrCarrierSetEntries, clients, apiKeys,
	speechCredentials, jsApps, jsAppVersions, jsAppInvocations, cdrs, alerts *table
}

func newTable[T any](name, pk string, own ownership) (*table, error) {
	m, err := newMapping(reflect.TypeFor[T]())
	if err != nil {
		return nil, err
	}
	if f, ok := m.byCol[pk]; !ok || f.kind != kString {
		return nil, fmt.Errorf("store/sql: table %s: primary key %s is not a string field", name, pk)
	}
	return &table{
		name: name, pk: pk, m: m, own: own,
		createMin: store.ScopeAccount, updateMin: store.ScopeAccount, deleteMin: store.ScopeAccount,
		readOnly: map[string]bool{}, patchMin: map[string]store.ScopeKind{},
	}, nil
}

func newSchema() (*schema, error) {
	var s schema
	var errs []error
	must := func(t *table, err error) *table {
		errs = append(errs, err)
		return t
	}
	s.webhooks = must(newTable[store.Webhook]("webhooks", "webhook_sid", ownNone))
	s.serviceProviders = must(newTable[store.ServiceProvider]("service_providers", "service_provider_sid", ownServiceProviderRow))
	s.accounts = must(newTable[store.Account]("accounts", "account_sid", ownAccountRow))
	s.accountLimits = must(newTable[store.AccountLimit]("account_limits", "account_limits_sid", ownParent))
	s.applications = must(newTable[store.Application]("applications", "application_sid", ownEither))
	s.phoneNumbers = must(newTable[store.PhoneNumber]("phone_numbers", "phone_number_sid", ownEither))
	s.voipCarriers = must(newTable[store.VoipCarrier]("voip_carriers", "voip_carrier_sid", ownEither))
	s.sipGateways = must(newTable[store.SipGateway]("sip_gateways", "sip_gateway_sid", ownParent))
	s.lcr = must(newTable[store.LCR]("lcr", "lcr_sid", ownEither))
	s.lcrRoutes = must(newTable[store.LCRRoute]("lcr_routes", "lcr_route_sid", ownParent))
	s.lcrCarrierSetEntries = must(newTable[store.LCRCarrierSetEntry]("lcr_carrier_set_entry", "lcr_carrier_set_entry_sid", ownParent))
	s.clients = must(newTable[store.Client]("clients", "client_sid", ownAccount))
	s.apiKeys = must(newTable[store.APIKey]("api_keys", "api_key_sid", ownEither))
	s.speechCredentials = must(newTable[store.SpeechCredential]("speech_credentials", "speech_credential_sid", ownEither))
	s.jsApps = must(newTable[store.JSApp]("js_apps", "js_app_sid", ownAccount))
	s.jsAppVersions = must(newTable[store.JSAppVersion]("js_app_versions", "js_app_version_sid", ownParent))
	s.jsAppInvocations = must(newTable[invocationRow]("js_app_invocations", "js_app_invocation_sid", ownAccount))
	s.cdrs = must(newTable[store.CDR]("cdrs", "call_sid", ownAccount))
	s.alerts = must(newTable[store.Alert]("alerts", "alert_sid", ownAccount))
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}

	sp, acct := s.serviceProviders, s.accounts
	s.serviceProviders.createMin, s.serviceProviders.updateMin, s.serviceProviders.deleteMin =
		store.ScopeAdmin, store.ScopeServiceProvider, store.ScopeAdmin
	s.serviceProviders.refs = []ref{{"lcr_sid", s.lcr}}

	s.accounts.createMin, s.accounts.deleteMin = store.ScopeServiceProvider, store.ScopeServiceProvider
	s.accounts.patchMin["is_active"] = store.ScopeServiceProvider
	s.accounts.refs = []ref{{"service_provider_sid", sp},
		{"device_calling_application_sid", s.applications}, {"lcr_sid", s.lcr}}

	parent(s.accountLimits, "account_sid", acct)
	s.accountLimits.createMin, s.accountLimits.updateMin, s.accountLimits.deleteMin =
		store.ScopeServiceProvider, store.ScopeServiceProvider, store.ScopeServiceProvider

	s.applications.refs = []ref{{"account_sid", acct}, {"service_provider_sid", sp}, {"js_app_sid", s.jsApps},
		{"fallback_js_app_sid", s.jsApps}}
	s.applications.sameAccount = map[string]bool{"js_app_sid": true, "fallback_js_app_sid": true}
	s.phoneNumbers.refs = []ref{{"account_sid", acct}, {"service_provider_sid", sp},
		{"voip_carrier_sid", s.voipCarriers}, {"application_sid", s.applications}}
	s.voipCarriers.refs = []ref{{"account_sid", acct}, {"service_provider_sid", sp}, {"application_sid", s.applications}}
	parent(s.sipGateways, "voip_carrier_sid", s.voipCarriers)
	s.lcr.refs = []ref{{"account_sid", acct}, {"service_provider_sid", sp},
		{"default_carrier_set_entry_sid", s.lcrCarrierSetEntries}}
	parent(s.lcrRoutes, "lcr_sid", s.lcr)
	parent(s.lcrCarrierSetEntries, "lcr_route_sid", s.lcrRoutes)
	s.lcrCarrierSetEntries.refs = append(s.lcrCarrierSetEntries.refs, ref{"voip_carrier_sid", s.voipCarriers})
	s.clients.refs = []ref{{"account_sid", acct}}
	s.apiKeys.refs = []ref{{"account_sid", acct}, {"service_provider_sid", sp}}
	s.apiKeys.ownerOptional = true
	s.apiKeys.carrySP = true
	s.apiKeys.readOnly["token_hash"] = true
	s.apiKeys.readOnly["last_used"] = true
	s.speechCredentials.refs = []ref{{"account_sid", acct}, {"service_provider_sid", sp}}
	s.jsApps.refs = []ref{{"account_sid", acct}, {"active_version_sid", s.jsAppVersions}}
	s.jsApps.ownChild = map[string]bool{"active_version_sid": true}
	s.jsApps.readOnly["updated_at"] = true
	parent(s.jsAppVersions, "js_app_sid", s.jsApps)
	// A version is what was uploaded: its number, source and fingerprint never change.
	for _, c := range []string{"version", "source", "sha256"} {
		s.jsAppVersions.readOnly[c] = true
	}
	// No foreign key from js_apps.active_version_sid: with the versions'
	// ON DELETE CASCADE it would cycle, and InnoDB then refuses to delete an
	// app that has an active version.
	s.jsAppVersions.usedBy = []ref{{"active_version_sid", s.jsApps}}
	// SQLite has no foreign key on fallback_js_app_sid (migration 0003).
	s.jsApps.usedBy = []ref{{"js_app_sid", s.applications}, {"fallback_js_app_sid", s.applications}}
	s.jsAppInvocations.refs = []ref{{"js_app_sid", s.jsApps}}
	// No foreign key from lcr.default_carrier_set_entry_sid either (it would
	// cycle through the routes' cascade): an lcr's default entry, or the
	// route that holds it, cannot be deleted from under it.
	s.lcrCarrierSetEntries.usedBy = []ref{{"default_carrier_set_entry_sid", s.lcr}}

	// Ownership is fixed at creation: moving a row to another tenant is a
	// delete and a create, never a patch.
	for _, t := range []*table{s.serviceProviders, s.accounts, s.accountLimits, s.applications,
		s.phoneNumbers, s.voipCarriers, s.sipGateways, s.lcr, s.lcrRoutes, s.lcrCarrierSetEntries,
		s.clients, s.apiKeys, s.speechCredentials, s.jsApps, s.jsAppVersions} {
		switch t.own {
		case ownAccountRow, ownEither:
			t.readOnly["service_provider_sid"] = true
			t.readOnly["account_sid"] = true
		case ownAccount:
			t.readOnly["account_sid"] = true
		case ownParent:
			t.readOnly[t.parentCol] = true
		}
		for _, r := range t.refs {
			if _, ok := t.m.byCol[r.col]; !ok {
				return nil, fmt.Errorf("store/sql: table %s: ref column %s is not a field", t.name, r.col)
			}
		}
	}
	return &s, nil
}

func parent(t *table, col string, p *table) {
	t.parentCol, t.parent = col, p
	t.refs = append(t.refs, ref{col, p})
	p.children = append(p.children, t)
}

// scopeWhere is the one place that turns a scope into SQL: the condition that
// a row of t must meet to be visible to s, qualified by t's name so that it
// can stand in any SELECT, UPDATE or DELETE on t. Every statement on a
// provisioning table that a scoped caller reaches goes through it.
func scopeWhere(t *table, s store.Scope) (string, []any) {
	if s.Kind == store.ScopeAdmin {
		return "1 = 1", nil
	}
	col := func(c string) string { return quote(t.name) + "." + quote(c) }
	const accountsOfSP = "SELECT `accounts`.`account_sid` FROM `accounts` WHERE `accounts`.`service_provider_sid` = ?"
	account := s.Kind == store.ScopeAccount
	switch t.own {
	case ownServiceProviderRow:
		// An account sees (and may read) its own service provider.
		return col("service_provider_sid") + " = ?", []any{s.ServiceProviderSID}
	case ownAccountRow:
		if account {
			return col("account_sid") + " = ?", []any{s.AccountSID}
		}
		return col("service_provider_sid") + " = ?", []any{s.ServiceProviderSID}
	case ownAccount:
		if account {
			return col("account_sid") + " = ?", []any{s.AccountSID}
		}
		return col("account_sid") + " IN (" + accountsOfSP + ")", []any{s.ServiceProviderSID}
	case ownEither:
		if account {
			return col("account_sid") + " = ?", []any{s.AccountSID}
		}
		return "(" + col("service_provider_sid") + " = ? OR " + col("account_sid") + " IN (" + accountsOfSP + "))",
			[]any{s.ServiceProviderSID, s.ServiceProviderSID}
	case ownParent:
		w, args := scopeWhere(t.parent, s)
		return col(t.parentCol) + " IN (SELECT " + quote(t.parent.name) + "." + quote(t.parent.pk) +
			" FROM " + quote(t.parent.name) + " WHERE " + w + ")", args
	}
	return "1 = 0", nil // ownNone: never visible through a scope
}

// refWhere is the condition for a row of t to be referenced by a row that a
// caller in scope s writes. It is scopeWhere, plus one widening: an account
// may point at rows its service provider shares with all its accounts (an SP
// carrier for a phone number, an SP application), which it cannot list.
func refWhere(t *table, s store.Scope) (string, []any) {
	w, args := scopeWhere(t, s)
	if s.Kind == store.ScopeAccount && t.own == ownEither && s.ServiceProviderSID != "" {
		col := func(c string) string { return quote(t.name) + "." + quote(c) }
		w = "(" + w + " OR (" + col("service_provider_sid") + " = ? AND " + col("account_sid") + " IS NULL))"
		args = append(args, s.ServiceProviderSID)
	}
	return w, args
}
