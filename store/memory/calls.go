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

// Calls.

// PutCall creates the call's hash with TTL store.CallTTL, or merges fields
// into it keeping its TTL, and indexes it in active-call-sids when it is new.
func (s *Store) PutCall(ctx context.Context, accountSID, callSID string, fields map[string]string) error {
	if err := s.begin(ctx, "put call"); err != nil {
		return err
	}
	if len(fields) == 0 {
		return fmt.Errorf("store/memory: put call %s: no fields: %w", callSID, store.ErrInvalid)
	}
	key := store.CallKey(accountSID, callSID)
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.getLocked(key); e != nil {
		h, ok := e.val.(map[string]string)
		if !ok {
			return fmt.Errorf("store/memory: put call %q: %w", key, errWrongType)
		}
		maps.Copy(h, fields)
	} else {
		s.keys[key] = &entry{val: maps.Clone(fields), expires: s.expiryLocked(store.CallTTL)}
	}
	if _, ok := s.active[key]; !ok {
		s.active[key] = s.now().UnixMilli()
	}
	return nil
}

// EndCall shortens the call's TTL to store.EndedCallTTL.
func (s *Store) EndCall(ctx context.Context, accountSID, callSID string) error {
	if err := s.begin(ctx, "end call"); err != nil {
		return err
	}
	key := store.CallKey(accountSID, callSID)
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.getLocked(key)
	if e == nil {
		return fmt.Errorf("store/memory: end call %q: %w", key, store.ErrNotFound)
	}
	e.expires = s.expiryLocked(store.EndedCallTTL)
	return nil
}

// GetCall returns a copy of the call's hash, or store.ErrNotFound.
func (s *Store) GetCall(ctx context.Context, accountSID, callSID string) (map[string]string, error) {
	if err := s.begin(ctx, "get call"); err != nil {
		return nil, err
	}
	key := store.CallKey(accountSID, callSID)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.callLocked(key)
}

func (s *Store) callLocked(key string) (map[string]string, error) {
	e := s.getLocked(key)
	if e == nil {
		return nil, fmt.Errorf("store/memory: get call %q: %w", key, store.ErrNotFound)
	}
	h, ok := e.val.(map[string]string)
	if !ok {
		return nil, fmt.Errorf("store/memory: get call %q: %w", key, errWrongType)
	}
	return maps.Clone(h), nil
}

// DeleteCall removes the call's hash and its index entry.
func (s *Store) DeleteCall(ctx context.Context, accountSID, callSID string) error {
	if err := s.begin(ctx, "delete call"); err != nil {
		return err
	}
	key := store.CallKey(accountSID, callSID)
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.keys, key)
	delete(s.active, key)
	return nil
}

// ListCalls returns the account's live call hashes, oldest first.
func (s *Store) ListCalls(ctx context.Context, accountSID string) ([]map[string]string, error) {
	if err := s.begin(ctx, "list calls"); err != nil {
		return nil, err
	}
	prefix := callPrefix(accountSID)
	s.mu.Lock()
	defer s.mu.Unlock()
	type indexed struct {
		key   string
		score int64
	}
	var found []indexed
	for key, score := range s.active {
		if strings.HasPrefix(key, prefix) {
			found = append(found, indexed{key, score})
		}
	}
	slices.SortFunc(found, func(a, b indexed) int {
		return cmp.Or(cmp.Compare(a.score, b.score), strings.Compare(a.key, b.key))
	})
	var calls []map[string]string
	for _, f := range found {
		if h, err := s.callLocked(f.key); err == nil {
			calls = append(calls, h)
		}
	}
	return calls, nil
}

// PurgeCalls removes active-call-sids members whose hash has expired, under
// the purge lock, and reports how many it removed. When another holder has
// the lock it removes nothing and returns 0.
func (s *Store) PurgeCalls(ctx context.Context) (int, error) {
	unlock, ok, err := s.TryLock(ctx, PurgeLockName, purgeLease)
	if err != nil || !ok {
		return 0, err
	}
	defer func() { _ = unlock(context.WithoutCancel(ctx)) }()
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for key := range s.active {
		if s.getLocked(key) == nil {
			delete(s.active, key)
			n++
		}
	}
	return n, nil
}

// Registrations.

// Register stores the binding under user:{name}@{domain} for ttl.
func (s *Store) Register(ctx context.Context, r store.Registration, ttl time.Duration) error {
	if err := s.begin(ctx, "register"); err != nil {
		return err
	}
	if ttl <= 0 || r.Name == "" || r.Domain == "" {
		return fmt.Errorf("store/memory: register %s@%s for %v: %w", r.Name, r.Domain, ttl, store.ErrInvalid)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.ExpiresAt.IsZero() {
		r.ExpiresAt = s.now().Add(ttl)
	}
	// Milliseconds, as store/redis keeps them (jambonz's expiryTime).
	r.ExpiresAt = time.UnixMilli(r.ExpiresAt.UnixMilli())
	s.keys[store.UserKey(r.Name, r.Domain)] = &entry{val: r, expires: s.expiryLocked(ttl)}
	return nil
}

// Unregister removes the binding; a missing one is not an error.
func (s *Store) Unregister(ctx context.Context, name, domain string) error {
	return s.del(ctx, "unregister", store.UserKey(name, domain))
}

// Registration returns the binding, or store.ErrNotFound.
func (s *Store) Registration(ctx context.Context, name, domain string) (store.Registration, error) {
	if err := s.begin(ctx, "registration"); err != nil {
		return store.Registration{}, err
	}
	key := store.UserKey(name, domain)
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.getLocked(key)
	if e == nil {
		return store.Registration{}, fmt.Errorf("store/memory: registration %q: %w", key, store.ErrNotFound)
	}
	r, ok := e.val.(store.Registration)
	if !ok {
		return store.Registration{}, fmt.Errorf("store/memory: registration %q: %w", key, errWrongType)
	}
	return r, nil
}

// ListRegistrations returns the realm's live bindings, by name.
func (s *Store) ListRegistrations(ctx context.Context, domain string) ([]store.Registration, error) {
	if err := s.begin(ctx, "list registrations"); err != nil {
		return nil, err
	}
	suffix := "@" + domain
	s.mu.Lock()
	defer s.mu.Unlock()
	var regs []store.Registration
	for key := range s.keys {
		if !strings.HasPrefix(key, "user:") || !strings.HasSuffix(key, suffix) {
			continue
		}
		if e := s.getLocked(key); e != nil {
			if r, ok := e.val.(store.Registration); ok && r.Domain == domain {
				regs = append(regs, r)
			}
		}
	}
	slices.SortFunc(regs, func(a, b store.Registration) int { return strings.Compare(a.Name, b.Name) })
	return regs, nil
}
