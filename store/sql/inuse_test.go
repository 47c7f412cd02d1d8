package sqlstore_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/store"
	sqlstore "github.com/voxrun/voxrun/store/sql"
)

// An lcr's default entry has no foreign key (it would cycle through the
// routes' cascade): the store keeps it from dangling. The entry, and the
// route that holds it, are in use while the lcr names it; the lcr itself
// goes with its routes and entries, its default included.
func TestLCRDefaultEntryInUse(t *testing.T) {
	for name, cfg := range map[string]func(*testing.T) sqlstore.Config{"sqlite": sqliteConfig, "mysql": mysqlConfig} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			p := openMigrated(t, cfg(t))
			sp, err := p.ServiceProviders(store.Admin()).Create(ctx, &store.ServiceProvider{Name: "sp"})
			require.NoError(t, err)
			s := store.ForServiceProvider(sp)
			carrier, err := p.VoipCarriers(s).Create(ctx, &store.VoipCarrier{Name: "c", ServiceProviderSID: sp})
			require.NoError(t, err)
			lcr, err := p.LCRs(s).Create(ctx, &store.LCR{Name: "l", ServiceProviderSID: sp})
			require.NoError(t, err)
			route, err := p.LCRRoutes(s).Create(ctx, &store.LCRRoute{LCRSID: lcr, Regex: "^1"})
			require.NoError(t, err)
			entry, err := p.LCRCarrierSetEntries(s).Create(ctx, &store.LCRCarrierSetEntry{LCRRouteSID: route, VoipCarrierSID: carrier, Workload: 1})
			require.NoError(t, err)
			require.NoError(t, p.LCRs(s).Update(ctx, lcr, store.Patch{"default_carrier_set_entry_sid": entry}))

			require.ErrorIs(t, p.LCRCarrierSetEntries(s).Delete(ctx, entry), store.ErrInUse)
			require.ErrorIs(t, p.LCRRoutes(s).Delete(ctx, route), store.ErrInUse)
			_, err = p.LCRCarrierSetEntries(s).Get(ctx, entry)
			require.NoError(t, err, "still there")

			require.NoError(t, p.LCRs(s).Delete(ctx, lcr))
			_, err = p.LCRRoutes(s).Get(ctx, route)
			require.ErrorIs(t, err, store.ErrNotFound)
			_, err = p.LCRCarrierSetEntries(s).Get(ctx, entry)
			require.ErrorIs(t, err, store.ErrNotFound)
			require.NoError(t, p.VoipCarriers(s).Delete(ctx, carrier), "nothing names the carrier any more")
		})
	}
}
