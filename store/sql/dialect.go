package sqlstore

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/voxrun/voxrun/store"
)

// dialect is what differs between SQLite and MySQL once the schema exists:
// very little, since both accept backticked identifiers and ? placeholders.
type dialect interface {
	name() string
	gooseDialect() goose.Dialect
	// insertIgnoreDup turns the head "INSERT INTO `t` (cols) VALUES ..." plus
	// its rows into a statement that skips rows whose primary key exists.
	insertIgnoreDup(head, values, pk string) string
	// timeArg is how a time is bound as an argument.
	timeArg(t time.Time) any
	// classify maps a driver error onto a store sentinel, or nil.
	classify(err error, op opKind) error
	// forUpdate is the suffix that locks the rows a SELECT reads until the
	// transaction ends.
	forUpdate() string
}

// opKind tells classify what the statement was doing: a foreign-key failure
// means "the parent is missing" on a write and "still referenced" on a delete.
type opKind int

const (
	opRead opKind = iota
	opWrite
	opDelete
)

// timePrecision is what every time is truncated to before it is stored, so
// that what Create returns equals what Get reads on both databases.
const timePrecision = time.Millisecond

// sqliteTimeLayout is fixed-width UTC, so that text order is time order. The
// driver parses it back into a time.Time for DATETIME columns.
const sqliteTimeLayout = "2006-01-02 15:04:05.000"

type sqliteDialect struct{}

func (sqliteDialect) name() string                { return DriverSQLite }
func (sqliteDialect) gooseDialect() goose.Dialect { return goose.DialectSQLite3 }
func (sqliteDialect) insertIgnoreDup(head, values, pk string) string {
	return head + values + " ON CONFLICT(`" + pk + "`) DO NOTHING"
}
func (sqliteDialect) forUpdate() string { return "" } // BEGIN IMMEDIATE holds the write lock

func (sqliteDialect) timeArg(t time.Time) any {
	return t.UTC().Truncate(timePrecision).Format(sqliteTimeLayout)
}

func (sqliteDialect) classify(err error, op opKind) error {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return classifyNet(err)
	}
	switch se.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return store.ErrConflict
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		if op == opDelete {
			return store.ErrInUse
		}
		return store.ErrNotFound
	}
	switch se.Code() & 0xff { // primary result code
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_CANTOPEN,
		sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY:
		return store.ErrUnavailable
	}
	return nil
}

type mysqlDialect struct{}

func (mysqlDialect) name() string                { return DriverMySQL }
func (mysqlDialect) gooseDialect() goose.Dialect { return goose.DialectMySQL }

// insertIgnoreDup uses ON DUPLICATE KEY UPDATE pk = pk rather than INSERT
// IGNORE: IGNORE would also turn truncations and bad values into warnings.
func (mysqlDialect) insertIgnoreDup(head, values, pk string) string {
	return head + values + " ON DUPLICATE KEY UPDATE `" + pk + "` = `" + pk + "`"
}
func (mysqlDialect) timeArg(t time.Time) any { return t.UTC().Truncate(timePrecision) }
func (mysqlDialect) forUpdate() string       { return " FOR UPDATE" }

// MySQL error numbers (https://mariadb.com/kb/en/mariadb-error-codes/).
const (
	mysqlDupEntry          = 1062 // ER_DUP_ENTRY
	mysqlRowIsReferenced   = 1451 // ER_ROW_IS_REFERENCED_2
	mysqlRowIsReferenced1  = 1217 // ER_ROW_IS_REFERENCED
	mysqlNoReferencedRow   = 1452 // ER_NO_REFERENCED_ROW_2
	mysqlNoReferencedRow1  = 1216 // ER_NO_REFERENCED_ROW
	mysqlLockWaitTimeout   = 1205 // ER_LOCK_WAIT_TIMEOUT
	mysqlTooManyConns      = 1040 // ER_CON_COUNT_ERROR
	mysqlServerShutdown    = 1053 // ER_SERVER_SHUTDOWN
	mysqlAccessDenied      = 1045 // ER_ACCESS_DENIED_ERROR
	mysqlUnknownDatabase   = 1049 // ER_BAD_DB_ERROR
	mysqlQueryInterrupted  = 1317 // ER_QUERY_INTERRUPTED
	mysqlReadOnlyTx        = 1792 // ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION
	mysqlDeadlockRollback  = 1213 // ER_LOCK_DEADLOCK
	mysqlOptionPreventsRun = 1290 // ER_OPTION_PREVENTS_STATEMENT (read-only server)
	mysqlBadNull           = 1048 // ER_BAD_NULL_ERROR
	mysqlOutOfRange        = 1264 // ER_WARN_DATA_OUT_OF_RANGE
	mysqlTruncatedValue    = 1292 // ER_TRUNCATED_WRONG_VALUE (a bad date)
	mysqlIncorrectValue    = 1366 // ER_TRUNCATED_WRONG_VALUE_FOR_FIELD
	mysqlDataTooLong       = 1406 // ER_DATA_TOO_LONG
)

func (mysqlDialect) classify(err error, op opKind) error {
	var me *mysql.MySQLError
	if !errors.As(err, &me) {
		if errors.Is(err, mysql.ErrInvalidConn) {
			return store.ErrUnavailable
		}
		return classifyNet(err)
	}
	switch me.Number {
	case mysqlDupEntry:
		return store.ErrConflict
	case mysqlRowIsReferenced, mysqlRowIsReferenced1:
		return store.ErrInUse
	case mysqlNoReferencedRow, mysqlNoReferencedRow1:
		if op == opDelete {
			return store.ErrInUse
		}
		return store.ErrNotFound
	case mysqlBadNull, mysqlOutOfRange, mysqlTruncatedValue, mysqlIncorrectValue, mysqlDataTooLong:
		return store.ErrInvalid
	case mysqlLockWaitTimeout, mysqlTooManyConns, mysqlServerShutdown, mysqlAccessDenied,
		mysqlUnknownDatabase, mysqlQueryInterrupted, mysqlReadOnlyTx, mysqlDeadlockRollback,
		mysqlOptionPreventsRun:
		return store.ErrUnavailable
	}
	return nil
}

// classifyNet recognises a server that cannot be reached.
func classifyNet(err error) error {
	var ne net.Error
	switch {
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.ErrUnexpectedEOF),
		errors.As(err, &ne):
		return store.ErrUnavailable
	}
	return nil
}

// wrap prefixes err with where it happened and, when the driver error means
// one of the store sentinels, wraps that sentinel too, so that callers can
// errors.Is(err, store.ErrConflict) and still read the driver's message.
func (d *DB) wrap(what string, op opKind, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("store/sql: %s: %w", what, err)
	}
	for _, s := range []error{store.ErrNotFound, store.ErrConflict, store.ErrInUse,
		store.ErrForbidden, store.ErrInvalid, store.ErrUnavailable} {
		if errors.Is(err, s) {
			return fmt.Errorf("store/sql: %s: %w", what, err)
		}
	}
	if s := d.dialect.classify(err, op); s != nil {
		return fmt.Errorf("store/sql: %s: %w: %w", what, s, err)
	}
	return fmt.Errorf("store/sql: %s: %w", what, err)
}

// quote backticks an identifier; identifiers come from the table descriptions
// and the records' tags, never from callers (Filter and Patch keys are checked
// against the known columns first).
func quote(ident string) string { return "`" + strings.ReplaceAll(ident, "`", "``") + "`" }
