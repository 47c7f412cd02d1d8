package redisstore

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/voxrun/voxrun/store"
)

// Option configures a Store.
type Option func(*config)

type config struct {
	now  func() time.Time
	tls  *tls.Config
	name string
}

// WithClock sets the clock that scores active-call-sids and stamps queue and
// conference entries without a time (time.Now by default). TTLs are always
// Redis's own.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithTLSConfig sets the TLS configuration for rediss:// URLs (a private CA,
// client certificates). It replaces the default that verifies the server's
// name against the system roots.
func WithTLSConfig(t *tls.Config) Option { return func(c *config) { c.tls = t } }

// WithClientName names the connections (CLIENT SETNAME), e.g. after the node.
func WithClientName(name string) Option { return func(c *config) { c.name = name } }

// Default ports when a URL leaves them out.
const (
	defaultPort         = "6379"
	defaultSentinelPort = "26379"
)

// Open connects to the Redis that rawURL names, checks that it answers within
// ctx, and returns the store. The URL forms are:
//
//	redis://[user:password@]host[:port][/db][?option=value...]
//	rediss://...                                      the same over TLS
//	unix://[user:password@]/path/to/redis.sock[?db=N]
//	redis-sentinel://[user:password@]host[:port][,host[:port]...]/master[/db][?option=value...]
//	rediss-sentinel://...                             the same over TLS
//	redis-cluster://[user:password@]host[:port][,host[:port]...][?option=value...]
//	rediss-cluster://...                              the same over TLS
//
// Ports default to 6379 (26379 for Sentinel), db to 0. In the Sentinel form
// the hosts are the sentinels, the path names the monitored master (and
// optionally the db), the user and password are the master's, and the
// options sentinel_username and sentinel_password authenticate to the
// sentinels; db=N may also be given as an option. A cluster has no db. The
// options are go-redis's, in snake case (dial_timeout=3s, pool_size=50,
// read_timeout=1s, ...); an unknown option is an error. Unless the URL sets
// pipeline_pool_size, the pool for MULTI and pipelines is as large as the
// command pool (go-redis would use 10).
//
// Example: redis-sentinel://:s3cret@10.0.0.1:26379,10.0.0.2:26379/mymaster?db=0
func Open(ctx context.Context, rawURL string, opts ...Option) (*Store, error) {
	var c config
	for _, o := range opts {
		o(&c)
	}
	t, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	t.apply(c)
	s := New(t.client(), opts...)
	if err := s.Ping(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// target is a parsed URL: exactly one of the three is set.
type target struct {
	simple   *redis.Options
	failover *redis.FailoverOptions
	cluster  *redis.ClusterOptions
}

// pipelinePool sizes go-redis's separate pool for pipelines and MULTI, unless
// the URL did (pipeline_pool_size): as large as the command pool (by default
// 10 per CPU) instead of go-redis's 10, because every call-hash write is a
// MULTI. With 10, concurrent PutCalls queue for a connection and the
// parallel benchmark (bench/livestate) halves.
func pipelinePool(pipelinePoolSize, poolSize int) int {
	if pipelinePoolSize != 0 {
		return pipelinePoolSize
	}
	if poolSize > 0 {
		return poolSize
	}
	return 10 * runtime.GOMAXPROCS(0)
}

func (t target) apply(c config) {
	switch {
	case t.simple != nil:
		t.simple.PipelinePoolSize = pipelinePool(t.simple.PipelinePoolSize, t.simple.PoolSize)
	case t.failover != nil:
		t.failover.PipelinePoolSize = pipelinePool(t.failover.PipelinePoolSize, t.failover.PoolSize)
	case t.cluster != nil:
		t.cluster.PipelinePoolSize = pipelinePool(t.cluster.PipelinePoolSize, t.cluster.PoolSize)
	}
	switch {
	case t.simple != nil:
		if c.tls != nil {
			t.simple.TLSConfig = c.tls
		}
		if c.name != "" {
			t.simple.ClientName = c.name
		}
	case t.failover != nil:
		if c.tls != nil {
			t.failover.TLSConfig = c.tls
		}
		if c.name != "" {
			t.failover.ClientName = c.name
		}
	case t.cluster != nil:
		if c.tls != nil {
			t.cluster.TLSConfig = c.tls
		}
		if c.name != "" {
			t.cluster.ClientName = c.name
		}
	}
}

func (t target) client() redis.UniversalClient {
	switch {
	case t.failover != nil:
		return redis.NewFailoverClient(t.failover)
	case t.cluster != nil:
		return redis.NewClusterClient(t.cluster)
	default:
		return redis.NewClient(t.simple)
	}
}

// errURL wraps a URL problem; the URL itself is never repeated, since it may
// hold a password.
func errURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // url.Error repeats the URL, password and all
	}
	return fmt.Errorf("store/redis: url: %w: %w", store.ErrInvalid, err)
}

func parseURL(raw string) (target, error) {
	scheme, _, ok := strings.Cut(raw, "://")
	if !ok {
		return target{}, errURL(errors.New("no scheme (want redis://, rediss://, unix://, redis-sentinel:// or redis-cluster://)"))
	}
	switch scheme {
	case "redis", "rediss", "unix":
		o, err := redis.ParseURL(raw)
		if err != nil {
			return target{}, errURL(err)
		}
		return target{simple: o}, nil
	case "redis-sentinel", "rediss-sentinel", "redis-cluster", "rediss-cluster":
	default:
		return target{}, errURL(fmt.Errorf("unknown scheme %q", scheme))
	}
	// url.Parse refuses a list of hosts, so the hosts are cut out by hand and
	// the rest parsed around a placeholder.
	rest := strings.TrimPrefix(raw, scheme+"://")
	authority, tail := rest, ""
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority, tail = rest[:i], rest[i:]
	}
	userinfo, hosts := "", authority
	if i := strings.LastIndex(authority, "@"); i >= 0 {
		userinfo, hosts = authority[:i+1], authority[i+1:]
	}
	u, err := url.Parse(scheme + "://" + userinfo + "placeholder" + tail)
	if err != nil {
		return target{}, errURL(err)
	}
	base, kind, _ := strings.Cut(u.Scheme, "-")
	q := u.Query()
	g := url.URL{Scheme: base} // the go-redis URL this one translates to
	gq := url.Values{}
	for k, v := range q {
		gq[k] = v
	}
	if kind == "sentinel" {
		addrs, err := splitAddrs(hosts, defaultSentinelPort)
		if err != nil {
			return target{}, err
		}
		parts := strings.FieldsFunc(u.Path, func(r rune) bool { return r == '/' })
		switch len(parts) {
		case 2:
			if _, err := strconv.Atoi(parts[1]); err != nil {
				return target{}, errURL(fmt.Errorf("invalid database number %q", parts[1]))
			}
			if !gq.Has("db") {
				gq.Set("db", parts[1])
			}
		case 1:
		default:
			return target{}, errURL(errors.New("sentinel URL needs the master's name as its path: redis-sentinel://host:port/mymaster"))
		}
		g.Host = addrs[0]
		for _, a := range addrs[1:] {
			gq.Add("addr", a)
		}
		gq.Set("master_name", parts[0])
		// go-redis reads the sentinels' credentials from the user info and the
		// master's from options: ours are the other way round, as users expect.
		gq.Del("sentinel_username")
		gq.Del("sentinel_password")
		if su, sp := q.Get("sentinel_username"), q.Get("sentinel_password"); sp != "" {
			g.User = url.UserPassword(su, sp)
		} else if su != "" {
			g.User = url.User(su)
		}
		if u.User != nil {
			if name := u.User.Username(); name != "" {
				gq.Set("username", name)
			}
			if p, ok := u.User.Password(); ok {
				gq.Set("password", p)
			}
		}
		g.RawQuery = gq.Encode()
		o, err := redis.ParseFailoverURL(g.String())
		if err != nil {
			return target{}, errURL(err)
		}
		return target{failover: o}, nil
	}
	// Cluster.
	if p := strings.Trim(u.Path, "/"); p != "" && p != "0" {
		return target{}, errURL(errors.New("a cluster has only database 0"))
	}
	if gq.Has("db") {
		return target{}, errURL(errors.New("a cluster has only database 0"))
	}
	addrs, err := splitAddrs(hosts, defaultPort)
	if err != nil {
		return target{}, err
	}
	g.Host = addrs[0]
	g.User = u.User
	for _, a := range addrs[1:] {
		gq.Add("addr", a)
	}
	g.RawQuery = gq.Encode()
	o, err := redis.ParseClusterURL(g.String())
	if err != nil {
		return target{}, errURL(err)
	}
	return target{cluster: o}, nil
}

// splitAddrs splits "h1:p1,h2,[::1]:p3" into host:port pairs.
func splitAddrs(hosts, port string) ([]string, error) {
	var addrs []string
	for _, h := range strings.Split(hosts, ",") {
		if h == "" {
			continue
		}
		host, p, err := net.SplitHostPort(h)
		if err != nil { // no port
			host, p = strings.Trim(h, "[]"), port
		}
		if host == "" {
			return nil, errURL(fmt.Errorf("empty host in %q", h))
		}
		if _, err := strconv.ParseUint(p, 10, 16); err != nil {
			return nil, errURL(fmt.Errorf("invalid port %q", p))
		}
		addrs = append(addrs, net.JoinHostPort(host, p))
	}
	if len(addrs) == 0 {
		return nil, errURL(errors.New("no host"))
	}
	return addrs, nil
}
