package redisstore

import (
	"context"
	"encoding/json"
	"math"
	"net"
	"regexp"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/store"
)

// TestLayout reads what the store wrote with the raw client: the key names,
// types, fields and TTLs of seed 000, as jambonz's tools would read them.
func TestLayout(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	rc := s.Client()
	now := time.Now()

	requireType := func(t *testing.T, key, want string) {
		t.Helper()
		got, err := rc.Type(ctx, key).Result()
		require.NoError(t, err)
		require.Equal(t, want, got, key)
	}
	requirePTTL := func(t *testing.T, key string, want time.Duration) {
		t.Helper()
		got, err := rc.PTTL(ctx, key).Result()
		require.NoError(t, err)
		require.LessOrEqual(t, got, want, key)
		require.Greater(t, got, want-time.Minute, key)
	}

	t.Run("call hash and active-call-sids", func(t *testing.T) {
		require.NoError(t, s.PutCall(ctx, "acct-a", "c1", map[string]string{"call_sid": "c1", "direction": "inbound"}))
		key := "call:acct-a:c1"
		requireType(t, key, "hash")
		requirePTTL(t, key, 12*time.Hour)
		h, err := rc.HGetAll(ctx, key).Result()
		require.NoError(t, err)
		require.Equal(t, map[string]string{"call_sid": "c1", "direction": "inbound"}, h)
		requireType(t, "active-call-sids", "zset")
		score, err := rc.ZScore(ctx, "active-call-sids", key).Result()
		require.NoError(t, err)
		require.InDelta(t, float64(now.UnixMilli()), score, 5000, "score is ms since the epoch")
		require.Equal(t, math.Trunc(score), score)

		require.NoError(t, s.EndCall(ctx, "acct-a", "c1"))
		requirePTTL(t, key, time.Hour)
		again, err := rc.ZScore(ctx, "active-call-sids", key).Result()
		require.NoError(t, err)
		require.Equal(t, score, again, "the time of entry does not move")
	})

	t.Run("registration hash", func(t *testing.T) {
		exp := time.UnixMilli(now.Add(time.Hour).UnixMilli())
		require.NoError(t, s.Register(ctx, store.Registration{
			Name: "alice", Domain: "sip.example.com", Contact: "sip:alice@192.168.1.2:5060",
			SourceAddress: "203.0.113.7", SourcePort: 40123, Transport: "udp", Node: "10.0.0.1:5060",
			ExpiresAt: exp,
		}, store.NATRegistrationTTL))
		key := "user:alice@sip.example.com"
		requireType(t, key, "hash")
		requirePTTL(t, key, 30*time.Second)
		h, err := rc.HGetAll(ctx, key).Result()
		require.NoError(t, err)
		require.Equal(t, map[string]string{
			"name": "alice", "domain": "sip.example.com",
			"contact": "sip:alice@192.168.1.2:5060", "protocol": "udp",
			"sbcAddress": "10.0.0.1:5060", "proxy": "sip:203.0.113.7:40123",
			"source_address": "203.0.113.7", "source_port": "40123",
			"expiryTime": strconv.FormatInt(exp.UnixMilli(), 10),
		}, h)
	})

	t.Run("queue sorted set", func(t *testing.T) {
		at := time.UnixMilli(1_790_000_000_123)
		_, err := s.Enqueue(ctx, "acct-a", "support", store.QueueEntry{CallSID: "c1", Priority: 3, EnqueuedAt: at})
		require.NoError(t, err)
		key := "queue:acct-a:support"
		requireType(t, key, "zset")
		score, err := rc.ZScore(ctx, key, "c1").Result()
		require.NoError(t, err)
		require.Equal(t, 3*math.Ldexp(1, 42)+1_790_000_000_123, score)
	})

	t.Run("conference hash", func(t *testing.T) {
		joined := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
		_, err := s.JoinConference(ctx, "acct-a", "room", store.ConferenceMember{CallSID: "c1", Node: "n1", JoinedAt: joined})
		require.NoError(t, err)
		key := "conf:acct-a:room"
		requireType(t, key, "hash")
		raw, err := rc.HGet(ctx, key, "c1").Result()
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(raw), &m))
		require.Equal(t, map[string]any{"call_sid": "c1", "node": "n1", "joined_at": "2026-11-24T09:00:00Z"}, m)
		_, err = s.LeaveConference(ctx, "acct-a", "room", "c1")
		require.NoError(t, err)
		n, err := rc.Exists(ctx, key).Result()
		require.NoError(t, err)
		require.Zero(t, n, "an empty conference has no key")
	})

	t.Run("plain keys", func(t *testing.T) {
		require.NoError(t, s.PutTTS(ctx, "abc", []byte("audio"), time.Hour))
		require.NoError(t, s.KVSet(ctx, "acct-a", "k", "v", time.Minute))
		require.NoError(t, s.SetValue(ctx, "checkpoint:c1", []byte("{}"), 0))
		cases := []struct {
			name, key, want string
			ttl             time.Duration // 0: none
		}{
			{"tts", "tts:abc", "audio", time.Hour},
			{"kv", "kv:acct-a:k", "v", time.Minute},
			{"value", "checkpoint:c1", "{}", 0},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				requireType(t, tc.key, "string")
				got, err := rc.Get(ctx, tc.key).Result()
				require.NoError(t, err)
				require.Equal(t, tc.want, got)
				if tc.ttl == 0 {
					d, err := rc.PTTL(ctx, tc.key).Result()
					require.NoError(t, err)
					require.Equal(t, time.Duration(-1), d)
					return
				}
				requirePTTL(t, tc.key, tc.ttl)
			})
		}
	})

	t.Run("lock lease", func(t *testing.T) {
		unlock, ok, err := s.TryLock(ctx, "job", 10*time.Second)
		require.NoError(t, err)
		require.True(t, ok)
		token, err := rc.Get(ctx, "lock:job").Result()
		require.NoError(t, err)
		require.Regexp(t, regexp.MustCompile(`^[0-9a-f]{32}$`), token)
		requirePTTL(t, "lock:job", 10*time.Second)
		// Another holder's token is never deleted.
		require.NoError(t, rc.Set(ctx, "lock:job", "someone-else", time.Minute).Err())
		require.NoError(t, unlock(ctx))
		got, err := rc.Get(ctx, "lock:job").Result()
		require.NoError(t, err)
		require.Equal(t, "someone-else", got)
	})
}

// roundTrips counts what the client sends to Redis: one per command, one per
// pipeline or MULTI.
type roundTrips struct{ n atomic.Int64 }

func (r *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }
func (r *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { r.n.Add(1); return next(ctx, cmd) }
}
func (r *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { r.n.Add(1); return next(ctx, cmds) }
}

// TestOneRoundTrip checks that the logical operations that write more than
// one thing do it in one round trip.
func TestOneRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	// Warm the pools first: a new connection's handshake (HELLO, CLIENT
	// SETINFO) goes through the hooks too.
	require.NoError(t, s.Client().Ping(ctx).Err())
	_, err := s.Client().TxPipelined(ctx, func(p redis.Pipeliner) error { p.Ping(ctx); return nil })
	require.NoError(t, err)
	_, err = s.Client().Pipelined(ctx, func(p redis.Pipeliner) error { p.Ping(ctx); return nil })
	require.NoError(t, err)
	rt := &roundTrips{}
	s.Client().AddHook(rt)
	reg := store.Registration{Name: "alice", Domain: "d", Contact: "sip:alice@d"}
	cases := []struct {
		name string
		op   func() error
	}{
		{"PutCall creates", func() error { return s.PutCall(ctx, "a", "c1", map[string]string{"x": "1"}) }},
		{"PutCall merges", func() error { return s.PutCall(ctx, "a", "c1", map[string]string{"y": "2"}) }},
		{"EndCall", func() error { return s.EndCall(ctx, "a", "c1") }},
		{"GetCall", func() error { _, err := s.GetCall(ctx, "a", "c1"); return err }},
		{"DeleteCall", func() error { return s.DeleteCall(ctx, "a", "c1") }},
		{"Register", func() error { return s.Register(ctx, reg, time.Minute) }},
		{"Enqueue", func() error { _, err := s.Enqueue(ctx, "a", "q", store.QueueEntry{CallSID: "c1"}); return err }},
		{"Dequeue", func() error { _, err := s.Dequeue(ctx, "a", "q"); return err }},
		{"JoinConference", func() error {
			_, err := s.JoinConference(ctx, "a", "r", store.ConferenceMember{CallSID: "c1"})
			return err
		}},
		{"LeaveConference", func() error { _, err := s.LeaveConference(ctx, "a", "r", "c1"); return err }},
		{"SetValueNX", func() error { _, err := s.SetValueNX(ctx, "n", []byte("v"), time.Minute); return err }},
		{"KVSet", func() error { return s.KVSet(ctx, "a", "k", "v", time.Minute) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := rt.n.Load()
			require.NoError(t, tc.op())
			require.Equal(t, int64(1), rt.n.Load()-before)
		})
	}
}

func TestOpenUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close()) // nothing listens there now

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	_, err = Open(ctx, "redis://"+addr+"/0?dial_timeout=1s&max_retries=-1")
	require.ErrorIs(t, err, store.ErrUnavailable)
	require.Less(t, time.Since(start), 3*time.Second)
}

func TestClosedStore(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	require.NoError(t, s.Close())
	require.NoError(t, s.Close())
	require.ErrorIs(t, s.Ping(ctx), ErrClosed)
	_, err := s.Subscribe(ctx, "ch")
	require.ErrorIs(t, err, ErrClosed)
}
