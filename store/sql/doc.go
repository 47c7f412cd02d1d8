// Package sqlstore implements [store.Provisioning] on SQL: SQLite (through
// modernc.org/sqlite, pure Go, one file in the data directory) as the embedded
// default, and MySQL or MariaDB (through go-sql-driver/mysql) in production.
//
// One generic data-access layer serves every record type. Each table is
// described once, declaratively (its name, primary key, how it is owned and
// which other tables its columns point to, see tables.go); the mapping between
// rows and structs is built by reflection over the records' db tags when the
// database is opened. That layer seals and opens secret columns with a
// [store.Sealer], keeps hook fields as rows of the webhooks table, generates
// UUID v4 sids and created_at, validates Filter and Patch keys, and maps
// driver errors onto the store sentinels (ErrConflict, ErrInUse, ErrNotFound,
// ErrUnavailable).
//
// Tenant scoping is structural: one function, scopeWhere, builds the WHERE
// clause of every SELECT, UPDATE and DELETE from the table's ownership and the
// caller's [store.Scope]; Create forces ownership from the scope and checks
// that every referenced row is visible in it. A row outside the scope is
// store.ErrNotFound, exactly as a missing one.
//
// The schema is versioned per dialect by embedded goose migrations
// (migrations/sqlite, migrations/mysql) and per table in the tableversions
// table (seed 001). [DB.Migrate] is idempotent; [DB.MigrationStatus] is what
// `voxrun migrate status` prints.
//
// It is not the live-state store (calls, registrations, queues: see
// store/memory and store/redis), it does not decide what a tenant may do
// beyond its scope (the REST layer does), and it is not imported by anything
// but cmd: everyone else sees [store.Provisioning].
package sqlstore
