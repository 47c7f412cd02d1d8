package cdr

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/store"
	sqlstore "github.com/voxrun/voxrun/store/sql"
	"github.com/voxrun/voxrun/store/storetest"
)

// batch is the number of CDRs written per benchmark operation.
const batch = 10_000

func sealer(tb testing.TB) *store.Sealer {
	tb.Helper()
	s, err := store.NewSealer(make([]byte, store.KeySize))
	require.NoError(tb, err)
	return s
}

// openSQLite is a migrated SQLite database in a temporary directory.
func openSQLite(tb testing.TB) *sqlstore.DB {
	tb.Helper()
	return openMigrated(tb, sqlstore.Config{Driver: sqlstore.DriverSQLite,
		DSN: filepath.Join(tb.TempDir(), "voxrun.db"), Sealer: sealer(tb)})
}

// openMySQL is a migrated, throwaway database voxrun_test_<random> on the
// test server, dropped at cleanup.
func openMySQL(tb testing.TB) *sqlstore.DB {
	tb.Helper()
	mc, err := mysql.ParseDSN(storetest.Server(tb, storetest.MySQLEnv))
	require.NoError(tb, err)
	name := "voxrun_test_bench_" + strings.ReplaceAll(uuid.NewString()[:13], "-", "")
	mc.DBName = ""
	admin, err := sql.Open("mysql", mc.FormatDSN())
	require.NoError(tb, err)
	_, err = admin.ExecContext(context.Background(), "CREATE DATABASE `"+name+"` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
	require.NoError(tb, err)
	tb.Cleanup(func() {
		_, err := admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS `"+name+"`")
		require.NoError(tb, err)
		require.NoError(tb, admin.Close())
	})
	mc.DBName = name
	return openMigrated(tb, sqlstore.Config{Driver: sqlstore.DriverMySQL, DSN: mc.FormatDSN(), Sealer: sealer(tb)})
}

func openMigrated(tb testing.TB, cfg sqlstore.Config) *sqlstore.DB {
	tb.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, cfg)
	require.NoError(tb, err)
	tb.Cleanup(func() { require.NoError(tb, db.Close()) })
	_, err = db.Migrate(ctx)
	require.NoError(tb, err)
	return db
}

// makeCDRs makes n realistic call records of one account with fresh call_sids.
func makeCDRs(account string, n int) []store.CDR {
	now := time.Now().UTC()
	out := make([]store.CDR, n)
	for i := range out {
		at := now.Add(-time.Duration(i) * time.Second)
		ans := at.Add(3 * time.Second)
		out[i] = store.CDR{
			CallSID: uuid.NewString(), AccountSID: account, ApplicationSID: uuid.NewString(),
			Direction: "inbound", From: fmt.Sprintf("+1555%07d", i), To: "+15550000000",
			CallID: uuid.NewString() + "@192.0.2.1", SIPStatus: 200, Duration: 42,
			AttemptedAt: at, AnsweredAt: &ans, TerminatedAt: at.Add(45 * time.Second), Answered: true,
			TerminationReason: "caller hungup", Trunk: "carrier-1", Host: "10.0.0.1", RemoteHost: "192.0.2.1",
		}
	}
	return out
}

var databases = []struct {
	name string
	open func(tb testing.TB) *sqlstore.DB
}{
	{"sqlite", openSQLite},
	{"mysql", openMySQL},
}

// BenchmarkCDRInsert10k writes 10,000 new CDRs per operation, SQLite then
// MySQL; the mysql line also reports x_sqlite, MySQL's time over SQLite's.
func BenchmarkCDRInsert10k(b *testing.B) {
	perOp := map[string]float64{}
	for _, d := range databases {
		b.Run(d.name, func(b *testing.B) {
			db := d.open(b)
			ctx := context.Background()
			account := uuid.NewString()
			var elapsed time.Duration
			n := 0
			for b.Loop() {
				b.StopTimer()
				cdrs := makeCDRs(account, batch)
				b.StartTimer()
				start := time.Now()
				if err := db.WriteCDRs(ctx, cdrs); err != nil {
					b.Fatal(err)
				}
				elapsed += time.Since(start)
				n++
			}
			ms := float64(elapsed.Microseconds()) / 1000 / float64(n)
			b.ReportMetric(ms, "ms/10k")
			b.ReportMetric(float64(batch)/(ms/1000), "cdrs/s")
			perOp[d.name] = ms
			if d.name == "mysql" && perOp["sqlite"] > 0 {
				// The side-by-side figure: MySQL's time over SQLite's, both
				// measured in this run on this machine.
				b.ReportMetric(ms/perOp["sqlite"], "x_sqlite")
			}
		})
	}
}

// TestCDRInsert keeps the benchmark's path honest in `go test`: a smaller
// batch, written twice (idempotent), lands once on each database.
func TestCDRInsert(t *testing.T) {
	for _, d := range databases {
		t.Run(d.name, func(t *testing.T) {
			db := d.open(t)
			account := uuid.NewString()
			cdrs := makeCDRs(account, 1200)
			require.NoError(t, db.WriteCDRs(t.Context(), cdrs))
			require.NoError(t, db.WriteCDRs(t.Context(), cdrs))
			_, total, err := db.ListCDRs(t.Context(), store.Admin(), store.CDRQuery{Count: 1})
			require.NoError(t, err)
			require.Equal(t, len(cdrs), total)
		})
	}
}
