package redisstore

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/voxrun/voxrun/store"
)

// Publish sends payload to the channel's subscribers on every node (PUBLISH).
// On a cluster, where a PUBLISH on any node reaches subscribers on all of
// them over the cluster bus, it always publishes on the master of the
// channel's hash slot, so that one channel's messages arrive in the order they
// were sent.
func (s *Store) Publish(ctx context.Context, channel string, payload []byte) error {
	if err := s.begin(ctx, "publish"); err != nil {
		return err
	}
	var c redis.Cmdable = s.client
	if cc, ok := s.client.(*redis.ClusterClient); ok {
		node, err := cc.MasterForKey(ctx, channel)
		if err != nil {
			return wrap("publish", err)
		}
		c = node
	}
	return wrap("publish", c.Publish(ctx, channel, payload).Err())
}

// Subscribe subscribes to channels (SUBSCRIBE) on a connection of its own and
// returns once Redis has confirmed every channel, so that a Publish after it
// is delivered. A cancelled ctx abandons the wait at once.
func (s *Store) Subscribe(ctx context.Context, channels ...string) (store.Subscription, error) {
	if err := s.begin(ctx, "subscribe"); err != nil {
		return nil, err
	}
	if len(channels) == 0 {
		return nil, fmt.Errorf("store/redis: subscribe: no channels: %w", store.ErrInvalid)
	}
	unique := slices.Compact(slices.Sorted(slices.Values(channels)))
	ps := s.client.Subscribe(ctx, unique...)

	// Wait for the confirmations in a goroutine of our own, so that ctx can
	// cut the wait short (go-redis reads honour deadlines, not cancellation).
	type result struct {
		early []store.Message
		err   error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		for confirmed := 0; confirmed < len(unique); {
			msg, err := ps.Receive(ctx)
			if err != nil {
				r.err = err
				break
			}
			switch m := msg.(type) {
			case *redis.Subscription:
				if m.Kind == "subscribe" {
					confirmed++
				}
			case *redis.Message: // a channel confirmed earlier is already live
				r.early = append(r.early, store.Message{Channel: m.Channel, Payload: []byte(m.Payload)})
			}
		}
		done <- r
	}()
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		_ = ps.Close() // unblocks Receive
		<-done
		return nil, fmt.Errorf("store/redis: subscribe: %w", ctx.Err())
	}
	if r.err != nil {
		_ = ps.Close()
		return nil, wrap("subscribe", r.err)
	}

	sub := &subscription{s: s, ps: ps, out: make(chan store.Message), done: make(chan struct{})}
	in := ps.Channel() // go-redis's reader, with health-check pings; ps.Close ends it
	// Start the goroutine before the store can see the subscription, so that
	// a concurrent Store.Close always has it to join.
	sub.wg.Go(func() { sub.run(r.early, in) })
	s.mu.Lock()
	if s.closed.Load() { // Close ran since begin
		s.mu.Unlock()
		close(sub.done)
		_ = ps.Close()
		sub.wg.Wait()
		return nil, fmt.Errorf("store/redis: subscribe: %w", ErrClosed)
	}
	s.subs[sub] = struct{}{}
	s.mu.Unlock()
	return sub, nil
}

// subscription forwards go-redis's messages from one goroutine, which Close
// (of the subscription or of the store) joins.
type subscription struct {
	s    *Store
	ps   *redis.PubSub
	out  chan store.Message
	done chan struct{}
	once sync.Once
	wg   sync.WaitGroup
	err  error
}

var _ store.Subscription = (*subscription)(nil)

func (sub *subscription) Messages() <-chan store.Message { return sub.out }

func (sub *subscription) run(early []store.Message, in <-chan *redis.Message) {
	defer close(sub.out)
	for _, m := range early {
		select {
		case sub.out <- m:
		case <-sub.done:
			return
		}
	}
	for {
		select {
		case m, ok := <-in:
			if !ok {
				return
			}
			select {
			case sub.out <- store.Message{Channel: m.Channel, Payload: []byte(m.Payload)}:
			case <-sub.done:
				return
			}
		case <-sub.done:
			return
		}
	}
}

// Close unsubscribes, closes Messages() and waits for the goroutine. It is
// idempotent.
func (sub *subscription) Close() error {
	sub.once.Do(func() {
		close(sub.done)
		if err := sub.ps.Close(); err != nil {
			sub.err = wrap("unsubscribe", err)
		}
		sub.wg.Wait()
		sub.s.mu.Lock()
		delete(sub.s.subs, sub)
		sub.s.mu.Unlock()
	})
	return sub.err
}
