package redisstore

import (
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/store"
)

func TestParseURL(t *testing.T) {
	type want struct {
		kind     string // simple, sentinel, cluster
		addrs    []string
		db       int
		master   string
		user     string
		password string
		sUser    string // sentinel credentials
		sPass    string
		tls      bool
		dial     time.Duration
	}
	cases := []struct {
		name string
		url  string
		want want
	}{
		{"plain", "redis://127.0.0.1:6399/0", want{kind: "simple", addrs: []string{"127.0.0.1:6399"}}},
		{"plain db and auth", "redis://u:p@redis.internal/3", want{kind: "simple", addrs: []string{"redis.internal:6379"}, db: 3, user: "u", password: "p"}},
		{"tls", "rediss://:p@redis.example.com:6380/1?dial_timeout=2s", want{kind: "simple", addrs: []string{"redis.example.com:6380"}, db: 1, password: "p", tls: true, dial: 2 * time.Second}},
		{"sentinel", "redis-sentinel://10.0.0.1:26379,10.0.0.2:26380,10.0.0.3/mymaster?db=2",
			want{kind: "sentinel", addrs: []string{"10.0.0.1:26379", "10.0.0.2:26380", "10.0.0.3:26379"}, master: "mymaster", db: 2}},
		{"sentinel db in path", "redis-sentinel://s1:26379/mymaster/4",
			want{kind: "sentinel", addrs: []string{"s1:26379"}, master: "mymaster", db: 4}},
		{"sentinel credentials", "redis-sentinel://app:pw@s1,s2/mymaster?sentinel_username=sen&sentinel_password=spw",
			want{kind: "sentinel", addrs: []string{"s1:26379", "s2:26379"}, master: "mymaster", user: "app", password: "pw", sUser: "sen", sPass: "spw"}},
		{"sentinel tls", "rediss-sentinel://s1:26379/mymaster",
			want{kind: "sentinel", addrs: []string{"s1:26379"}, master: "mymaster", tls: true}},
		{"cluster", "redis-cluster://:pw@10.0.0.1:7000,10.0.0.2:7001,[::1]:7002",
			want{kind: "cluster", addrs: []string{"10.0.0.1:7000", "10.0.0.2:7001", "[::1]:7002"}, password: "pw"}},
		{"cluster default port and options", "rediss-cluster://c1,c2?dial_timeout=3s",
			want{kind: "cluster", addrs: []string{"c1:6379", "c2:6379"}, tls: true, dial: 3 * time.Second}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tg, err := parseURL(tc.url)
			require.NoError(t, err)
			var got want
			switch {
			case tg.simple != nil:
				o := tg.simple
				got = want{kind: "simple", addrs: []string{o.Addr}, db: o.DB, user: o.Username, password: o.Password, tls: o.TLSConfig != nil, dial: o.DialTimeout}
			case tg.failover != nil:
				o := tg.failover
				got = want{kind: "sentinel", addrs: o.SentinelAddrs, db: o.DB, master: o.MasterName, user: o.Username, password: o.Password,
					sUser: o.SentinelUsername, sPass: o.SentinelPassword, tls: o.TLSConfig != nil, dial: o.DialTimeout}
			case tg.cluster != nil:
				o := tg.cluster
				got = want{kind: "cluster", addrs: o.Addrs, user: o.Username, password: o.Password, tls: o.TLSConfig != nil, dial: o.DialTimeout}
			}
			require.Equal(t, tc.want, got)
			c := tg.client() // builds without dialling
			require.NoError(t, c.Close())
		})
	}
}

func TestParseURLErrors(t *testing.T) {
	cases := []struct {
		name string
		url  string
	}{
		{"no scheme", "127.0.0.1:6379"},
		{"unknown scheme", "memcached://127.0.0.1:11211"},
		{"bad db", "redis://127.0.0.1:6379/x"},
		{"unknown option", "redis://127.0.0.1:6379/0?colour=blue"},
		{"sentinel without master", "redis-sentinel://s1:26379,s2:26379"},
		{"sentinel bad db", "redis-sentinel://s1:26379/mymaster/x"},
		{"sentinel bad port", "redis-sentinel://s1:notaport/mymaster"},
		{"cluster with db", "redis-cluster://c1:7000/2"},
		{"cluster with db option", "redis-cluster://c1:7000?db=2"},
		{"cluster without hosts", "redis-cluster:///"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseURL(tc.url)
			require.Error(t, err)
			require.ErrorIs(t, err, store.ErrInvalid)
			require.Contains(t, err.Error(), "store/redis: ")
		})
	}
}

// TestParseURLKeepsPasswordsOut checks that a malformed URL's error does not
// repeat its password into a log.
func TestParseURLKeepsPasswordsOut(t *testing.T) {
	for _, raw := range []string{
		"redis://u:hunter2@127.0.0.1:6379/x",
		"redis-sentinel://u:hunter2@s1:bad/mymaster",
		"redis-cluster://u:hunter2@c1:7000/3",
		"redis://u:hunter2@127.0.0.1:6379/0?colour=blue",
		"redis-sentinel://u:hunter2%zz@s1/mymaster",
	} {
		_, err := parseURL(raw)
		require.Error(t, err, raw)
		require.NotContains(t, err.Error(), "hunter2")
		var invalid = errors.Is(err, store.ErrInvalid)
		require.True(t, invalid)
	}
}

func TestPipelinePoolSize(t *testing.T) {
	cases := []struct {
		name string
		url  string
		want int
	}{
		{"default follows the command pool", "redis://127.0.0.1:6379/0", 10 * runtime.GOMAXPROCS(0)},
		{"pool_size", "redis://127.0.0.1:6379/0?pool_size=64", 64},
		{"set in the url", "redis://127.0.0.1:6379/0?pool_size=64&pipeline_pool_size=8", 8},
		{"sentinel", "redis-sentinel://s1/m?pool_size=30", 30},
		{"cluster", "redis-cluster://c1,c2?pool_size=20", 20},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tg, err := parseURL(tc.url)
			require.NoError(t, err)
			tg.apply(config{})
			switch {
			case tg.simple != nil:
				require.Equal(t, tc.want, tg.simple.PipelinePoolSize)
			case tg.failover != nil:
				require.Equal(t, tc.want, tg.failover.PipelinePoolSize)
			case tg.cluster != nil:
				require.Equal(t, tc.want, tg.cluster.PipelinePoolSize)
			}
		})
	}
}
