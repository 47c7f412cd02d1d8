package sqlstore

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/store"
)

// TestScopeWhere pins the SQL that scopes every statement, one case per kind
// of ownership and scope.
func TestScopeWhere(t *testing.T) {
	sch, err := newSchema()
	require.NoError(t, err)
	acct := store.ForAccount("sp1", "a1")
	sp := store.ForServiceProvider("sp1")
	const accountsOfSP = "SELECT `accounts`.`account_sid` FROM `accounts` WHERE `accounts`.`service_provider_sid` = ?"
	cases := []struct {
		name  string
		t     *table
		s     store.Scope
		where string
		args  []any
	}{
		{"admin sees all", sch.applications, store.Admin(), "1 = 1", nil},
		{"account: its own service provider", sch.serviceProviders, acct, "`service_providers`.`service_provider_sid` = ?", []any{"sp1"}},
		{"account: itself", sch.accounts, acct, "`accounts`.`account_sid` = ?", []any{"a1"}},
		{"SP: its accounts", sch.accounts, sp, "`accounts`.`service_provider_sid` = ?", []any{"sp1"}},
		{"account: account-owned", sch.clients, acct, "`clients`.`account_sid` = ?", []any{"a1"}},
		{"SP: account-owned", sch.clients, sp, "`clients`.`account_sid` IN (" + accountsOfSP + ")", []any{"sp1"}},
		{"account: either-owned", sch.voipCarriers, acct, "`voip_carriers`.`account_sid` = ?", []any{"a1"}},
		{"SP: either-owned", sch.voipCarriers, sp,
			"(`voip_carriers`.`service_provider_sid` = ? OR `voip_carriers`.`account_sid` IN (" + accountsOfSP + "))", []any{"sp1", "sp1"}},
		{"account: through a parent", sch.sipGateways, acct,
			"`sip_gateways`.`voip_carrier_sid` IN (SELECT `voip_carriers`.`voip_carrier_sid` FROM `voip_carriers` WHERE `voip_carriers`.`account_sid` = ?)", []any{"a1"}},
		{"SP: through two parents", sch.lcrCarrierSetEntries, sp,
			"`lcr_carrier_set_entry`.`lcr_route_sid` IN (SELECT `lcr_routes`.`lcr_route_sid` FROM `lcr_routes` WHERE " +
				"`lcr_routes`.`lcr_sid` IN (SELECT `lcr`.`lcr_sid` FROM `lcr` WHERE " +
				"(`lcr`.`service_provider_sid` = ? OR `lcr`.`account_sid` IN (" + accountsOfSP + "))))", []any{"sp1", "sp1"}},
		{"webhooks are never reached through a scope", sch.webhooks, acct, "1 = 0", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			where, args := scopeWhere(c.t, c.s)
			require.Equal(t, c.where, where)
			require.Equal(t, c.args, args)
		})
	}
}

// TestEveryTableScoped: every table a repository serves has an ownership
// that scopeWhere understands, and every ref column exists.
func TestEveryTableScoped(t *testing.T) {
	sch, err := newSchema()
	require.NoError(t, err)
	for _, tb := range []*table{sch.serviceProviders, sch.accounts, sch.accountLimits, sch.applications, sch.phoneNumbers,
		sch.voipCarriers, sch.sipGateways, sch.lcr, sch.lcrRoutes, sch.lcrCarrierSetEntries, sch.clients, sch.apiKeys,
		sch.speechCredentials, sch.jsApps, sch.jsAppVersions, sch.jsAppInvocations, sch.cdrs, sch.alerts} {
		require.NotEqual(t, ownNone, tb.own, tb.name)
		where, _ := scopeWhere(tb, store.ForAccount("sp", "a"))
		require.NotEqual(t, "1 = 0", where, tb.name)
		for _, r := range tb.refs {
			require.Contains(t, tb.m.byCol, r.col, tb.name)
		}
	}
}
