package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/voxrun/voxrun/store"
)

// The migrations of each dialect, embedded in the binary. A migration that
// changes a table also bumps that table's row in tableversions.
//
//go:embed migrations/sqlite/*.sql migrations/mysql/*.sql
var migrations embed.FS

// Migration is one embedded migration and whether it is applied.
type Migration struct {
	Version int64
	// Name is the file name, e.g. "0002_recent_calls_indexes.sql".
	Name string
	// AppliedAt is when it ran; zero when it is pending.
	AppliedAt time.Time
}

// Applied reports whether the migration has run.
func (m Migration) Applied() bool { return !m.AppliedAt.IsZero() }

// MigrationStatus is what `voxrun migrate status` prints.
type MigrationStatus struct {
	// Driver is "sqlite" or "mysql".
	Driver string
	// Current is the newest applied migration (0 on an empty database) and
	// Latest the newest embedded one: Current < Latest means `voxrun migrate
	// up` has work to do; Current > Latest means the database was migrated by
	// a newer voxrun, and Migrate refuses it (ErrSchemaTooNew).
	Current, Latest int64
	Migrations      []Migration
	// Tables is the version of every table (empty before the first migration).
	Tables []store.TableVersion
}

func (d *DB) provider() (*goose.Provider, error) {
	fsys, err := fs.Sub(migrations, path.Join("migrations", d.dialect.name()))
	if err != nil {
		return nil, fmt.Errorf("store/sql: migrations: %w", err)
	}
	opts := []goose.ProviderOption{
		goose.WithDisableGlobalRegistry(true),
		goose.WithLogger(goose.NopLogger()),
	}
	p, err := goose.NewProvider(d.dialect.gooseDialect(), d.w, fsys, opts...)
	if err != nil {
		return nil, fmt.Errorf("store/sql: migrations: %w", err)
	}
	return p, nil
}

// Migrate brings the schema to the newest embedded version. It is idempotent:
// on an up-to-date database it changes nothing. It returns the versions it
// applied.
func (d *DB) Migrate(ctx context.Context) ([]int64, error) {
	return d.MigrateTo(ctx, 0)
}

// MigrateTo applies the pending migrations up to and including version (0
// means all of them). The upgrade tests use it to build an older schema.
func (d *DB) MigrateTo(ctx context.Context, version int64) (_ []int64, err error) {
	p, err := d.provider()
	if err != nil {
		return nil, err
	}
	unlock, err := d.lockMigrations(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, unlock()) }()
	current, latest, err := p.GetVersions(ctx)
	if err != nil {
		return nil, d.wrap("migrate", opRead, err)
	}
	if current > latest {
		return nil, fmt.Errorf("store/sql: migrate: the database is at schema version %d, this binary knows up to %d: %w",
			current, latest, ErrSchemaTooNew)
	}
	var res []*goose.MigrationResult
	if version == 0 {
		res, err = p.Up(ctx)
	} else {
		res, err = p.UpTo(ctx, version)
	}
	var applied []int64
	for _, r := range res {
		if r.Error == nil {
			applied = append(applied, r.Source.Version)
		}
	}
	if err != nil && !errors.Is(err, goose.ErrNoNextVersion) {
		return applied, d.wrap("migrate", opWrite, err)
	}
	return applied, nil
}

// MigrationStatus reports the applied and pending migrations and the version
// of every table. On a database that was never migrated it reports every
// migration pending (goose creates its empty version table to say so).
func (d *DB) MigrationStatus(ctx context.Context) (_ MigrationStatus, err error) {
	st := MigrationStatus{Driver: d.dialect.name()}
	p, err := d.provider()
	if err != nil {
		return st, err
	}
	unlock, err := d.lockMigrations(ctx)
	if err != nil {
		return st, err
	}
	defer func() { err = errors.Join(err, unlock()) }()
	ms, err := p.Status(ctx)
	if err != nil {
		return st, d.wrap("migration status", opRead, err)
	}
	for _, m := range ms {
		mig := Migration{Version: m.Source.Version, Name: path.Base(m.Source.Path)}
		if m.State == goose.StateApplied {
			mig.AppliedAt = m.AppliedAt.UTC()
		}
		st.Latest = max(st.Latest, mig.Version)
		st.Migrations = append(st.Migrations, mig)
	}
	if st.Current, err = p.GetDBVersion(ctx); err != nil {
		return st, d.wrap("migration status", opRead, err)
	}
	if st.Current > 0 {
		if st.Tables, err = d.TableVersions(ctx); err != nil {
			return st, err
		}
	}
	return st, nil
}

// lockMigrations serialises migrations of one database across processes and
// nodes: several nodes starting at once, or `voxrun migrate` beside a running
// server. The lock is taken around the whole of goose's work, not through
// goose's session locker, because goose checks for pending migrations (and
// creates its version table) before it takes that lock.
//
// MySQL: a named lock (GET_LOCK) held by one pinned connection; it dies with
// the connection if the process does. SQLite: an advisory file lock beside
// the database file.
func (d *DB) lockMigrations(ctx context.Context) (unlock func() error, err error) {
	if d.dialect.name() == DriverSQLite {
		return lockFile(ctx, d.path+".migrate.lock")
	}
	conn, err := d.w.Conn(ctx)
	if err != nil {
		return nil, d.wrap("migration lock", opRead, err)
	}
	var got sql.NullInt64
	// Wait up to 5 minutes: a long migration on another node is not an error.
	if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK("+mysqlLockName+", 300)").Scan(&got); err != nil {
		_ = conn.Close()
		return nil, d.wrap("migration lock", opRead, err)
	}
	if got.Int64 != 1 {
		_ = conn.Close()
		return nil, fmt.Errorf("store/sql: migration lock: another node is still migrating: %w", store.ErrUnavailable)
	}
	return func() error {
		_, err := conn.ExecContext(context.WithoutCancel(ctx), "SELECT RELEASE_LOCK("+mysqlLockName+")")
		return errors.Join(err, conn.Close())
	}, nil
}

// mysqlLockName is the SQL expression of the migration lock's name. Lock
// names are server-wide, so it includes the database name: databases on one
// server migrate independently. MySQL caps names at 64 characters.
const mysqlLockName = "LEFT(CONCAT('voxrun_migrate:', DATABASE()), 64)"
