//go:build !unix

package sqlstore

import "context"

// lockFile is a no-op where flock does not exist: on such systems, do not run
// `voxrun migrate` beside a running server. SQLite's own locking still keeps
// each migration's transaction whole.
func lockFile(ctx context.Context, path string) (unlock func() error, err error) {
	return func() error { return nil }, nil
}
