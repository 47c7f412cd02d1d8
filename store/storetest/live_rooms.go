package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/store"
)

// MaxQueuePriority is the largest priority a queue entry may have (store.QueueEntry).
const MaxQueuePriority = 999999

// ExactQueuePriority bounds the priorities whose arrival time the suite checks
// to the millisecond. Redis keeps a queue in one sorted set whose float64 score
// holds both priority and arrival (see store/redis), and 53 bits cannot hold
// 20 bits of priority and 41 of Unix milliseconds: above this priority the
// arrival is rounded (to at most 512 ms at the largest priority), though the
// priority order itself stays exact.
const ExactQueuePriority = 2048

// requireArrival checks an entry's arrival time as precisely as
// ExactQueuePriority allows.
func requireArrival(t *testing.T, want, got store.QueueEntry) {
	t.Helper()
	if want.Priority < ExactQueuePriority {
		require.True(t, want.EnqueuedAt.Equal(got.EnqueuedAt), "%s enqueued at: want %v, got %v", got.CallSID, want.EnqueuedAt, got.EnqueuedAt)
		return
	}
	require.WithinDuration(t, want.EnqueuedAt, got.EnqueuedAt, 512*time.Millisecond, got.CallSID)
}

func testQueues(t *testing.T, newStore func(t *testing.T) store.Live) {
	ctx := context.Background()
	t0 := time.UnixMilli(time.Now().UnixMilli())
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

	t.Run("order and positions", func(t *testing.T) {
		type step struct {
			entry   store.QueueEntry
			wantPos int
		}
		cases := []struct {
			name  string
			steps []step
			want  []string // service order
		}{
			{"arrival only", []step{
				{store.QueueEntry{CallSID: "c1", EnqueuedAt: at(0)}, 1},
				{store.QueueEntry{CallSID: "c2", EnqueuedAt: at(1)}, 2},
				{store.QueueEntry{CallSID: "c3", EnqueuedAt: at(2)}, 3},
			}, []string{"c1", "c2", "c3"}},
			{"priority beats arrival", []step{
				{store.QueueEntry{CallSID: "late-low", Priority: 5, EnqueuedAt: at(0)}, 1},
				{store.QueueEntry{CallSID: "urgent", Priority: 0, EnqueuedAt: at(10)}, 1},
				{store.QueueEntry{CallSID: "mid", Priority: 3, EnqueuedAt: at(20)}, 2},
				{store.QueueEntry{CallSID: "urgent2", Priority: 0, EnqueuedAt: at(30)}, 2},
			}, []string{"urgent", "urgent2", "mid", "late-low"}},
			{"sids do not decide the order", []step{
				{store.QueueEntry{CallSID: "zz", Priority: 1, EnqueuedAt: at(0)}, 1},
				{store.QueueEntry{CallSID: "aa", Priority: 1, EnqueuedAt: at(1)}, 2},
			}, []string{"zz", "aa"}},
			{"extreme priorities", []step{
				{store.QueueEntry{CallSID: "max", Priority: MaxQueuePriority, EnqueuedAt: at(0)}, 1},
				{store.QueueEntry{CallSID: "zero", Priority: 0, EnqueuedAt: at(5000)}, 1},
				{store.QueueEntry{CallSID: "max-1", Priority: MaxQueuePriority - 1, EnqueuedAt: at(9000)}, 2},
			}, []string{"zero", "max-1", "max"}},
			{"arrival order at the largest priority", []step{
				{store.QueueEntry{CallSID: "zz", Priority: MaxQueuePriority, EnqueuedAt: at(0)}, 1},
				{store.QueueEntry{CallSID: "aa", Priority: MaxQueuePriority, EnqueuedAt: at(1500)}, 2},
			}, []string{"zz", "aa"}},
			{"arrivals a day apart", []step{
				{store.QueueEntry{CallSID: "c2", Priority: 7, EnqueuedAt: at(86_400_000)}, 1},
				{store.QueueEntry{CallSID: "c1", Priority: 7, EnqueuedAt: at(0)}, 1},
			}, []string{"c1", "c2"}},
			{"re-enqueue moves the call", []step{
				{store.QueueEntry{CallSID: "c1", Priority: 1, EnqueuedAt: at(0)}, 1},
				{store.QueueEntry{CallSID: "c2", Priority: 1, EnqueuedAt: at(1)}, 2},
				{store.QueueEntry{CallSID: "c1", Priority: 1, EnqueuedAt: at(2)}, 2},
			}, []string{"c2", "c1"}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				s := newStore(t)
				last := map[string]store.QueueEntry{}
				for _, st := range tc.steps {
					pos, err := s.Enqueue(ctx, "acct-a", "support", st.entry)
					require.NoError(t, err)
					require.Equal(t, st.wantPos, pos, "position of %s", st.entry.CallSID)
					last[st.entry.CallSID] = st.entry
				}
				members, err := s.QueueMembers(ctx, "acct-a", "support")
				require.NoError(t, err)
				var got []string
				for _, m := range members {
					got = append(got, m.CallSID)
					want := last[m.CallSID]
					require.Equal(t, want.Priority, m.Priority, m.CallSID)
					requireArrival(t, want, m)
				}
				require.Equal(t, tc.want, got)

				// Dequeue serves the same order, then reports an empty queue.
				got = nil
				for range tc.want {
					e, err := s.Dequeue(ctx, "acct-a", "support")
					require.NoError(t, err)
					requireArrival(t, last[e.CallSID], e)
					got = append(got, e.CallSID)
				}
				require.Equal(t, tc.want, got)
				_, err = s.Dequeue(ctx, "acct-a", "support")
				require.ErrorIs(t, err, store.ErrNotFound)
			})
		}
	})

	t.Run("zero enqueued_at is now", func(t *testing.T) {
		s := newStore(t)
		before := time.Now()
		_, err := s.Enqueue(ctx, "acct-a", "support", store.QueueEntry{CallSID: "c1"})
		require.NoError(t, err)
		members, err := s.QueueMembers(ctx, "acct-a", "support")
		require.NoError(t, err)
		require.Len(t, members, 1)
		require.WithinDuration(t, before, members[0].EnqueuedAt, 5*time.Second)
	})

	t.Run("invalid entries", func(t *testing.T) {
		cases := []struct {
			name  string
			entry store.QueueEntry
		}{
			{"negative priority", store.QueueEntry{CallSID: "c1", Priority: -1}},
			{"priority too large", store.QueueEntry{CallSID: "c1", Priority: MaxQueuePriority + 1}},
			{"no call sid", store.QueueEntry{}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				s := newStore(t)
				_, err := s.Enqueue(ctx, "acct-a", "support", tc.entry)
				require.ErrorIs(t, err, store.ErrInvalid)
			})
		}
	})

	t.Run("remove", func(t *testing.T) {
		s := newStore(t)
		for i, sid := range []string{"c1", "c2", "c3"} {
			_, err := s.Enqueue(ctx, "acct-a", "support", store.QueueEntry{CallSID: sid, EnqueuedAt: at(i)})
			require.NoError(t, err)
		}
		require.NoError(t, s.RemoveFromQueue(ctx, "acct-a", "support", "c2"))
		require.NoError(t, s.RemoveFromQueue(ctx, "acct-a", "support", "c2"), "removing twice is not an error")
		require.NoError(t, s.RemoveFromQueue(ctx, "acct-a", "nowhere", "c2"))
		members, err := s.QueueMembers(ctx, "acct-a", "support")
		require.NoError(t, err)
		require.Len(t, members, 2)
		require.Equal(t, "c1", members[0].CallSID)
		require.Equal(t, "c3", members[1].CallSID)
		pos, err := s.Enqueue(ctx, "acct-a", "support", store.QueueEntry{CallSID: "c4", EnqueuedAt: at(10)})
		require.NoError(t, err)
		require.Equal(t, 3, pos)
	})

	t.Run("list by tenant", func(t *testing.T) {
		s := newStore(t)
		enqueue := func(acct, queue string, sids ...string) {
			for i, sid := range sids {
				_, err := s.Enqueue(ctx, acct, queue, store.QueueEntry{CallSID: sid, EnqueuedAt: at(i)})
				require.NoError(t, err)
			}
		}
		enqueue("acct-a", "support", "c1", "c2")
		enqueue("acct-a", "sales", "c3")
		enqueue("acct-a", "emptied", "c4")
		enqueue("acct-ab", "support", "c5")
		enqueue("acct-*", "glob", "c6")
		_, err := s.Dequeue(ctx, "acct-a", "emptied")
		require.NoError(t, err)

		cases := []struct {
			name, account string
			want          []store.QueueInfo
		}{
			{"two queues, by name, empty one gone", "acct-a", []store.QueueInfo{{Name: "sales", Length: 1}, {Name: "support", Length: 2}}},
			{"longer sid", "acct-ab", []store.QueueInfo{{Name: "support", Length: 1}}},
			{"glob sid is literal", "acct-*", []store.QueueInfo{{Name: "glob", Length: 1}}},
			{"unknown account", "acct-zzz", nil},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.ListQueues(ctx, tc.account)
				require.NoError(t, err)
				if len(tc.want) == 0 {
					require.Empty(t, got)
					return
				}
				require.Equal(t, tc.want, got)
			})
		}
		members, err := s.QueueMembers(ctx, "acct-b", "support")
		require.NoError(t, err)
		require.Empty(t, members, "another account's queue of the same name")
	})
}

func testConferences(t *testing.T, newStore func(t *testing.T) store.Live) {
	ctx := context.Background()
	t0 := time.UnixMilli(time.Now().UnixMilli())
	member := func(sid string, sec int) store.ConferenceMember {
		return store.ConferenceMember{CallSID: sid, Node: "node-1", JoinedAt: t0.Add(time.Duration(sec) * time.Second)}
	}

	t.Run("join and leave counts", func(t *testing.T) {
		s := newStore(t)
		type op struct {
			join      *store.ConferenceMember
			leave     string
			wantCount int
		}
		m := func(sid string, sec int) *store.ConferenceMember { mm := member(sid, sec); return &mm }
		steps := []struct {
			name string
			op   op
		}{
			{"first joins", op{join: m("c1", 0), wantCount: 1}},
			{"second joins", op{join: m("c2", 1), wantCount: 2}},
			{"third joins", op{join: m("c3", 2), wantCount: 3}},
			{"rejoin does not count twice", op{join: m("c2", 1), wantCount: 3}},
			{"leave", op{leave: "c1", wantCount: 2}},
			{"leave a stranger", op{leave: "c9", wantCount: 2}},
			{"leave again", op{leave: "c2", wantCount: 1}},
			{"last leaves", op{leave: "c3", wantCount: 0}},
			{"leave the empty room", op{leave: "c3", wantCount: 0}},
		}
		for _, st := range steps {
			var (
				n   int
				err error
			)
			if st.op.join != nil {
				n, err = s.JoinConference(ctx, "acct-a", "room", *st.op.join)
			} else {
				n, err = s.LeaveConference(ctx, "acct-a", "room", st.op.leave)
			}
			require.NoError(t, err, st.name)
			require.Equal(t, st.op.wantCount, n, st.name)
		}
		names, err := s.ListConferences(ctx, "acct-a")
		require.NoError(t, err)
		require.Empty(t, names, "an empty conference disappears")
	})

	t.Run("members", func(t *testing.T) {
		s := newStore(t)
		mod := member("c3", 0)
		mod.Moderator = true
		for _, m := range []store.ConferenceMember{member("c2", 2), member("c1", 1), mod} {
			_, err := s.JoinConference(ctx, "acct-a", "room", m)
			require.NoError(t, err)
		}
		got, err := s.ConferenceMembers(ctx, "acct-a", "room")
		require.NoError(t, err)
		require.Len(t, got, 3)
		want := []store.ConferenceMember{mod, member("c1", 1), member("c2", 2)} // by join time
		for i := range want {
			require.True(t, want[i].JoinedAt.Equal(got[i].JoinedAt), "joined_at of %s", want[i].CallSID)
			want[i].JoinedAt, got[i].JoinedAt = time.Time{}, time.Time{}
		}
		require.Equal(t, want, got)

		got, err = s.ConferenceMembers(ctx, "acct-a", "no-such-room")
		require.NoError(t, err)
		require.Empty(t, got)
	})

	t.Run("zero joined_at is now", func(t *testing.T) {
		s := newStore(t)
		before := time.Now()
		_, err := s.JoinConference(ctx, "acct-a", "room", store.ConferenceMember{CallSID: "c1"})
		require.NoError(t, err)
		got, err := s.ConferenceMembers(ctx, "acct-a", "room")
		require.NoError(t, err)
		require.Len(t, got, 1)
		require.WithinDuration(t, before, got[0].JoinedAt, 5*time.Second)
	})

	t.Run("no call sid", func(t *testing.T) {
		s := newStore(t)
		_, err := s.JoinConference(ctx, "acct-a", "room", store.ConferenceMember{})
		require.ErrorIs(t, err, store.ErrInvalid)
	})

	t.Run("list by tenant", func(t *testing.T) {
		s := newStore(t)
		join := func(acct, room, sid string) {
			_, err := s.JoinConference(ctx, acct, room, member(sid, 0))
			require.NoError(t, err)
		}
		join("acct-a", "standup", "c1")
		join("acct-a", "standup", "c2")
		join("acct-a", "board", "c3")
		join("acct-ab", "standup", "c4")
		join("acct-?", "glob", "c5")
		cases := []struct {
			name, account string
			want          []string
		}{
			{"two rooms, by name", "acct-a", []string{"board", "standup"}},
			{"longer sid", "acct-ab", []string{"standup"}},
			{"glob sid is literal", "acct-?", []string{"glob"}},
			{"unknown account", "acct-zzz", nil},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.ListConferences(ctx, tc.account)
				require.NoError(t, err)
				if len(tc.want) == 0 {
					require.Empty(t, got)
					return
				}
				require.Equal(t, tc.want, got)
			})
		}
		n, err := s.LeaveConference(ctx, "acct-b", "standup", "c1")
		require.NoError(t, err)
		require.Zero(t, n, "another account's room of the same name")
		got, err := s.ConferenceMembers(ctx, "acct-a", "standup")
		require.NoError(t, err)
		require.Len(t, got, 2)
	})
}
