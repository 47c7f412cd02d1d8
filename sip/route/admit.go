package route

import (
	"context"
	"sync"

	"github.com/voxrun/voxrun/store"
)

// Limiter admits a new call of an account (its call limits), or refuses it
// with a *RejectError. release gives the slot back when the call ends.
type Limiter interface {
	Admit(ctx context.Context, acct store.Account) (release func(), err error)
}

// slots collects the releases of the calls admitted under one context.
type slots struct {
	mu       sync.Mutex
	releases []func()
	done     bool
}

type slotsKey struct{}

// Track returns a context under which Route's admissions are remembered,
// and a function that releases them all: the INVITE handler's wrapper
// calls it when the handler returns, that is when the call is over. It is
// idempotent.
func Track(ctx context.Context) (context.Context, func()) {
	s := &slots{}
	return context.WithValue(ctx, slotsKey{}, s), func() {
		s.mu.Lock()
		rs := s.releases
		s.releases, s.done = nil, true
		s.mu.Unlock()
		for _, r := range rs {
			r()
		}
	}
}

// admit asks the limiter for a slot; the release goes to ctx's tracker
// (and is returned, for callers without one).
func (r *Router) admit(ctx context.Context, acct store.Account) (func(), error) {
	if r.cfg.Limiter == nil {
		return func() {}, nil
	}
	release, err := r.cfg.Limiter.Admit(ctx, acct)
	if err != nil {
		return nil, err
	}
	var once sync.Once
	rel := func() { once.Do(release) }
	if s, ok := ctx.Value(slotsKey{}).(*slots); ok {
		s.mu.Lock()
		if s.done {
			s.mu.Unlock()
			rel()
			return rel, nil
		}
		s.releases = append(s.releases, rel)
		s.mu.Unlock()
	}
	return rel, nil
}
