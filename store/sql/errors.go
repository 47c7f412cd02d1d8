package sqlstore

import "errors"

// ErrSchemaTooNew means the database was migrated by a newer voxrun than this
// one: its schema has versions this binary does not know, so it does not
// touch it (roll the binary forward instead).
var ErrSchemaTooNew = errors.New("store/sql: database schema is newer than this binary")
