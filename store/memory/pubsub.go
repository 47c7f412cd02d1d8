package memory

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/voxrun/voxrun/store"
)

// Publish delivers payload to every current subscriber of channel. It never
// waits for a slow subscriber: each subscription queues what it has not yet
// handed over.
func (s *Store) Publish(ctx context.Context, channel string, payload []byte) error {
	if err := s.begin(ctx, "publish"); err != nil {
		return err
	}
	s.mu.Lock()
	subs := make([]*subscription, 0, len(s.subs[channel]))
	for sub := range s.subs[channel] {
		subs = append(subs, sub)
	}
	s.mu.Unlock()
	for _, sub := range subs {
		sub.deliver(store.Message{Channel: channel, Payload: slices.Clone(payload)})
	}
	return nil
}

// Subscribe subscribes to channels; the subscription is active on return.
func (s *Store) Subscribe(ctx context.Context, channels ...string) (store.Subscription, error) {
	if err := s.begin(ctx, "subscribe"); err != nil {
		return nil, err
	}
	if len(channels) == 0 {
		return nil, fmt.Errorf("store/memory: subscribe: no channels: %w", store.ErrInvalid)
	}
	sub := &subscription{
		s:        s,
		channels: slices.Clone(channels),
		out:      make(chan store.Message),
		wake:     make(chan struct{}, 1),
		done:     make(chan struct{}),
	}
	// Start the goroutine before the store can see the subscription, so that
	// a concurrent Store.Close always has it to join.
	sub.wg.Go(sub.run)
	s.mu.Lock()
	if s.closed.Load() { // Close ran between begin and here
		s.mu.Unlock()
		close(sub.done)
		sub.wg.Wait()
		return nil, fmt.Errorf("store/memory: subscribe: %w", ErrClosed)
	}
	for _, ch := range channels {
		if s.subs[ch] == nil {
			s.subs[ch] = map[*subscription]struct{}{}
		}
		s.subs[ch][sub] = struct{}{}
	}
	s.mu.Unlock()
	return sub, nil
}

// subscription hands queued messages to its reader from one goroutine, which
// Close (of the subscription or of the store) joins.
type subscription struct {
	s        *Store
	channels []string
	out      chan store.Message

	mu     sync.Mutex
	queue  []store.Message
	closed bool

	wake      chan struct{} // a message was queued
	done      chan struct{} // Close was called
	closeOnce sync.Once
	wg        sync.WaitGroup
}

var _ store.Subscription = (*subscription)(nil)

func (sub *subscription) Messages() <-chan store.Message { return sub.out }

func (sub *subscription) deliver(m store.Message) {
	sub.mu.Lock()
	if sub.closed {
		sub.mu.Unlock()
		return
	}
	sub.queue = append(sub.queue, m)
	sub.mu.Unlock()
	select {
	case sub.wake <- struct{}{}:
	default:
	}
}

func (sub *subscription) run() {
	defer close(sub.out)
	for {
		sub.mu.Lock()
		if len(sub.queue) == 0 {
			sub.mu.Unlock()
			select {
			case <-sub.wake:
				continue
			case <-sub.done:
				return
			}
		}
		m := sub.queue[0]
		sub.queue[0] = store.Message{}
		sub.queue = sub.queue[1:]
		sub.mu.Unlock()
		select {
		case sub.out <- m:
		case <-sub.done:
			return
		}
	}
}

// Close unsubscribes, drops what was not yet read, closes Messages() and
// waits for the goroutine. It is idempotent.
func (sub *subscription) Close() error {
	sub.closeOnce.Do(func() {
		sub.s.mu.Lock()
		for _, ch := range sub.channels {
			delete(sub.s.subs[ch], sub)
			if len(sub.s.subs[ch]) == 0 {
				delete(sub.s.subs, ch)
			}
		}
		sub.s.mu.Unlock()
		sub.mu.Lock()
		sub.closed = true
		sub.queue = nil
		sub.mu.Unlock()
		close(sub.done)
		sub.wg.Wait()
	})
	return nil
}
