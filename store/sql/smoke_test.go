package sqlstore_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/store"
	sqlstore "github.com/voxrun/voxrun/store/sql"
)

func TestSmoke(t *testing.T) {
	ctx := context.Background()
	s, err := store.NewSealer(make([]byte, 32))
	require.NoError(t, err)
	db, err := sqlstore.Open(ctx, sqlstore.Config{Driver: "sqlite", DSN: filepath.Join(t.TempDir(), "v.db"), Sealer: s})
	require.NoError(t, err)
	defer db.Close()
	v, err := db.Migrate(ctx)
	require.NoError(t, err)
	t.Log(v)
	st, err := db.MigrationStatus(ctx)
	require.NoError(t, err)
	t.Logf("%+v", st)
	sp := store.ServiceProvider{Name: "sp", RegistrationHook: &store.Webhook{URL: "http://x", Password: "pw"}}
	sid, err := db.ServiceProviders(store.Admin()).Create(ctx, &sp)
	require.NoError(t, err)
	got, err := db.ServiceProviders(store.Admin()).Get(ctx, sid)
	require.NoError(t, err)
	t.Logf("%+v %+v", got, got.RegistrationHook)
}
