package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/store"
)

func testTTSCache(t *testing.T, newStore func(t *testing.T) store.Live) {
	ctx := context.Background()

	t.Run("round trip", func(t *testing.T) {
		cases := []struct {
			name  string
			audio []byte
		}{
			{"small", []byte("RIFF....WAVEfmt ")},
			{"binary", []byte{0, 1, 2, 0xff, 0xfe, 0}},
			{"large", make([]byte, 256<<10)},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				s := newStore(t)
				require.NoError(t, s.PutTTS(ctx, "k-"+tc.name, tc.audio, time.Hour))
				got, err := s.GetTTS(ctx, "k-"+tc.name)
				require.NoError(t, err)
				require.Equal(t, tc.audio, got)
			})
		}
	})

	t.Run("missing", func(t *testing.T) {
		s := newStore(t)
		_, err := s.GetTTS(ctx, "nope")
		require.ErrorIs(t, err, store.ErrNotFound)
	})

	t.Run("ttl", func(t *testing.T) {
		s := newStore(t)
		in := inspector(t, s)
		require.NoError(t, s.PutTTS(ctx, "k", []byte("x"), 24*time.Hour))
		requireTTL(t, in, TTSKeyPrefix+"k", 24*time.Hour)
		require.NoError(t, s.PutTTS(ctx, "forever", []byte("x"), 0))
		ttl, err := in.KeyTTL(ctx, TTSKeyPrefix+"forever")
		require.NoError(t, err)
		require.Equal(t, time.Duration(-1), ttl)
	})

	t.Run("stored audio is a copy", func(t *testing.T) {
		s := newStore(t)
		audio := []byte("abc")
		require.NoError(t, s.PutTTS(ctx, "k", audio, time.Hour))
		audio[0] = 'X'
		got, err := s.GetTTS(ctx, "k")
		require.NoError(t, err)
		require.Equal(t, []byte("abc"), got)
		got[1] = 'Y'
		again, err := s.GetTTS(ctx, "k")
		require.NoError(t, err)
		require.Equal(t, []byte("abc"), again)
	})
}

func testKV(t *testing.T, newStore func(t *testing.T) store.Live) {
	ctx := context.Background()

	t.Run("crud", func(t *testing.T) {
		s := newStore(t)
		_, err := s.KVGet(ctx, "acct-a", "k")
		require.ErrorIs(t, err, store.ErrNotFound)
		require.NoError(t, s.KVSet(ctx, "acct-a", "k", "v1", 0))
		got, err := s.KVGet(ctx, "acct-a", "k")
		require.NoError(t, err)
		require.Equal(t, "v1", got)
		require.NoError(t, s.KVSet(ctx, "acct-a", "k", "", 0))
		got, err = s.KVGet(ctx, "acct-a", "k")
		require.NoError(t, err)
		require.Equal(t, "", got, "an empty value is a value")
		require.NoError(t, s.KVDelete(ctx, "acct-a", "k"))
		_, err = s.KVGet(ctx, "acct-a", "k")
		require.ErrorIs(t, err, store.ErrNotFound)
		require.NoError(t, s.KVDelete(ctx, "acct-a", "k"), "deleting twice is not an error")
	})

	t.Run("tenants apart", func(t *testing.T) {
		s := newStore(t)
		require.NoError(t, s.KVSet(ctx, "acct-a", "k", "a", 0))
		require.NoError(t, s.KVSet(ctx, "acct-b", "k", "b", 0))
		require.NoError(t, s.KVSet(ctx, "acct-a:x", "k", "ax", 0))
		for acct, want := range map[string]string{"acct-a": "a", "acct-b": "b", "acct-a:x": "ax"} {
			got, err := s.KVGet(ctx, acct, "k")
			require.NoError(t, err)
			require.Equal(t, want, got, acct)
		}
		require.NoError(t, s.KVDelete(ctx, "acct-b", "k"))
		got, err := s.KVGet(ctx, "acct-a", "k")
		require.NoError(t, err)
		require.Equal(t, "a", got)
	})

	t.Run("ttl", func(t *testing.T) {
		cases := []struct {
			name string
			ttls []time.Duration // successive sets of the same key
			want time.Duration   // -1: no expiry
		}{
			{"no expiry", []time.Duration{0}, -1},
			{"an hour", []time.Duration{time.Hour}, time.Hour},
			{"set again without ttl clears it", []time.Duration{time.Hour, 0}, -1},
			{"set again with a new ttl", []time.Duration{time.Hour, 10 * time.Minute}, 10 * time.Minute},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				s := newStore(t)
				in := inspector(t, s)
				for _, ttl := range tc.ttls {
					require.NoError(t, s.KVSet(ctx, "acct-a", "k", "v", ttl))
				}
				key := KVKeyPrefix + "acct-a:k"
				if tc.want < 0 {
					ttl, err := in.KeyTTL(ctx, key)
					require.NoError(t, err)
					require.Equal(t, time.Duration(-1), ttl)
					return
				}
				requireTTL(t, in, key, tc.want)
			})
		}
	})

	t.Run("negative ttl", func(t *testing.T) {
		s := newStore(t)
		require.ErrorIs(t, s.KVSet(ctx, "acct-a", "k", "v", -time.Second), store.ErrInvalid)
	})
}

func testValues(t *testing.T, newStore func(t *testing.T) store.Live) {
	ctx := context.Background()

	t.Run("crud", func(t *testing.T) {
		s := newStore(t)
		_, err := s.GetValue(ctx, "checkpoint:c1")
		require.ErrorIs(t, err, store.ErrNotFound)
		require.NoError(t, s.SetValue(ctx, "checkpoint:c1", []byte(`{"v":1}`), time.Hour))
		got, err := s.GetValue(ctx, "checkpoint:c1")
		require.NoError(t, err)
		require.Equal(t, []byte(`{"v":1}`), got)
		require.NoError(t, s.SetValue(ctx, "checkpoint:c1", []byte(`{"v":2}`), time.Hour))
		got, err = s.GetValue(ctx, "checkpoint:c1")
		require.NoError(t, err)
		require.Equal(t, []byte(`{"v":2}`), got)
		require.NoError(t, s.DeleteValue(ctx, "checkpoint:c1"))
		_, err = s.GetValue(ctx, "checkpoint:c1")
		require.ErrorIs(t, err, store.ErrNotFound)
		require.NoError(t, s.DeleteValue(ctx, "checkpoint:c1"))
	})

	t.Run("plain keys", func(t *testing.T) {
		s := newStore(t)
		in := inspector(t, s)
		require.NoError(t, s.SetValue(ctx, "node:n1", []byte("10.0.0.1"), 30*time.Second))
		requireTTL(t, in, "node:n1", 30*time.Second)
		require.NoError(t, s.SetValue(ctx, "forever", []byte("x"), 0))
		ttl, err := in.KeyTTL(ctx, "forever")
		require.NoError(t, err)
		require.Equal(t, time.Duration(-1), ttl)
	})

	t.Run("set nx is single use", func(t *testing.T) {
		s := newStore(t)
		in := inspector(t, s)
		steps := []struct {
			name   string
			do     func() (bool, error)
			wantOK bool
			want   string // the value afterwards; "" means absent
		}{
			{"first set", func() (bool, error) { return s.SetValueNX(ctx, "nonce:n1", []byte("a"), time.Minute) }, true, "a"},
			{"second set refused", func() (bool, error) { return s.SetValueNX(ctx, "nonce:n1", []byte("b"), time.Minute) }, false, "a"},
			{"after delete", func() (bool, error) {
				if err := s.DeleteValue(ctx, "nonce:n1"); err != nil {
					return false, err
				}
				return s.SetValueNX(ctx, "nonce:n1", []byte("c"), time.Minute)
			}, true, "c"},
			{"after expiry", func() (bool, error) {
				if err := in.ExpireKey(ctx, "nonce:n1", 0); err != nil {
					return false, err
				}
				return s.SetValueNX(ctx, "nonce:n1", []byte("d"), time.Minute)
			}, true, "d"},
		}
		for _, st := range steps {
			ok, err := st.do()
			require.NoError(t, err, st.name)
			require.Equal(t, st.wantOK, ok, st.name)
			got, err := s.GetValue(ctx, "nonce:n1")
			require.NoError(t, err, st.name)
			require.Equal(t, st.want, string(got), st.name)
		}
		requireTTL(t, in, "nonce:n1", time.Minute)
	})

	t.Run("set nx races", func(t *testing.T) {
		s := newStore(t)
		const racers = 16
		var (
			wg   sync.WaitGroup
			oks  = make([]bool, racers)
			errs = make([]error, racers)
		)
		for i := range racers {
			wg.Go(func() {
				oks[i], errs[i] = s.SetValueNX(ctx, "nonce:race", []byte(fmt.Sprint(i)), time.Minute)
			})
		}
		wg.Wait()
		won := 0
		for i := range racers {
			require.NoError(t, errs[i])
			if oks[i] {
				won++
				got, err := s.GetValue(ctx, "nonce:race")
				require.NoError(t, err)
				require.Equal(t, fmt.Sprint(i), string(got), "the winner's value is stored")
			}
		}
		require.Equal(t, 1, won)
	})

	t.Run("negative ttl", func(t *testing.T) {
		s := newStore(t)
		require.ErrorIs(t, s.SetValue(ctx, "k", []byte("v"), -time.Second), store.ErrInvalid)
		_, err := s.SetValueNX(ctx, "k", []byte("v"), -time.Second)
		require.ErrorIs(t, err, store.ErrInvalid)
	})
}

func testLocker(t *testing.T, newStore func(t *testing.T) store.Live) {
	ctx := context.Background()

	t.Run("exclusive until unlocked", func(t *testing.T) {
		s := newStore(t)
		unlock, ok, err := s.TryLock(ctx, "job", time.Minute)
		require.NoError(t, err)
		require.True(t, ok)
		_, ok, err = s.TryLock(ctx, "job", time.Minute)
		require.NoError(t, err)
		require.False(t, ok, "the lock is held")
		other, ok, err := s.TryLock(ctx, "other-job", time.Minute)
		require.NoError(t, err)
		require.True(t, ok, "locks are per name")
		require.NoError(t, other(ctx))

		require.NoError(t, unlock(ctx))
		require.NoError(t, unlock(ctx), "unlocking twice is not an error")
		again, ok, err := s.TryLock(ctx, "job", time.Minute)
		require.NoError(t, err)
		require.True(t, ok)
		require.NoError(t, again(ctx))
	})

	t.Run("lease expires; a stale unlock leaves the new holder alone", func(t *testing.T) {
		s := newStore(t)
		stale, ok, err := s.TryLock(ctx, "job", 50*time.Millisecond)
		require.NoError(t, err)
		require.True(t, ok)
		time.Sleep(120 * time.Millisecond) // the lease is wall-clock time
		fresh, ok, err := s.TryLock(ctx, "job", time.Minute)
		require.NoError(t, err)
		require.True(t, ok, "the lease has run out")
		require.NoError(t, stale(ctx))
		_, ok, err = s.TryLock(ctx, "job", time.Minute)
		require.NoError(t, err)
		require.False(t, ok, "a stale unlock released another holder's lock")
		require.NoError(t, fresh(ctx))
	})

	t.Run("one winner among racers", func(t *testing.T) {
		s := newStore(t)
		const racers = 16
		var (
			wg   sync.WaitGroup
			oks  = make([]bool, racers)
			errs = make([]error, racers)
		)
		for i := range racers {
			wg.Go(func() { _, oks[i], errs[i] = s.TryLock(ctx, "job", time.Minute) })
		}
		wg.Wait()
		won := 0
		for i := range racers {
			require.NoError(t, errs[i])
			if oks[i] {
				won++
			}
		}
		require.Equal(t, 1, won)
	})

	t.Run("zero lease", func(t *testing.T) {
		s := newStore(t)
		_, _, err := s.TryLock(ctx, "job", 0)
		require.ErrorIs(t, err, store.ErrInvalid)
	})
}

// receive waits for one message, or fails after a while.
func receive(t *testing.T, sub store.Subscription) store.Message {
	t.Helper()
	select {
	case m, ok := <-sub.Messages():
		require.True(t, ok, "the subscription closed")
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("no message within 5s")
		return store.Message{}
	}
}

// requireQuiet checks that nothing arrives for a short while.
func requireQuiet(t *testing.T, sub store.Subscription) {
	t.Helper()
	select {
	case m, ok := <-sub.Messages():
		if ok {
			t.Fatalf("unexpected message %q on %q", m.Payload, m.Channel)
		}
	case <-time.After(100 * time.Millisecond):
	}
}

func testPubSub(t *testing.T, newStore func(t *testing.T) store.Live) {
	ctx := context.Background()
	subscribe := func(t *testing.T, s store.Live, channels ...string) store.Subscription {
		t.Helper()
		sub, err := s.Subscribe(ctx, channels...)
		require.NoError(t, err)
		t.Cleanup(func() { _ = sub.Close() })
		return sub
	}

	t.Run("every subscriber, only its channels", func(t *testing.T) {
		s := newStore(t)
		a1 := subscribe(t, s, "calls")
		a2 := subscribe(t, s, "calls")
		b := subscribe(t, s, "nodes")
		both := subscribe(t, s, "calls", "nodes")

		require.NoError(t, s.Publish(ctx, "calls", []byte("c1 ended")))
		for _, sub := range []store.Subscription{a1, a2, both} {
			require.Equal(t, store.Message{Channel: "calls", Payload: []byte("c1 ended")}, receive(t, sub))
		}
		requireQuiet(t, b)
		require.NoError(t, s.Publish(ctx, "nodes", []byte("n2 up")))
		require.Equal(t, store.Message{Channel: "nodes", Payload: []byte("n2 up")}, receive(t, b))
		require.Equal(t, store.Message{Channel: "nodes", Payload: []byte("n2 up")}, receive(t, both))
		requireQuiet(t, a1)
	})

	t.Run("order kept", func(t *testing.T) {
		s := newStore(t)
		sub := subscribe(t, s, "ch")
		const n = 200
		for i := range n {
			require.NoError(t, s.Publish(ctx, "ch", []byte(fmt.Sprint(i))))
		}
		for i := range n {
			require.Equal(t, fmt.Sprint(i), string(receive(t, sub).Payload))
		}
	})

	t.Run("no subscriber", func(t *testing.T) {
		s := newStore(t)
		require.NoError(t, s.Publish(ctx, "nobody-listens", []byte("x")))
	})

	t.Run("nothing after close", func(t *testing.T) {
		s := newStore(t)
		gone := subscribe(t, s, "ch")
		stays := subscribe(t, s, "ch")
		require.NoError(t, gone.Close())
		require.NoError(t, gone.Close(), "closing twice is not an error")
		require.NoError(t, s.Publish(ctx, "ch", []byte("after")))
		require.Equal(t, "after", string(receive(t, stays).Payload))
		select {
		case m, ok := <-gone.Messages():
			require.False(t, ok, "delivered %q after Close", m.Payload)
		case <-time.After(2 * time.Second):
			t.Fatal("Messages() is not closed after Close")
		}
	})

	t.Run("no channels", func(t *testing.T) {
		s := newStore(t)
		_, err := s.Subscribe(ctx)
		require.ErrorIs(t, err, store.ErrInvalid)
	})
}

// testWallClockExpiry proves that short TTLs run out on their own, by the
// wall clock: the one place the suite sleeps (1.2 s for TTLs of 1 s).
func testWallClockExpiry(t *testing.T, newStore func(t *testing.T) store.Live) {
	ctx := context.Background()
	s := newStore(t)
	const ttl = time.Second
	require.NoError(t, s.Register(ctx, store.Registration{Name: "alice", Domain: "sip.example.com", Contact: "sip:alice@10.0.0.9"}, ttl))
	require.NoError(t, s.Register(ctx, store.Registration{Name: "bob", Domain: "sip.example.com", Contact: "sip:bob@10.0.0.9"}, time.Hour))
	require.NoError(t, s.KVSet(ctx, "acct-a", "short", "v", ttl))
	require.NoError(t, s.SetValue(ctx, "nonce:short", []byte("v"), ttl))
	require.NoError(t, s.PutTTS(ctx, "short", []byte("v"), ttl))

	list, err := s.ListRegistrations(ctx, "sip.example.com")
	require.NoError(t, err)
	require.Len(t, list, 2)

	time.Sleep(ttl + 200*time.Millisecond)

	cases := []struct {
		name string
		get  func() error
	}{
		{"registration", func() error { _, err := s.Registration(ctx, "alice", "sip.example.com"); return err }},
		{"kv", func() error { _, err := s.KVGet(ctx, "acct-a", "short"); return err }},
		{"value", func() error { _, err := s.GetValue(ctx, "nonce:short"); return err }},
		{"tts", func() error { _, err := s.GetTTS(ctx, "short"); return err }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.ErrorIs(t, tc.get(), store.ErrNotFound)
		})
	}
	t.Run("registration list", func(t *testing.T) {
		list, err := s.ListRegistrations(ctx, "sip.example.com")
		require.NoError(t, err)
		require.Len(t, list, 1)
		require.Equal(t, "bob", list[0].Name)
	})
	t.Run("set nx after expiry", func(t *testing.T) {
		ok, err := s.SetValueNX(ctx, "nonce:short", []byte("again"), ttl)
		require.NoError(t, err)
		require.True(t, ok)
	})
}

// testContextCancelled checks that every blocking call gives up at once on a
// cancelled context and says why.
func testContextCancelled(t *testing.T, newStore func(t *testing.T) store.Live) {
	s := newStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	reg := store.Registration{Name: "alice", Domain: "d", Contact: "sip:alice@d"}
	member := store.ConferenceMember{CallSID: "c1"}
	cases := []struct {
		name string
		call func() error
	}{
		{"PutCall", func() error { return s.PutCall(ctx, "a", "c1", map[string]string{"x": "y"}) }},
		{"EndCall", func() error { return s.EndCall(ctx, "a", "c1") }},
		{"GetCall", func() error { _, err := s.GetCall(ctx, "a", "c1"); return err }},
		{"DeleteCall", func() error { return s.DeleteCall(ctx, "a", "c1") }},
		{"ListCalls", func() error { _, err := s.ListCalls(ctx, "a"); return err }},
		{"PurgeCalls", func() error { _, err := s.PurgeCalls(ctx); return err }},
		{"Register", func() error { return s.Register(ctx, reg, time.Minute) }},
		{"Unregister", func() error { return s.Unregister(ctx, "alice", "d") }},
		{"Registration", func() error { _, err := s.Registration(ctx, "alice", "d"); return err }},
		{"ListRegistrations", func() error { _, err := s.ListRegistrations(ctx, "d"); return err }},
		{"Enqueue", func() error { _, err := s.Enqueue(ctx, "a", "q", store.QueueEntry{CallSID: "c1"}); return err }},
		{"Dequeue", func() error { _, err := s.Dequeue(ctx, "a", "q"); return err }},
		{"RemoveFromQueue", func() error { return s.RemoveFromQueue(ctx, "a", "q", "c1") }},
		{"QueueMembers", func() error { _, err := s.QueueMembers(ctx, "a", "q"); return err }},
		{"ListQueues", func() error { _, err := s.ListQueues(ctx, "a"); return err }},
		{"JoinConference", func() error { _, err := s.JoinConference(ctx, "a", "r", member); return err }},
		{"LeaveConference", func() error { _, err := s.LeaveConference(ctx, "a", "r", "c1"); return err }},
		{"ConferenceMembers", func() error { _, err := s.ConferenceMembers(ctx, "a", "r"); return err }},
		{"ListConferences", func() error { _, err := s.ListConferences(ctx, "a"); return err }},
		{"GetTTS", func() error { _, err := s.GetTTS(ctx, "k"); return err }},
		{"PutTTS", func() error { return s.PutTTS(ctx, "k", []byte("x"), time.Minute) }},
		{"KVGet", func() error { _, err := s.KVGet(ctx, "a", "k"); return err }},
		{"KVSet", func() error { return s.KVSet(ctx, "a", "k", "v", 0) }},
		{"KVDelete", func() error { return s.KVDelete(ctx, "a", "k") }},
		{"GetValue", func() error { _, err := s.GetValue(ctx, "k"); return err }},
		{"SetValue", func() error { return s.SetValue(ctx, "k", []byte("v"), 0) }},
		{"SetValueNX", func() error { _, err := s.SetValueNX(ctx, "k", []byte("v"), 0); return err }},
		{"DeleteValue", func() error { return s.DeleteValue(ctx, "k") }},
		{"TryLock", func() error { _, _, err := s.TryLock(ctx, "l", time.Minute); return err }},
		{"Publish", func() error { return s.Publish(ctx, "ch", []byte("x")) }},
		{"Subscribe", func() error {
			sub, err := s.Subscribe(ctx, "ch")
			if sub != nil {
				_ = sub.Close()
			}
			return err
		}},
		{"Ping", func() error { return s.Ping(ctx) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			err := tc.call()
			require.ErrorIs(t, err, context.Canceled)
			require.Less(t, time.Since(start), time.Second)
		})
	}

	t.Run("unlock", func(t *testing.T) {
		unlock, ok, err := s.TryLock(context.Background(), "l", time.Minute)
		require.NoError(t, err)
		require.True(t, ok)
		require.ErrorIs(t, unlock(ctx), context.Canceled)
		require.NoError(t, unlock(context.Background()))
	})
}

func testPingClose(t *testing.T, newStore func(t *testing.T) store.Live) {
	s := newStore(t)
	require.NoError(t, s.Ping(context.Background()))
	sub, err := s.Subscribe(context.Background(), "ch")
	require.NoError(t, err)
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "Close is idempotent")
	// Closing the store ends its subscriptions.
	select {
	case _, ok := <-sub.Messages():
		require.False(t, ok)
	case <-time.After(2 * time.Second):
		t.Fatal("a subscription outlived its store")
	}
	require.NoError(t, sub.Close())
}
