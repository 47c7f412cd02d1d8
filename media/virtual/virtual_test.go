package virtual

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/voxrun/voxrun/media"
	"github.com/voxrun/voxrun/media/clock"
	"github.com/voxrun/voxrun/media/mediatest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestFramesFlowBothWays(t *testing.T) {
	clk := mediatest.NewManualClock(time.Unix(0, 0))
	leg, party, err := NewPair(clk)
	require.NoError(t, err)
	defer leg.Close()

	prompt := mediatest.Tone(440, 8000, 2*media.FrameSamples)
	speech := mediatest.Tone(300, 5000, media.FrameSamples)
	leg.SetSource(media.Fill(prompt))
	party.SetSource(media.Fill(speech))
	heard, said := &mediatest.Collector{}, &mediatest.Collector{}
	party.AddSink(heard)
	remove := leg.AddSink(said)

	clk.Tick(3)
	require.Equal(t, append(append([]int16{}, prompt...), make([]int16, 160)...), heard.Samples(), "prompt, then silence")
	require.Equal(t, append(append([]int16{}, speech...), make([]int16, 320)...), said.Samples())

	remove()
	clk.Tick(1)
	require.Len(t, said.Frames(), 3)
	require.Len(t, heard.Frames(), 4)
	require.Equal(t, uint64(4), leg.Stats().PacketsSent)
	require.Equal(t, uint64(4), party.Stats().PacketsReceived)
	require.Equal(t, uint64(4*160), leg.Stats().OctetsSent)
	require.Equal(t, uint64(4*160), party.Stats().OctetsReceived)
}

func TestDigitsArriveOnceWithDuration(t *testing.T) {
	clk := mediatest.NewManualClock(time.Unix(0, 0))
	leg, party, err := NewPair(clk)
	require.NoError(t, err)
	defer party.Close()
	got := &mediatest.Digits{}
	leg.OnDigit(got)

	cases := []struct {
		name  string
		key   byte
		d     time.Duration
		ticks int
	}{
		{"100 ms", '5', 100 * time.Millisecond, 5},
		{"rounded up to a frame", '#', 30 * time.Millisecond, 2},
		{"zero is one frame", 'A', 0, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := len(got.All())
			done := make(chan error, 1)
			go func() { done <- party.SendDigit(context.Background(), tc.key, tc.d) }()
			require.Eventually(t, func() bool {
				party.pair.mu.Lock()
				defer party.pair.mu.Unlock()
				return len(party.digits) == 1
			}, time.Second, time.Millisecond)
			clk.Tick(tc.ticks - 1)
			require.Len(t, got.All(), before, "not before its duration")
			clk.Tick(1)
			require.NoError(t, <-done)
			all := got.All()
			require.Len(t, all, before+1)
			require.Equal(t, media.Digit{Key: tc.key, Duration: time.Duration(tc.ticks) * 20 * time.Millisecond, Origin: media.DigitVirtual}, all[before])
		})
	}
	require.Error(t, party.SendDigit(context.Background(), 'z', 0))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, party.SendDigit(ctx, '1', 0), context.Canceled)
	clk.Tick(2)
	require.Equal(t, "5#A", got.Keys(), "a cancelled digit is never delivered")
}

// TestSinksMayCallBack shows a sink can change the source from inside a
// tick (barge-in) without deadlocking.
func TestSinksMayCallBack(t *testing.T) {
	clk := mediatest.NewManualClock(time.Unix(0, 0))
	leg, party, err := NewPair(clk)
	require.NoError(t, err)
	defer leg.Close()
	party.SetSource(media.Fill(mediatest.Tone(500, 4000, 160)))
	leg.SetSource(media.SourceFunc(func(f []int16) error { f[0] = 1; return nil }))
	leg.AddSink(media.SinkFunc(func(f []int16) error {
		if slices.Max(f) > 1000 {
			leg.SetSource(nil) // the caller spoke: stop the prompt
		}
		return nil
	}))
	heard := &mediatest.Collector{}
	party.AddSink(heard)
	clk.Tick(3)
	frames := heard.Frames()
	require.Equal(t, int16(1), frames[0][0])
	require.Equal(t, int16(0), frames[1][0], "prompt stopped after the caller spoke")
}

func TestCloseOnTheRealClock(t *testing.T) {
	clk := clock.New(clock.Config{Shards: 1})
	defer clk.Close()
	leg, party, err := NewPair(clk)
	require.NoError(t, err)
	heard := &mediatest.Collector{}
	party.AddSink(heard)
	leg.SetSource(media.Silence())
	require.Eventually(t, func() bool { return len(heard.Frames()) >= 3 }, 2*time.Second, time.Millisecond)

	done := make(chan error, 1)
	go func() { done <- leg.SendDigit(context.Background(), '1', time.Hour) }()
	require.Eventually(t, func() bool {
		leg.pair.mu.Lock()
		defer leg.pair.mu.Unlock()
		return len(leg.digits) == 1
	}, time.Second, time.Millisecond)
	require.NoError(t, party.Close())
	require.NoError(t, leg.Close())
	require.ErrorIs(t, <-done, media.ErrClosed)
	require.Zero(t, clk.Len())
	require.ErrorIs(t, leg.SendDigit(context.Background(), '1', 0), media.ErrClosed)
}
