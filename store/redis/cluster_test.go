package redisstore

import (
	"context"
	"os"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/store"
	"github.com/voxrun/voxrun/store/storetest"
)

// sentinelEnv optionally names a Redis behind Sentinel for the conformance
// suite, as a redis-sentinel:// URL, e.g.
// redis-sentinel://127.0.0.1:26399/vxmaster/9. Like clusterEnv it skips when
// unset, and the suite empties the database it names.
const sentinelEnv = "VOXRUN_TEST_REDIS_SENTINEL"

func TestConformanceSentinel(t *testing.T) {
	raw := os.Getenv(sentinelEnv)
	if raw == "" {
		t.Skipf("%s is not set: no Sentinel to test against", sentinelEnv)
	}
	storetest.RunLive(t, func(t *testing.T) store.Live {
		ctx := context.Background()
		s, err := Open(ctx, raw)
		require.NoError(t, err)
		t.Cleanup(func() { _ = s.Close() })
		require.NoError(t, s.Client().FlushDB(ctx).Err())
		return s
	})
}

// clusterEnv optionally names a Redis Cluster for the conformance suite, as a
// redis-cluster:// URL, e.g. redis-cluster://127.0.0.1:7101,127.0.0.1:7102.
// make test does not start a cluster, so this test skips when it is unset,
// even under CI. The suite empties every master before each subtest: point it
// at a throwaway cluster only.
const clusterEnv = "VOXRUN_TEST_REDIS_CLUSTER"

func TestConformanceCluster(t *testing.T) {
	raw := os.Getenv(clusterEnv)
	if raw == "" {
		t.Skipf("%s is not set: no Redis Cluster to test against", clusterEnv)
	}
	storetest.RunLive(t, func(t *testing.T) store.Live {
		ctx := context.Background()
		s, err := Open(ctx, raw)
		require.NoError(t, err)
		t.Cleanup(func() { _ = s.Close() })
		cc, ok := s.Client().(*redis.ClusterClient)
		require.True(t, ok, "%s is not a cluster URL", clusterEnv)
		require.NoError(t, cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
			return c.FlushDB(ctx).Err()
		}))
		return s
	})
}
