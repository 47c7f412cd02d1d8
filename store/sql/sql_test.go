package sqlstore_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/store"
	sqlstore "github.com/voxrun/voxrun/store/sql"
	"github.com/voxrun/voxrun/store/storetest"
)

func sealer(t *testing.T) *store.Sealer {
	t.Helper()
	s, err := store.NewSealer([]byte("0123456789abcdef0123456789abcdef"))
	require.NoError(t, err)
	return s
}

// sqliteConfig is a fresh SQLite file in the test's temporary directory.
func sqliteConfig(t *testing.T) sqlstore.Config {
	return sqlstore.Config{Driver: sqlstore.DriverSQLite, DSN: filepath.Join(t.TempDir(), "data", "voxrun.db"), Sealer: sealer(t)}
}

// mysqlConfig is a fresh database voxrun_test_<random> on the test server,
// dropped when the test ends.
func mysqlConfig(t *testing.T) sqlstore.Config {
	t.Helper()
	return sqlstore.Config{Driver: sqlstore.DriverMySQL, DSN: storetest.MySQLDatabase(t), Sealer: sealer(t)}
}

var drivers = []struct {
	name   string
	config func(t *testing.T) sqlstore.Config
}{
	{"sqlite", sqliteConfig},
	{"mysql", mysqlConfig},
}

func open(t *testing.T, cfg sqlstore.Config) *sqlstore.DB {
	t.Helper()
	db, err := sqlstore.Open(t.Context(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	return db
}

func openMigrated(t *testing.T, cfg sqlstore.Config) store.Provisioning {
	t.Helper()
	db := open(t, cfg)
	_, err := db.Migrate(t.Context())
	require.NoError(t, err)
	return db
}

func TestProvisioning(t *testing.T) {
	for _, d := range drivers {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			storetest.RunProvisioning(t, func(t *testing.T) store.Provisioning { return openMigrated(t, d.config(t)) })
		})
	}
}

// TestUpgrade builds the schema of version 1, fills it, upgrades to the
// newest version and checks that the data survived and tableversions moved.
func TestUpgrade(t *testing.T) {
	for _, d := range drivers {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			cfg := d.config(t)
			db := open(t, cfg)

			st, err := db.MigrationStatus(ctx)
			require.NoError(t, err)
			require.Zero(t, st.Current, "a new database has nothing applied")
			require.Equal(t, int64(4), st.Latest)
			require.Empty(t, st.Tables)

			applied, err := db.MigrateTo(ctx, 1)
			require.NoError(t, err)
			require.Equal(t, []int64{1}, applied)
			versions := tableVersions(t, db)
			require.Equal(t, 1, versions["cdrs"])
			require.Equal(t, 1, versions["alerts"])
			require.False(t, hasIndex(t, db, "cdrs", "cdrs_account_attempted_idx"))

			// Data in version 1.
			sp, err := db.ServiceProviders(store.Admin()).Create(ctx, &store.ServiceProvider{Name: "upgrade-sp"})
			require.NoError(t, err)
			acct := store.Account{Name: "a", ServiceProviderSID: sp, WebhookSecret: "secret-v1",
				RegistrationHook: &store.Webhook{URL: "https://reg.example.com", Password: "hook-pw"}}
			_, err = db.Accounts(store.Admin()).Create(ctx, &acct)
			require.NoError(t, err)
			key := store.APIKey{AccountSID: acct.AccountSID}
			_, err = db.APIKeys(store.Admin()).Create(ctx, &key)
			require.NoError(t, err)
			at := time.Date(2026, 5, 6, 7, 8, 9, 123e6, time.UTC)
			cdr := store.CDR{CallSID: uuid.NewString(), AccountSID: acct.AccountSID, Direction: "inbound", From: "+1", To: "+2",
				CallID: "c@x", SIPStatus: 200, AttemptedAt: at, TerminatedAt: at.Add(time.Minute)}
			require.NoError(t, db.WriteCDRs(ctx, []store.CDR{cdr}))
			// A JS app of version 1, in version 1's columns: its variables
			// were sealed and its current version was a number.
			jsApp, jsV1, jsV2 := uuid.NewString(), uuid.NewString(), uuid.NewString()
			sealedVars, err := sealer(t).Seal(`{"TOKEN":"t0k3n"}`)
			require.NoError(t, err)
			now := time.Now().UTC().Format("2006-01-02 15:04:05.000")
			for _, q := range []struct {
				sql  string
				args []any
			}{
				{"INSERT INTO `js_apps` (`js_app_sid`, `account_sid`, `name`, `current_version`, `env_vars`, `created_at`, `updated_at`) VALUES (?, ?, 'js', 2, ?, ?, ?)",
					[]any{jsApp, acct.AccountSID, sealedVars, now, now}},
				{"INSERT INTO `js_app_versions` (`js_app_version_sid`, `js_app_sid`, `version`, `source`, `created_at`) VALUES (?, ?, 1, 'export default {}', ?), (?, ?, 2, 'module.exports = {}', ?)",
					[]any{jsV1, jsApp, now, jsV2, jsApp, now}},
			} {
				_, err := db.SQL().ExecContext(ctx, q.sql, q.args...)
				require.NoError(t, err, q.sql)
			}

			// Upgrade, twice: the second is a no-op.
			applied, err = db.Migrate(ctx)
			require.NoError(t, err)
			require.Equal(t, []int64{2, 3, 4}, applied)
			applied, err = db.Migrate(ctx)
			require.NoError(t, err)
			require.Empty(t, applied)

			versions = tableVersions(t, db)
			require.Equal(t, 2, versions["cdrs"])
			require.Equal(t, 2, versions["alerts"])
			require.Equal(t, 1, versions["accounts"])
			require.True(t, hasIndex(t, db, "cdrs", "cdrs_account_attempted_idx"))
			require.True(t, hasIndex(t, db, "alerts", "alerts_account_created_idx"))
			require.Equal(t, 2, versions["js_apps"])
			require.Equal(t, 1, versions["js_app_invocations"])
			require.Equal(t, 3, versions["applications"])

			js, err := db.JSApps(store.Admin()).Get(ctx, jsApp)
			require.NoError(t, err)
			require.Equal(t, jsV2, js.ActiveVersionSID, "current_version 2 became the sid of version 2")
			require.Equal(t, `{"TOKEN":"t0k3n"}`, js.SecretEnvVars, "the sealed variables are the secret ones")
			require.Empty(t, js.EnvVars)
			v2, err := db.JSAppVersions(store.Admin()).Get(ctx, jsV2)
			require.NoError(t, err)
			require.Equal(t, 2, v2.Version)
			require.Equal(t, "module.exports = {}", v2.Source)

			got, err := db.Accounts(store.Admin()).Get(ctx, acct.AccountSID)
			require.NoError(t, err)
			require.Equal(t, acct, got, "the account, its sealed secret and its hook survived")
			k, err := db.AuthenticateAPIKey(ctx, key.Token)
			require.NoError(t, err)
			require.Equal(t, key.APIKeySID, k.APIKeySID)
			cdrs, total, err := db.ListCDRs(ctx, store.Admin(), store.CDRQuery{})
			require.NoError(t, err)
			require.Equal(t, 1, total)
			require.Equal(t, cdr, cdrs[0])

			st, err = db.MigrationStatus(ctx)
			require.NoError(t, err)
			require.Equal(t, sqlstore.MigrationStatus{Driver: d.name, Current: 4, Latest: 4,
				Migrations: st.Migrations, Tables: st.Tables}, st)
			require.Len(t, st.Migrations, 4)
			require.Equal(t, "0002_recent_calls_indexes.sql", st.Migrations[1].Name)
			require.Equal(t, "0003_js_apps.sql", st.Migrations[2].Name)
			require.Equal(t, "0004_application_hook_timeout.sql", st.Migrations[3].Name)
			for _, m := range st.Migrations {
				require.True(t, m.Applied(), m.Name)
			}
			tv, err := db.TableVersions(ctx)
			require.NoError(t, err)
			require.Equal(t, tv, st.Tables)
		})
	}
}

// TestSchemaTooNew: a database migrated by a newer voxrun is refused, not
// silently used.
func TestSchemaTooNew(t *testing.T) {
	for _, d := range drivers {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			db := open(t, d.config(t))
			_, err := db.Migrate(ctx)
			require.NoError(t, err)
			_, err = db.SQL().ExecContext(ctx, "INSERT INTO `goose_db_version` (`version_id`, `is_applied`) VALUES (99, 1)")
			require.NoError(t, err)
			_, err = db.Migrate(ctx)
			require.ErrorIs(t, err, sqlstore.ErrSchemaTooNew)
			require.Contains(t, err.Error(), "99")
			st, err := db.MigrationStatus(ctx)
			require.NoError(t, err)
			require.Equal(t, int64(99), st.Current)
			require.Equal(t, int64(4), st.Latest)
		})
	}
}

// TestConcurrentMigrate starts several migrations of one database at once,
// as nodes starting together do: all succeed and the schema is applied once.
func TestConcurrentMigrate(t *testing.T) {
	for _, d := range drivers {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			cfg := d.config(t)
			const n = 4
			errs := make(chan error, n)
			applied := make(chan int, n)
			for range n {
				go func() {
					db, err := sqlstore.Open(t.Context(), cfg)
					if err != nil {
						errs <- err
						return
					}
					defer db.Close()
					v, err := db.Migrate(t.Context())
					applied <- len(v)
					errs <- err
				}()
			}
			total := 0
			for range n {
				require.NoError(t, <-errs)
			}
			close(applied)
			for a := range applied {
				total += a
			}
			require.Equal(t, 4, total, "each migration ran exactly once")
		})
	}
}

func tableVersions(t *testing.T, db *sqlstore.DB) map[string]int {
	t.Helper()
	tv, err := db.TableVersions(t.Context())
	require.NoError(t, err)
	out := map[string]int{}
	for _, v := range tv {
		out[v.Table] = v.Version
	}
	return out
}

func hasIndex(t *testing.T, db *sqlstore.DB, table, index string) bool {
	t.Helper()
	var q string
	switch db.Driver() {
	case sqlstore.DriverSQLite:
		q = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND name = ?"
	default:
		q = "SELECT COUNT(*) FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = ? AND index_name = ?"
	}
	var n int
	require.NoError(t, db.SQL().QueryRowContext(t.Context(), q, table, index).Scan(&n))
	return n > 0
}

func TestOpen(t *testing.T) {
	ctx := t.Context()
	cases := []struct {
		name    string
		cfg     sqlstore.Config
		mention string
		is      error
	}{
		{"no sealer", sqlstore.Config{Driver: "sqlite", DSN: filepath.Join(t.TempDir(), "x.db")}, "Sealer", nil},
		{"unknown driver", sqlstore.Config{Driver: "postgres", DSN: "x", Sealer: sealer(t)}, "postgres", store.ErrInvalid},
		{"in-memory sqlite", sqlstore.Config{Driver: "sqlite", DSN: ":memory:", Sealer: sealer(t)}, "in-memory", nil},
		{"mysql without a database", sqlstore.Config{Driver: "mysql", DSN: "u:p@tcp(127.0.0.1:3306)/", Sealer: sealer(t)}, "no database", nil},
		{"mysql unreachable", sqlstore.Config{Driver: "mysql", DSN: "u:p@tcp(127.0.0.1:1)/db?timeout=1s", Sealer: sealer(t)}, "ping", store.ErrUnavailable},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db, err := sqlstore.Open(ctx, c.cfg)
			require.Error(t, err)
			require.Nil(t, db)
			require.True(t, strings.HasPrefix(err.Error(), "store/sql: "), err.Error())
			require.Contains(t, err.Error(), c.mention)
			if c.is != nil {
				require.ErrorIs(t, err, c.is)
			}
		})
	}
}

// TestWrongSealingKey: secrets sealed under one key do not open under another.
func TestWrongSealingKey(t *testing.T) {
	ctx := t.Context()
	cfg := sqliteConfig(t)
	db := openMigrated(t, cfg)
	sp, err := db.ServiceProviders(store.Admin()).Create(ctx, &store.ServiceProvider{Name: "k"})
	require.NoError(t, err)
	acct, err := db.Accounts(store.Admin()).Create(ctx, &store.Account{Name: "a", ServiceProviderSID: sp, WebhookSecret: "s"})
	require.NoError(t, err)

	other, err := store.NewSealer([]byte("fedcba9876543210fedcba9876543210"))
	require.NoError(t, err)
	cfg.Sealer = other
	db2 := open(t, cfg)
	_, err = db2.Accounts(store.Admin()).Get(ctx, acct)
	require.ErrorIs(t, err, store.ErrSealed, "a wrong key fails loudly, never returns ciphertext as plaintext")
	require.Contains(t, err.Error(), "webhook_secret")
}

func Example() {
	ctx := context.Background()
	key, _ := store.LoadOrCreateKey("", filepath.Join("data", "encryption.key"))
	sealer, _ := store.NewSealer(key)
	db, err := sqlstore.Open(ctx, sqlstore.Config{Driver: sqlstore.DriverSQLite, DSN: "data/voxrun.db", Sealer: sealer})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		fmt.Println(err)
	}
}

// TestMySQLStrict: MySQL runs in strict mode whatever the server's default, so
// a value too long for its column is store.ErrInvalid, not truncated.
func TestMySQLStrict(t *testing.T) {
	ctx := t.Context()
	db := openMigrated(t, mysqlConfig(t))
	_, err := db.ServiceProviders(store.Admin()).Create(ctx, &store.ServiceProvider{Name: strings.Repeat("x", 65)})
	require.ErrorIs(t, err, store.ErrInvalid)
}
