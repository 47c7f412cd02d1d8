package main

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/store"
)

type purgeCounter struct {
	store.CallState
	n atomic.Int32
}

func (p *purgeCounter) PurgeCalls(context.Context) (int, error) {
	p.n.Add(1)
	return 0, nil
}

func TestHousekeepingPurgesPeriodicallyAndStops(t *testing.T) {
	pc := &purgeCounter{}
	h := startHousekeeping(pc, slog.New(slog.NewTextHandler(io.Discard, nil)), 10*time.Millisecond)
	require.Eventually(t, func() bool { return pc.n.Load() >= 2 }, 5*time.Second, 5*time.Millisecond)
	h.Close()
	h.Close()
	n := pc.n.Load()
	time.Sleep(50 * time.Millisecond)
	require.Equal(t, n, pc.n.Load(), "no purge after Close")
}
