package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/voxrun/voxrun/store"
)

// purgeEvery is how often the active-call-sids index is purged of calls whose
// hash has expired (jambonz's API server does the same).
const purgeEvery = time.Minute

// housekeeper runs the node's periodic chores. Every node runs it; the purge
// takes a live-state lock so that one node purges at a time.
type housekeeper struct {
	stop chan struct{}
	done chan struct{}
}

func startHousekeeping(live store.CallState, log *slog.Logger, every time.Duration) *housekeeper {
	h := &housekeeper{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(h.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-h.stop:
				return
			case <-t.C:
				ctx, cancel := context.WithTimeout(context.Background(), every)
				n, err := live.PurgeCalls(ctx)
				cancel()
				switch {
				case err != nil:
					log.Warn("purging ended calls from active-call-sids failed", "err", err)
				case n > 0:
					log.Debug("purged ended calls from active-call-sids", "count", n)
				}
			}
		}
	}()
	return h
}

// Close stops the chores and waits for them; it is idempotent.
func (h *housekeeper) Close() {
	select {
	case <-h.stop:
	default:
		close(h.stop)
	}
	<-h.done
}
