package redisstore

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/voxrun/voxrun/store"
)

// Queues.
//
// A queue is one sorted set, queue:{accountSid}:{name}, member = call SID,
// score = priority·2^42 + arrival in ms since the epoch. Arrival fits in 42
// bits until the year 2109, so priority always dominates, and within one
// priority the earlier arrival is served first. The arrival is read back from
// the score. A float64 score is exact up to 2^53, so for priorities below
// 2^11 = 2048 the arrival is kept to the millisecond; above, it is rounded to
// 2^(⌈log2 priority⌉−11) ms (512 ms at the largest priority, 999999), and
// arrivals closer than that are served in call-SID order, as Redis breaks
// ties. One key per queue keeps each operation atomic and cluster-safe.

const (
	maxPriority = 999999
	arrivalBits = 42
)

var priorityUnit = math.Ldexp(1, arrivalBits) // 2^42

func queueScore(priority int, at time.Time) float64 {
	return float64(priority)*priorityUnit + float64(at.UnixMilli())
}

func queueEntry(z redis.Z) store.QueueEntry {
	p := math.Floor(z.Score / priorityUnit)
	ms := z.Score - p*priorityUnit
	sid, _ := z.Member.(string)
	return store.QueueEntry{CallSID: sid, Priority: int(p), EnqueuedAt: time.UnixMilli(int64(ms))}
}

// Enqueue adds the call (ZADD; a queued call moves) and returns its position
// (ZRANK + 1), in one MULTI.
func (s *Store) Enqueue(ctx context.Context, accountSID, queue string, e store.QueueEntry) (int, error) {
	if err := s.begin(ctx, "enqueue"); err != nil {
		return 0, err
	}
	if e.CallSID == "" || e.Priority < 0 || e.Priority > maxPriority {
		return 0, fmt.Errorf("store/redis: enqueue %q priority %d: %w", e.CallSID, e.Priority, store.ErrInvalid)
	}
	if e.EnqueuedAt.IsZero() {
		e.EnqueuedAt = s.now()
	}
	key := store.QueueKey(accountSID, queue)
	pipe := s.client.TxPipeline()
	pipe.ZAdd(ctx, key, redis.Z{Score: queueScore(e.Priority, e.EnqueuedAt), Member: e.CallSID})
	rank := pipe.ZRank(ctx, key, e.CallSID)
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, wrap("enqueue", err)
	}
	return int(rank.Val()) + 1, nil
}

// Dequeue pops the first entry (ZPOPMIN), or returns store.ErrNotFound.
func (s *Store) Dequeue(ctx context.Context, accountSID, queue string) (store.QueueEntry, error) {
	if err := s.begin(ctx, "dequeue"); err != nil {
		return store.QueueEntry{}, err
	}
	key := store.QueueKey(accountSID, queue)
	zs, err := s.client.ZPopMin(ctx, key, 1).Result()
	if err != nil {
		return store.QueueEntry{}, wrap("dequeue", err)
	}
	if len(zs) == 0 {
		return store.QueueEntry{}, fmt.Errorf("store/redis: dequeue %q: %w", key, store.ErrNotFound)
	}
	return queueEntry(zs[0]), nil
}

// RemoveFromQueue takes the call out (ZREM); an absent call is not an error.
func (s *Store) RemoveFromQueue(ctx context.Context, accountSID, queue, callSID string) error {
	if err := s.begin(ctx, "remove from queue"); err != nil {
		return err
	}
	return wrap("remove from queue", s.client.ZRem(ctx, store.QueueKey(accountSID, queue), callSID).Err())
}

// QueueMembers lists the entries in service order (ZRANGE WITHSCORES).
func (s *Store) QueueMembers(ctx context.Context, accountSID, queue string) ([]store.QueueEntry, error) {
	if err := s.begin(ctx, "queue members"); err != nil {
		return nil, err
	}
	zs, err := s.client.ZRangeWithScores(ctx, store.QueueKey(accountSID, queue), 0, -1).Result()
	if err != nil {
		return nil, wrap("queue members", err)
	}
	entries := make([]store.QueueEntry, len(zs))
	for i, z := range zs {
		entries[i] = queueEntry(z)
	}
	return entries, nil
}

// ListQueues finds queue:{accountSid}:* by SCAN and counts each with ZCARD in
// a pipeline. An emptied queue has no key. By name.
func (s *Store) ListQueues(ctx context.Context, accountSID string) ([]store.QueueInfo, error) {
	if err := s.begin(ctx, "list queues"); err != nil {
		return nil, err
	}
	prefix := store.QueueKey(accountSID, "")
	keys, err := s.scanKeys(ctx, globEscape(prefix)+"*")
	if err != nil {
		return nil, wrap("list queues", err)
	}
	var infos []store.QueueInfo
	for batch := range slices.Chunk(keys, scanCount) {
		pipe := s.client.Pipeline()
		cmds := make([]*redis.IntCmd, len(batch))
		for i, k := range batch {
			cmds[i] = pipe.ZCard(ctx, k)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, wrap("list queues", err)
		}
		for i, c := range cmds {
			if n := c.Val(); n > 0 {
				infos = append(infos, store.QueueInfo{Name: strings.TrimPrefix(batch[i], prefix), Length: int(n)})
			}
		}
	}
	slices.SortFunc(infos, func(a, b store.QueueInfo) int { return strings.Compare(a.Name, b.Name) })
	return infos, nil
}

// Conferences: conf:{accountSid}:{name} is a hash, call SID → JSON of the
// member. Redis removes a hash when its last field goes, so an empty
// conference disappears by itself.

// JoinConference adds (or updates) the member and returns the count: HSET and
// HLEN in one MULTI.
func (s *Store) JoinConference(ctx context.Context, accountSID, name string, m store.ConferenceMember) (int, error) {
	if err := s.begin(ctx, "join conference"); err != nil {
		return 0, err
	}
	if m.CallSID == "" {
		return 0, fmt.Errorf("store/redis: join conference %q: no call sid: %w", name, store.ErrInvalid)
	}
	if m.JoinedAt.IsZero() {
		m.JoinedAt = s.now()
	}
	b, err := json.Marshal(m)
	if err != nil {
		return 0, fmt.Errorf("store/redis: join conference: %w", err)
	}
	key := store.ConferenceKey(accountSID, name)
	pipe := s.client.TxPipeline()
	pipe.HSet(ctx, key, m.CallSID, b)
	n := pipe.HLen(ctx, key)
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, wrap("join conference", err)
	}
	return int(n.Val()), nil
}

// LeaveConference removes the member and returns the count left: HDEL and
// HLEN in one MULTI.
func (s *Store) LeaveConference(ctx context.Context, accountSID, name, callSID string) (int, error) {
	if err := s.begin(ctx, "leave conference"); err != nil {
		return 0, err
	}
	key := store.ConferenceKey(accountSID, name)
	pipe := s.client.TxPipeline()
	pipe.HDel(ctx, key, callSID)
	n := pipe.HLen(ctx, key)
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, wrap("leave conference", err)
	}
	return int(n.Val()), nil
}

// ConferenceMembers lists the members by join time.
func (s *Store) ConferenceMembers(ctx context.Context, accountSID, name string) ([]store.ConferenceMember, error) {
	if err := s.begin(ctx, "conference members"); err != nil {
		return nil, err
	}
	h, err := s.client.HGetAll(ctx, store.ConferenceKey(accountSID, name)).Result()
	if err != nil {
		return nil, wrap("conference members", err)
	}
	members := make([]store.ConferenceMember, 0, len(h))
	for sid, raw := range h {
		var m store.ConferenceMember
		if err := json.Unmarshal([]byte(raw), &m); err != nil {
			return nil, fmt.Errorf("store/redis: conference members: %s: %w", sid, err)
		}
		m.CallSID = sid
		members = append(members, m)
	}
	slices.SortFunc(members, func(a, b store.ConferenceMember) int {
		return cmp.Or(a.JoinedAt.Compare(b.JoinedAt), strings.Compare(a.CallSID, b.CallSID))
	})
	return members, nil
}

// ListConferences finds conf:{accountSid}:* by SCAN. By name.
func (s *Store) ListConferences(ctx context.Context, accountSID string) ([]string, error) {
	if err := s.begin(ctx, "list conferences"); err != nil {
		return nil, err
	}
	prefix := store.ConferenceKey(accountSID, "")
	keys, err := s.scanKeys(ctx, globEscape(prefix)+"*")
	if err != nil {
		return nil, wrap("list conferences", err)
	}
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = strings.TrimPrefix(k, prefix)
	}
	slices.Sort(names)
	return names, nil
}
