package storetest

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/store"
)

// PurgeLockName is store.PurgeLockName, kept here for callers of this package.
const PurgeLockName = store.PurgeLockName

// Key layout that the suite checks through [Inspector], beyond the helpers in
// package store (seed 000 and issue 3).
const (
	// TTSKeyPrefix prefixes a TTS cache entry: tts:{key}.
	TTSKeyPrefix = "tts:"
	// KVKeyPrefix prefixes a per-account key: kv:{accountSid}:{key}.
	KVKeyPrefix = "kv:"
)

// Inspector is implemented by live stores that let a test look behind the
// interface: how long a key has left, and ageing a key as if time had passed
// (the way a Redis key expires on its own). Production code never needs it.
type Inspector interface {
	// KeyTTL returns the key's remaining time to live, -1 when the key has no
	// expiry, or ErrNotFound when it does not exist.
	KeyTTL(ctx context.Context, key string) (time.Duration, error)
	// ExpireKey sets the key's time to live; ttl <= 0 expires it at once, as
	// Redis's PEXPIRE does. It returns ErrNotFound when the key does not exist.
	ExpireKey(ctx context.Context, key string, ttl time.Duration) error
}

// RunLive runs the live-state conformance suite. newStore returns an empty
// store for one subtest and arranges its Close with t.Cleanup (Close must be
// idempotent: some subtests close the store themselves). Subtests do not run
// in parallel, so implementations backed by one server can share it.
func RunLive(t *testing.T, newStore func(t *testing.T) store.Live) {
	t.Run("CallState", func(t *testing.T) { testCallState(t, newStore) })
	t.Run("Registrations", func(t *testing.T) { testRegistrations(t, newStore) })
	t.Run("Queues", func(t *testing.T) { testQueues(t, newStore) })
	t.Run("Conferences", func(t *testing.T) { testConferences(t, newStore) })
	t.Run("TTSCache", func(t *testing.T) { testTTSCache(t, newStore) })
	t.Run("KV", func(t *testing.T) { testKV(t, newStore) })
	t.Run("Values", func(t *testing.T) { testValues(t, newStore) })
	t.Run("Locker", func(t *testing.T) { testLocker(t, newStore) })
	t.Run("PubSub", func(t *testing.T) { testPubSub(t, newStore) })
	t.Run("WallClockExpiry", func(t *testing.T) { testWallClockExpiry(t, newStore) })
	t.Run("ContextCancelled", func(t *testing.T) { testContextCancelled(t, newStore) })
	t.Run("PingClose", func(t *testing.T) { testPingClose(t, newStore) })
	t.Run("Inspector", func(t *testing.T) { testInspector(t, newStore) })
}

// testInspector checks the test hooks themselves, which the rest relies on.
func testInspector(t *testing.T, newStore func(t *testing.T) store.Live) {
	ctx := context.Background()
	s := newStore(t)
	in := inspector(t, s)
	_, err := in.KeyTTL(ctx, "missing")
	require.ErrorIs(t, err, store.ErrNotFound)
	require.ErrorIs(t, in.ExpireKey(ctx, "missing", time.Minute), store.ErrNotFound)
	require.ErrorIs(t, in.ExpireKey(ctx, "missing", 0), store.ErrNotFound)

	require.NoError(t, s.SetValue(ctx, "k", []byte("v"), 0))
	require.NoError(t, in.ExpireKey(ctx, "k", 2*time.Hour))
	requireTTL(t, in, "k", 2*time.Hour)
	require.NoError(t, in.ExpireKey(ctx, "k", 0))
	_, err = s.GetValue(ctx, "k")
	require.ErrorIs(t, err, store.ErrNotFound)
}

// inspector returns s as an Inspector, or skips the test.
func inspector(t *testing.T, s store.Live) Inspector {
	t.Helper()
	in, ok := s.(Inspector)
	if !ok {
		t.Skipf("%T does not implement storetest.Inspector", s)
	}
	return in
}

// requireTTL checks that key's TTL is want, give or take a minute of slack
// for slow machines (TTLs here are hours).
func requireTTL(t *testing.T, in Inspector, key string, want time.Duration) {
	t.Helper()
	got, err := in.KeyTTL(context.Background(), key)
	require.NoError(t, err, key)
	require.LessOrEqual(t, got, want, key)
	require.Greater(t, got, want-time.Minute, key)
}

// callFields is what a call's hash holds: the hook payload's call info.
func callFields(accountSID, callSID string) map[string]string {
	return map[string]string{
		"call_sid":        callSID,
		"account_sid":     accountSID,
		"application_sid": "app-1",
		"direction":       "inbound",
		"from":            "+15085550100",
		"to":              "+15085550199",
		"call_id":         callSID + "@10.0.0.1",
		"call_status":     "trying",
		"sip_status":      "100",
	}
}

func testCallState(t *testing.T, newStore func(t *testing.T) store.Live) {
	ctx := context.Background()

	t.Run("get missing", func(t *testing.T) {
		s := newStore(t)
		_, err := s.GetCall(ctx, "acct-a", "nope")
		require.ErrorIs(t, err, store.ErrNotFound)
		require.ErrorIs(t, s.EndCall(ctx, "acct-a", "nope"), store.ErrNotFound)
		require.NoError(t, s.DeleteCall(ctx, "acct-a", "nope"), "deleting a missing call is not an error")
	})

	t.Run("merge fields", func(t *testing.T) {
		cases := []struct {
			name   string
			writes []map[string]string
			want   map[string]string
		}{
			{"create", []map[string]string{{"a": "1", "b": "2"}}, map[string]string{"a": "1", "b": "2"}},
			{"add and overwrite", []map[string]string{{"a": "1", "b": "2"}, {"b": "3", "c": "4"}}, map[string]string{"a": "1", "b": "3", "c": "4"}},
			{"empty value kept", []map[string]string{{"a": "1"}, {"a": ""}}, map[string]string{"a": ""}},
			{"many fields", []map[string]string{callFields("acct-a", "c1"), {"call_status": "in-progress", "sip_status": "200"}},
				func() map[string]string {
					m := callFields("acct-a", "c1")
					m["call_status"], m["sip_status"] = "in-progress", "200"
					return m
				}()},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				s := newStore(t)
				for _, w := range tc.writes {
					require.NoError(t, s.PutCall(ctx, "acct-a", "c1", w))
				}
				got, err := s.GetCall(ctx, "acct-a", "c1")
				require.NoError(t, err)
				require.Equal(t, tc.want, got)
			})
		}
	})

	t.Run("empty fields rejected", func(t *testing.T) {
		s := newStore(t)
		require.ErrorIs(t, s.PutCall(ctx, "acct-a", "c1", nil), store.ErrInvalid)
	})

	t.Run("ttl 12h then 1h once ended", func(t *testing.T) {
		s := newStore(t)
		in := inspector(t, s)
		key := store.CallKey("acct-a", "c1")
		require.NoError(t, s.PutCall(ctx, "acct-a", "c1", callFields("acct-a", "c1")))
		requireTTL(t, in, key, store.CallTTL)
		require.NoError(t, s.PutCall(ctx, "acct-a", "c1", map[string]string{"call_status": "in-progress"}))
		requireTTL(t, in, key, store.CallTTL)
		require.NoError(t, s.EndCall(ctx, "acct-a", "c1"))
		requireTTL(t, in, key, store.EndedCallTTL)
		// A late status update merges into the ended call without reviving it.
		require.NoError(t, s.PutCall(ctx, "acct-a", "c1", map[string]string{"call_status": "completed"}))
		requireTTL(t, in, key, store.EndedCallTTL)
		got, err := s.GetCall(ctx, "acct-a", "c1")
		require.NoError(t, err)
		require.Equal(t, "completed", got["call_status"])
	})

	t.Run("delete", func(t *testing.T) {
		s := newStore(t)
		require.NoError(t, s.PutCall(ctx, "acct-a", "c1", callFields("acct-a", "c1")))
		require.NoError(t, s.DeleteCall(ctx, "acct-a", "c1"))
		_, err := s.GetCall(ctx, "acct-a", "c1")
		require.ErrorIs(t, err, store.ErrNotFound)
		calls, err := s.ListCalls(ctx, "acct-a")
		require.NoError(t, err)
		require.Empty(t, calls)
		n, err := s.PurgeCalls(ctx)
		require.NoError(t, err)
		require.Zero(t, n, "delete removes the index entry too")
	})

	t.Run("list by tenant", func(t *testing.T) {
		s := newStore(t)
		// Account SIDs that prefix or glob-match each other must stay apart.
		calls := map[string][]string{
			"acct-a":  {"a1", "a2", "a3"},
			"acct-ab": {"ab1"},
			"acct-?":  {"q1"},
			"acct-*":  {"s1"},
			"acct-[a": {"b1"},
		}
		for acct, sids := range calls {
			for _, sid := range sids {
				require.NoError(t, s.PutCall(ctx, acct, sid, callFields(acct, sid)))
			}
		}
		cases := []struct {
			name, account string
			want          []string
		}{
			{"three calls", "acct-a", []string{"a1", "a2", "a3"}},
			{"longer sid", "acct-ab", []string{"ab1"}},
			{"question mark", "acct-?", []string{"q1"}},
			{"star", "acct-*", []string{"s1"}},
			{"bracket", "acct-[a", []string{"b1"}},
			{"unknown account", "acct-zzz", nil},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				list, err := s.ListCalls(ctx, tc.account)
				require.NoError(t, err)
				var got []string
				for _, c := range list {
					require.Equal(t, tc.account, c["account_sid"], "a call of another account was listed")
					got = append(got, c["call_sid"])
				}
				sort.Strings(got)
				require.Equal(t, tc.want, got)
			})
		}
	})

	t.Run("list skips expired before purge", func(t *testing.T) {
		s := newStore(t)
		in := inspector(t, s)
		for _, sid := range []string{"c1", "c2"} {
			require.NoError(t, s.PutCall(ctx, "acct-a", sid, callFields("acct-a", sid)))
		}
		require.NoError(t, in.ExpireKey(ctx, store.CallKey("acct-a", "c1"), 0))
		list, err := s.ListCalls(ctx, "acct-a")
		require.NoError(t, err)
		require.Len(t, list, 1)
		require.Equal(t, "c2", list[0]["call_sid"])
	})

	t.Run("purge removes only expired", func(t *testing.T) {
		s := newStore(t)
		in := inspector(t, s)
		for i := range 10 {
			sid := fmt.Sprintf("c%d", i)
			require.NoError(t, s.PutCall(ctx, "acct-a", sid, callFields("acct-a", sid)))
		}
		require.NoError(t, s.EndCall(ctx, "acct-a", "c5")) // ended, not expired: stays
		for _, sid := range []string{"c1", "c3", "c7"} {
			require.NoError(t, in.ExpireKey(ctx, store.CallKey("acct-a", sid), 0))
		}
		n, err := s.PurgeCalls(ctx)
		require.NoError(t, err)
		require.Equal(t, 3, n)
		n, err = s.PurgeCalls(ctx)
		require.NoError(t, err)
		require.Zero(t, n)
		list, err := s.ListCalls(ctx, "acct-a")
		require.NoError(t, err)
		require.Len(t, list, 7)
		// A purged call that comes back is indexed again.
		require.NoError(t, s.PutCall(ctx, "acct-a", "c1", callFields("acct-a", "c1")))
		list, err = s.ListCalls(ctx, "acct-a")
		require.NoError(t, err)
		require.Len(t, list, 8)
	})

	t.Run("purge waits for the lock", func(t *testing.T) {
		s := newStore(t)
		in := inspector(t, s)
		require.NoError(t, s.PutCall(ctx, "acct-a", "c1", callFields("acct-a", "c1")))
		require.NoError(t, in.ExpireKey(ctx, store.CallKey("acct-a", "c1"), 0))

		unlock, ok, err := s.TryLock(ctx, PurgeLockName, time.Minute)
		require.NoError(t, err)
		require.True(t, ok)
		n, err := s.PurgeCalls(ctx)
		require.NoError(t, err)
		require.Zero(t, n, "another node holds the purge lock: nothing is purged")

		require.NoError(t, unlock(ctx))
		n, err = s.PurgeCalls(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n)

		// The purge released its lock.
		unlock, ok, err = s.TryLock(ctx, PurgeLockName, time.Minute)
		require.NoError(t, err)
		require.True(t, ok, "PurgeCalls left its lock behind")
		require.NoError(t, unlock(ctx))
	})

	t.Run("concurrent purgers", func(t *testing.T) {
		s := newStore(t)
		in := inspector(t, s)
		const calls, expired, purgers = 40, 25, 8
		for i := range calls {
			sid := fmt.Sprintf("c%02d", i)
			require.NoError(t, s.PutCall(ctx, "acct-a", sid, callFields("acct-a", sid)))
			if i < expired {
				require.NoError(t, in.ExpireKey(ctx, store.CallKey("acct-a", sid), 0))
			}
		}
		var (
			wg      sync.WaitGroup
			results = make([]int, purgers)
			errs    = make([]error, purgers)
		)
		for i := range purgers {
			wg.Go(func() { results[i], errs[i] = s.PurgeCalls(ctx) })
		}
		wg.Wait()
		for _, err := range errs {
			require.NoError(t, err)
		}
		sort.Sort(sort.Reverse(sort.IntSlice(results)))
		// One purger did the work; the others found the lock taken or nothing left.
		require.Equal(t, expired, results[0], "results %v", results)
		for _, n := range results[1:] {
			require.Zero(t, n, "results %v", results)
		}
		list, err := s.ListCalls(ctx, "acct-a")
		require.NoError(t, err)
		require.Len(t, list, calls-expired)
	})
}

func testRegistrations(t *testing.T, newStore func(t *testing.T) store.Live) {
	ctx := context.Background()
	reg := func(name, domain string) store.Registration {
		return store.Registration{
			Name:          name,
			Domain:        domain,
			Contact:       "sip:" + name + "@192.168.1.20:5060;transport=udp",
			SourceAddress: "203.0.113.7",
			SourcePort:    40123,
			Transport:     "udp",
			Node:          "10.0.0.1:5060",
			UserAgent:     "baresip",
			CallID:        "reg-" + name,
			ExpiresAt:     time.UnixMilli(time.Now().Add(time.Hour).UnixMilli()),
		}
	}
	equal := func(t *testing.T, want, got store.Registration) {
		t.Helper()
		require.True(t, want.ExpiresAt.Equal(got.ExpiresAt), "expires_at: want %v, got %v", want.ExpiresAt, got.ExpiresAt)
		want.ExpiresAt, got.ExpiresAt = time.Time{}, time.Time{}
		require.Equal(t, want, got)
	}

	t.Run("round trip", func(t *testing.T) {
		cases := []struct {
			name string
			reg  store.Registration
		}{
			{"all fields", reg("alice", "sip.example.com")},
			{"minimal", store.Registration{Name: "bob", Domain: "sip.example.com", Contact: "sip:bob@10.1.1.1", Transport: "tcp",
				ExpiresAt: time.UnixMilli(time.Now().Add(time.Minute).UnixMilli())}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				s := newStore(t)
				require.NoError(t, s.Register(ctx, tc.reg, time.Hour))
				got, err := s.Registration(ctx, tc.reg.Name, tc.reg.Domain)
				require.NoError(t, err)
				equal(t, tc.reg, got)
			})
		}
	})

	t.Run("ttl is the granted expiry", func(t *testing.T) {
		s := newStore(t)
		in := inspector(t, s)
		require.NoError(t, s.Register(ctx, reg("alice", "sip.example.com"), store.NATRegistrationTTL))
		requireTTL(t, in, store.UserKey("alice", "sip.example.com"), store.NATRegistrationTTL)
		require.NoError(t, s.Register(ctx, reg("alice", "sip.example.com"), time.Hour))
		requireTTL(t, in, store.UserKey("alice", "sip.example.com"), time.Hour)
	})

	t.Run("zero expires_at is filled in", func(t *testing.T) {
		s := newStore(t)
		r := reg("alice", "sip.example.com")
		r.ExpiresAt = time.Time{}
		before := time.Now()
		require.NoError(t, s.Register(ctx, r, time.Minute))
		got, err := s.Registration(ctx, "alice", "sip.example.com")
		require.NoError(t, err)
		require.WithinDuration(t, before.Add(time.Minute), got.ExpiresAt, 5*time.Second)
	})

	t.Run("invalid", func(t *testing.T) {
		cases := []struct {
			name string
			reg  store.Registration
			ttl  time.Duration
		}{
			{"zero ttl", reg("alice", "sip.example.com"), 0},
			{"negative ttl", reg("alice", "sip.example.com"), -time.Second},
			{"no name", reg("", "sip.example.com"), time.Minute},
			{"no domain", reg("alice", ""), time.Minute},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				s := newStore(t)
				require.ErrorIs(t, s.Register(ctx, tc.reg, tc.ttl), store.ErrInvalid)
			})
		}
	})

	t.Run("re-register replaces, unregister removes", func(t *testing.T) {
		s := newStore(t)
		r := reg("alice", "sip.example.com")
		require.NoError(t, s.Register(ctx, r, time.Hour))
		r.Contact, r.UserAgent = "sip:alice@192.168.1.21:5062", ""
		require.NoError(t, s.Register(ctx, r, time.Hour))
		got, err := s.Registration(ctx, "alice", "sip.example.com")
		require.NoError(t, err)
		equal(t, r, got)

		require.NoError(t, s.Unregister(ctx, "alice", "sip.example.com"))
		_, err = s.Registration(ctx, "alice", "sip.example.com")
		require.ErrorIs(t, err, store.ErrNotFound)
		require.NoError(t, s.Unregister(ctx, "alice", "sip.example.com"), "unregistering twice is not an error")
	})

	t.Run("list by realm", func(t *testing.T) {
		s := newStore(t)
		for _, r := range []store.Registration{
			reg("carol", "a.example.com"), reg("alice", "a.example.com"), reg("bob", "a.example.com"),
			reg("alice", "b.example.com"), reg("dave", "xa.example.com"), reg("erin", "a.example.com.evil"),
			reg("frank", "*.example.com"),
		} {
			require.NoError(t, s.Register(ctx, r, time.Hour))
		}
		cases := []struct {
			name, domain string
			want         []string
		}{
			{"three users, by name", "a.example.com", []string{"alice", "bob", "carol"}},
			{"other realm", "b.example.com", []string{"alice"}},
			{"glob realm is literal", "*.example.com", []string{"frank"}},
			{"unknown realm", "c.example.com", nil},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				list, err := s.ListRegistrations(ctx, tc.domain)
				require.NoError(t, err)
				var got []string
				for _, r := range list {
					require.Equal(t, tc.domain, r.Domain)
					got = append(got, r.Name)
				}
				require.Equal(t, tc.want, got)
			})
		}
	})
}
