package memory

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/voxrun/voxrun/store"
)

// maxPriority is the largest queue priority (store.QueueEntry).
const maxPriority = 999999

// Queues.

// queueOrder serves by priority, then arrival; the call SID breaks exact ties,
// as it does in a Redis sorted set.
func queueOrder(a, b store.QueueEntry) int {
	return cmp.Or(cmp.Compare(a.Priority, b.Priority), a.EnqueuedAt.Compare(b.EnqueuedAt), strings.Compare(a.CallSID, b.CallSID))
}

// Enqueue adds the entry (moving it if the call is already queued) and
// returns its 1-based position.
func (s *Store) Enqueue(ctx context.Context, accountSID, queue string, e store.QueueEntry) (int, error) {
	if err := s.begin(ctx, "enqueue"); err != nil {
		return 0, err
	}
	if e.CallSID == "" || e.Priority < 0 || e.Priority > maxPriority {
		return 0, fmt.Errorf("store/memory: enqueue %q priority %d: %w", e.CallSID, e.Priority, store.ErrInvalid)
	}
	key := store.QueueKey(accountSID, queue)
	s.mu.Lock()
	defer s.mu.Unlock()
	if e.EnqueuedAt.IsZero() {
		e.EnqueuedAt = s.now()
	}
	e.EnqueuedAt = time.UnixMilli(e.EnqueuedAt.UnixMilli()) // as precise as Redis keeps it
	q, err := s.queueLocked(key)
	if err != nil {
		return 0, err
	}
	q = slices.DeleteFunc(q, func(x store.QueueEntry) bool { return x.CallSID == e.CallSID })
	i, _ := slices.BinarySearchFunc(q, e, queueOrder)
	q = slices.Insert(q, i, e)
	s.keys[key] = &entry{val: q}
	return i + 1, nil
}

// queueLocked returns the queue's entries in service order (nil when empty).
func (s *Store) queueLocked(key string) ([]store.QueueEntry, error) {
	e := s.getLocked(key)
	if e == nil {
		return nil, nil
	}
	q, ok := e.val.([]store.QueueEntry)
	if !ok {
		return nil, fmt.Errorf("store/memory: queue %q: %w", key, errWrongType)
	}
	return q, nil
}

// putQueueLocked stores q, or removes the key when q is empty (as Redis does).
func (s *Store) putQueueLocked(key string, q []store.QueueEntry) {
	if len(q) == 0 {
		delete(s.keys, key)
		return
	}
	s.keys[key] = &entry{val: q}
}

// Dequeue removes and returns the first entry, or store.ErrNotFound.
func (s *Store) Dequeue(ctx context.Context, accountSID, queue string) (store.QueueEntry, error) {
	if err := s.begin(ctx, "dequeue"); err != nil {
		return store.QueueEntry{}, err
	}
	key := store.QueueKey(accountSID, queue)
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.queueLocked(key)
	if err != nil {
		return store.QueueEntry{}, err
	}
	if len(q) == 0 {
		return store.QueueEntry{}, fmt.Errorf("store/memory: dequeue %q: %w", key, store.ErrNotFound)
	}
	first := q[0]
	s.putQueueLocked(key, slices.Clone(q[1:]))
	return first, nil
}

// RemoveFromQueue takes the call out of the queue; an absent call is not an error.
func (s *Store) RemoveFromQueue(ctx context.Context, accountSID, queue, callSID string) error {
	if err := s.begin(ctx, "remove from queue"); err != nil {
		return err
	}
	key := store.QueueKey(accountSID, queue)
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.queueLocked(key)
	if err != nil || q == nil {
		return err
	}
	s.putQueueLocked(key, slices.DeleteFunc(q, func(x store.QueueEntry) bool { return x.CallSID == callSID }))
	return nil
}

// QueueMembers lists the entries in service order.
func (s *Store) QueueMembers(ctx context.Context, accountSID, queue string) ([]store.QueueEntry, error) {
	if err := s.begin(ctx, "queue members"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.queueLocked(store.QueueKey(accountSID, queue))
	return slices.Clone(q), err
}

// ListQueues lists the account's non-empty queues, by name.
func (s *Store) ListQueues(ctx context.Context, accountSID string) ([]store.QueueInfo, error) {
	if err := s.begin(ctx, "list queues"); err != nil {
		return nil, err
	}
	prefix := queuePrefix(accountSID)
	s.mu.Lock()
	defer s.mu.Unlock()
	var infos []store.QueueInfo
	for key := range s.keys {
		name, ok := strings.CutPrefix(key, prefix)
		if !ok {
			continue
		}
		if q, err := s.queueLocked(key); err == nil && len(q) > 0 {
			infos = append(infos, store.QueueInfo{Name: name, Length: len(q)})
		}
	}
	slices.SortFunc(infos, func(a, b store.QueueInfo) int { return strings.Compare(a.Name, b.Name) })
	return infos, nil
}

// Conferences.

type conference map[string]store.ConferenceMember

func (s *Store) conferenceLocked(key string) (conference, error) {
	e := s.getLocked(key)
	if e == nil {
		return nil, nil
	}
	c, ok := e.val.(conference)
	if !ok {
		return nil, fmt.Errorf("store/memory: conference %q: %w", key, errWrongType)
	}
	return c, nil
}

// JoinConference adds (or updates) the member and returns the member count.
func (s *Store) JoinConference(ctx context.Context, accountSID, name string, m store.ConferenceMember) (int, error) {
	if err := s.begin(ctx, "join conference"); err != nil {
		return 0, err
	}
	if m.CallSID == "" {
		return 0, fmt.Errorf("store/memory: join conference %q: no call sid: %w", name, store.ErrInvalid)
	}
	key := store.ConferenceKey(accountSID, name)
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.conferenceLocked(key)
	if err != nil {
		return 0, err
	}
	if c == nil {
		c = conference{}
		s.keys[key] = &entry{val: c}
	}
	if m.JoinedAt.IsZero() {
		m.JoinedAt = s.now()
	}
	c[m.CallSID] = m
	return len(c), nil
}

// LeaveConference removes the member and returns the count left; the
// conference disappears when it is empty.
func (s *Store) LeaveConference(ctx context.Context, accountSID, name, callSID string) (int, error) {
	if err := s.begin(ctx, "leave conference"); err != nil {
		return 0, err
	}
	key := store.ConferenceKey(accountSID, name)
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.conferenceLocked(key)
	if err != nil || c == nil {
		return 0, err
	}
	delete(c, callSID)
	if len(c) == 0 {
		delete(s.keys, key)
	}
	return len(c), nil
}

// ConferenceMembers lists the members by join time.
func (s *Store) ConferenceMembers(ctx context.Context, accountSID, name string) ([]store.ConferenceMember, error) {
	if err := s.begin(ctx, "conference members"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.conferenceLocked(store.ConferenceKey(accountSID, name))
	if err != nil {
		return nil, err
	}
	members := slices.Collect(maps.Values(c))
	slices.SortFunc(members, memberOrder)
	return members, nil
}

func memberOrder(a, b store.ConferenceMember) int {
	return cmp.Or(a.JoinedAt.Compare(b.JoinedAt), strings.Compare(a.CallSID, b.CallSID))
}

// ListConferences lists the account's conference names, sorted.
func (s *Store) ListConferences(ctx context.Context, accountSID string) ([]string, error) {
	if err := s.begin(ctx, "list conferences"); err != nil {
		return nil, err
	}
	prefix := confPrefix(accountSID)
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	for key := range s.keys {
		if name, ok := strings.CutPrefix(key, prefix); ok {
			if c, err := s.conferenceLocked(key); err == nil && len(c) > 0 {
				names = append(names, name)
			}
		}
	}
	slices.Sort(names)
	return names, nil
}
