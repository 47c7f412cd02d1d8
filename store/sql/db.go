package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/voxrun/voxrun/store"
)

// Drivers accepted in [Config.Driver].
const (
	DriverSQLite = "sqlite"
	DriverMySQL  = "mysql"
)

// Config says which database to open and how.
type Config struct {
	// Driver is "sqlite" (the embedded default) or "mysql" (MySQL or MariaDB).
	Driver string
	// DSN locates the database. For sqlite it is a file path (or a file: URI)
	// such as "./data/voxrun.db"; its directory is created when missing. For
	// mysql it is a go-sql-driver DSN such as
	// "user:pass@tcp(db:3306)/voxrun"; parseTime, UTC and utf8mb4 are forced.
	DSN string
	// Sealer encrypts secret columns at rest. It is required.
	Sealer *store.Sealer
	// MaxOpenConns bounds the connection pool: MySQL connections (at least
	// 2), or SQLite reader connections (SQLite always has exactly one writer).
	// Zero means 16 for MySQL and 4 for SQLite.
	MaxOpenConns int
	// BusyTimeout is how long SQLite waits for a lock held by another process
	// (`voxrun migrate` beside a running server) before failing. Zero means 5 s.
	BusyTimeout time.Duration
}

// DB is a provisioning database. It implements [store.Provisioning]; it is
// safe for concurrent use.
type DB struct {
	dialect dialect
	// w takes every write and every transaction. For SQLite it is a pool of
	// exactly one connection, so that writers queue in Go instead of failing
	// with SQLITE_BUSY; for MySQL it is the same pool as r.
	w *sql.DB
	// r serves reads: SQLite reader connections in WAL mode (they never block
	// the writer, nor it them), or the MySQL pool.
	r      *sql.DB
	sealer *store.Sealer
	schema *schema
	// path is the SQLite database file (empty for MySQL).
	path string
}

var _ store.Provisioning = (*DB)(nil)

// Open opens the database described by cfg and checks that it answers. It does
// not migrate: call [DB.Migrate] (voxrun serve and voxrun migrate up do).
func Open(ctx context.Context, cfg Config) (*DB, error) {
	if cfg.Sealer == nil {
		return nil, errors.New("store/sql: open: a Sealer is required to encrypt secrets at rest")
	}
	sch, err := newSchema()
	if err != nil {
		return nil, err
	}
	d := &DB{sealer: cfg.Sealer, schema: sch}
	switch cfg.Driver {
	case DriverSQLite, "sqlite3":
		d.dialect = sqliteDialect{}
		if err := d.openSQLite(cfg); err != nil {
			return nil, err
		}
	case DriverMySQL:
		d.dialect = mysqlDialect{}
		if err := d.openMySQL(cfg); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("store/sql: open: unknown driver %q (want sqlite or mysql): %w", cfg.Driver, store.ErrInvalid)
	}
	if err := d.Ping(ctx); err != nil {
		_ = d.Close()
		return nil, err
	}
	return d, nil
}

func (d *DB) openSQLite(cfg Config) error {
	dsn := cfg.DSN
	if dsn == "" {
		return errors.New("store/sql: open: empty sqlite path")
	}
	path, rawQuery, _ := strings.Cut(strings.TrimPrefix(dsn, "file:"), "?")
	if path == ":memory:" || strings.Contains(rawQuery, "mode=memory") {
		return errors.New("store/sql: open: in-memory sqlite is not supported (readers and the writer need one shared file)")
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("store/sql: open: data directory: %w", err)
		}
	}
	busy := cfg.BusyTimeout
	if busy <= 0 {
		busy = 5 * time.Second
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return fmt.Errorf("store/sql: open: sqlite dsn: %w", err)
	}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	writer, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return fmt.Errorf("store/sql: open: %w", err)
	}
	// One writer connection: SQLite allows one writer at a time, and a second
	// connection that tries to write waits in busy_timeout and can still fail
	// with SQLITE_BUSY when it upgrades a read transaction. Queuing writers on
	// database/sql's pool instead never does; BEGIN IMMEDIATE (_txlock) keeps
	// a transaction from starting as a reader.
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	writer.SetConnMaxIdleTime(0)

	rq, _ := url.ParseQuery(rawQuery)
	rq.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()))
	rq.Add("_pragma", "foreign_keys(1)")
	rq.Add("_pragma", "query_only(1)")
	reader, err := sql.Open("sqlite", "file:"+path+"?"+rq.Encode())
	if err != nil {
		_ = writer.Close()
		return fmt.Errorf("store/sql: open: %w", err)
	}
	n := cfg.MaxOpenConns
	if n <= 0 {
		n = 4
	}
	reader.SetMaxOpenConns(n)
	reader.SetMaxIdleConns(n)
	d.w, d.r, d.path = writer, reader, path
	return nil
}

func (d *DB) openMySQL(cfg Config) error {
	dsn := cfg.DSN
	if !strings.Contains(dsn, "charset=") {
		// The driver takes the connection charset from the DSN text only.
		if strings.Contains(dsn, "?") {
			dsn += "&charset=utf8mb4"
		} else {
			dsn += "?charset=utf8mb4"
		}
	}
	mc, err := mysql.ParseDSN(dsn)
	if err != nil {
		return fmt.Errorf("store/sql: open: mysql dsn: %w", err)
	}
	if mc.DBName == "" {
		return errors.New("store/sql: open: the mysql dsn names no database")
	}
	mc.ParseTime = true
	mc.Loc = time.UTC
	mc.Collation = "utf8mb4_bin"
	// Strict mode whatever the server's default: a value too long for its
	// column is an error (store.ErrInvalid), never silently truncated.
	if mc.Params == nil {
		mc.Params = map[string]string{}
	}
	if _, ok := mc.Params["sql_mode"]; !ok {
		mc.Params["sql_mode"] = "'TRADITIONAL'"
	}
	// Interpolating arguments client-side saves a prepare round trip per
	// statement; it is safe with utf8mb4 (the driver refuses it for the
	// multibyte charsets where it would not be).
	mc.InterpolateParams = true
	if mc.Timeout == 0 {
		mc.Timeout = 5 * time.Second
	}
	conn, err := mysql.NewConnector(mc)
	if err != nil {
		return fmt.Errorf("store/sql: open: %w", err)
	}
	db := sql.OpenDB(conn)
	n := cfg.MaxOpenConns
	if n <= 0 {
		n = 16
	}
	// At least two: Migrate pins one connection for its lock while goose
	// works on another.
	n = max(n, 2)
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxLifetime(5 * time.Minute)
	d.w, d.r = db, db
	return nil
}

// Ping checks that the database answers.
func (d *DB) Ping(ctx context.Context) error {
	if err := d.w.PingContext(ctx); err != nil {
		return d.wrap("ping", opRead, err)
	}
	if d.r != d.w {
		if err := d.r.PingContext(ctx); err != nil {
			return d.wrap("ping", opRead, err)
		}
	}
	return nil
}

// Close closes the connection pools.
func (d *DB) Close() error {
	var errs []error
	if d.r != nil && d.r != d.w {
		errs = append(errs, d.r.Close())
	}
	if d.w != nil {
		errs = append(errs, d.w.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("store/sql: close: %w", err)
	}
	return nil
}

// Driver reports the driver the database was opened with: "sqlite" or "mysql".
func (d *DB) Driver() string { return d.dialect.name() }

// SQL returns the underlying pool that takes writes. It bypasses tenant
// scoping, sealing and hooks: it is for tests that inspect raw columns and for
// operational tools, never for request handling.
func (d *DB) SQL() *sql.DB { return d.w }
