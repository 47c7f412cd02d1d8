package redisstore

// These tests run against the real Redis named by VOXRUN_TEST_REDIS (make test
// starts one and exports it; with CI=true a missing server fails the test).
// They use logical database 9 of that server, whatever the URL says, and
// FLUSHDB it before every subtest: database 9 belongs to this package's tests
// alone (bench/livestate uses 10), so other packages' tests can share the
// server. Nothing here calls t.Parallel: the subtests share the database.

import (
	"context"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/store"
	"github.com/voxrun/voxrun/store/storetest"
)

// testDB is this package's logical database on the shared test server.
const testDB = "9"

// testURL returns the test server's URL pointed at testDB, or skips.
func testURL(t *testing.T) string {
	t.Helper()
	raw := storetest.Server(t, storetest.RedisEnv)
	u, err := url.Parse(raw)
	require.NoError(t, err)
	u.Path = "/" + testDB
	q := u.Query()
	q.Del("db")
	u.RawQuery = q.Encode()
	return u.String()
}

// newStore opens a store on the emptied test database.
func newStore(t *testing.T) *Store {
	t.Helper()
	ctx := context.Background()
	s, err := Open(ctx, testURL(t))
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	require.NoError(t, s.Client().FlushDB(ctx).Err())
	return s
}

func TestConformance(t *testing.T) {
	storetest.RunLive(t, func(t *testing.T) store.Live { return newStore(t) })
}

func TestPurgeLockName(t *testing.T) {
	require.Equal(t, storetest.PurgeLockName, PurgeLockName)
}

var (
	_ store.Live          = (*Store)(nil)
	_ storetest.Inspector = (*Store)(nil)
)
