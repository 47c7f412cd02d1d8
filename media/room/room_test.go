package room

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/voxrun/voxrun/media"
	"github.com/voxrun/voxrun/media/clock"
	"github.com/voxrun/voxrun/media/mediatest"
	"github.com/voxrun/voxrun/media/virtual"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// party is the far side of a virtual leg: it says a constant level and
// collects what it hears.
type party struct {
	leg, far *virtual.Endpoint
	heard    *mediatest.Collector
}

func constant(v int16) media.Source {
	return media.SourceFunc(func(f []int16) error {
		for i := range f {
			f[i] = v
		}
		return nil
	})
}

func newParty(t *testing.T, clk *mediatest.ManualClock, says int16) *party {
	t.Helper()
	leg, far, err := virtual.NewPair(clk)
	require.NoError(t, err)
	t.Cleanup(func() { _ = leg.Close() })
	p := &party{leg: leg, far: far, heard: &mediatest.Collector{}}
	far.SetSource(constant(says))
	far.AddSink(p.heard)
	return p
}

// last returns the first sample of the last frame p heard.
func (p *party) last(t *testing.T) int16 {
	t.Helper()
	frames := p.heard.Frames()
	require.NotEmpty(t, frames)
	f := frames[len(frames)-1]
	for _, v := range f {
		require.Equal(t, f[0], v, "a constant level stays constant through the mix")
	}
	return f[0]
}

func TestThreePartiesHearTheOthers(t *testing.T) {
	clk := mediatest.NewManualClock(time.Unix(0, 0))
	a, b, c := newParty(t, clk, 100), newParty(t, clk, 20), newParty(t, clk, 3)
	r, err := New(clk, Config{})
	require.NoError(t, err)
	defer r.Close()
	ma, err := r.Join(a.leg)
	require.NoError(t, err)
	mb, err := r.Join(b.leg)
	require.NoError(t, err)
	_, err = r.Join(c.leg)
	require.NoError(t, err)
	require.Equal(t, 3, r.Len())

	clk.Tick(5)
	require.Equal(t, int16(23), a.last(t), "a hears b and c, not itself")
	require.Equal(t, int16(103), b.last(t))
	require.Equal(t, int16(120), c.last(t))

	ma.SetMuted(true)
	clk.Tick(3)
	require.Equal(t, int16(23), a.last(t), "a muted still hears")
	require.Equal(t, int16(3), b.last(t), "nobody hears a muted member")
	require.Equal(t, int16(20), c.last(t))
	ma.SetMuted(false)

	mb.SetDeaf(true)
	clk.Tick(3)
	require.Equal(t, int16(0), b.last(t), "a deaf member (on hold) hears nothing")
	require.Equal(t, int16(120), c.last(t), "but is still heard")
	mb.SetDeaf(false)

	// b leaves: a and c become a bridge; b's leg goes back to silence.
	mb.Leave()
	mb.Leave()
	clk.Tick(3)
	require.Equal(t, int16(3), a.last(t))
	require.Equal(t, int16(100), c.last(t))
	require.Equal(t, int16(0), b.last(t))
	require.Equal(t, 2, r.Len())
}

func TestMixSaturates(t *testing.T) {
	clk := mediatest.NewManualClock(time.Unix(0, 0))
	loud1, loud2, listener := newParty(t, clk, 30000), newParty(t, clk, 30000), newParty(t, clk, 0)
	quiet1, quiet2 := newParty(t, clk, -30000), newParty(t, clk, -30000)
	r, err := New(clk, Config{})
	require.NoError(t, err)
	defer r.Close()
	for _, p := range []*party{loud1, loud2, listener} {
		_, err := r.Join(p.leg)
		require.NoError(t, err)
	}
	clk.Tick(4)
	require.Equal(t, int16(32767), listener.last(t), "clipped, not wrapped")

	r2, err := New(clk, Config{})
	require.NoError(t, err)
	defer r2.Close()
	listener2 := newParty(t, clk, 0)
	for _, p := range []*party{quiet1, quiet2, listener2} {
		_, err := r2.Join(p.leg)
		require.NoError(t, err)
	}
	clk.Tick(4)
	require.Equal(t, int16(-32768), listener2.last(t))
}

// TestWhisperAndBack plays a prompt to one member only, then gives it its
// mix back.
func TestWhisperAndBack(t *testing.T) {
	clk := mediatest.NewManualClock(time.Unix(0, 0))
	a, b := newParty(t, clk, 7), newParty(t, clk, 9)
	r, err := New(clk, Config{})
	require.NoError(t, err)
	defer r.Close()
	ma, err := r.Join(a.leg)
	require.NoError(t, err)
	_, err = r.Join(b.leg)
	require.NoError(t, err)
	clk.Tick(3)
	require.Equal(t, int16(9), a.last(t))

	a.leg.SetSource(constant(555)) // the whisper
	clk.Tick(2)
	require.Equal(t, int16(555), a.last(t))
	require.Equal(t, int16(7), b.last(t), "b still hears a")
	ma.Resume()
	clk.Tick(2)
	require.Equal(t, int16(9), a.last(t))
}

func TestLimitsAndClose(t *testing.T) {
	clk := mediatest.NewManualClock(time.Unix(0, 0))
	a, b := newParty(t, clk, 1), newParty(t, clk, 2)
	r, err := New(clk, Config{MaxMembers: 1})
	require.NoError(t, err)
	_, err = r.Join(a.leg)
	require.NoError(t, err)
	_, err = r.Join(b.leg)
	require.ErrorIs(t, err, ErrFull)
	require.NoError(t, r.Close())
	require.NoError(t, r.Close())
	_, err = r.Join(b.leg)
	require.ErrorIs(t, err, ErrClosed)
	clk.Tick(2)
	require.Equal(t, int16(0), a.last(t), "after Close the leg plays silence")
}

func TestRingDropsOldest(t *testing.T) {
	var q ring
	f := make([]int16, media.FrameSamples)
	for i := range depth + 2 {
		f[0] = int16(i)
		q.push(f)
	}
	var got []int16
	for q.pop(f) {
		got = append(got, f[0])
	}
	require.Equal(t, []int16{2, 3, 4, 5}, got)
}

// TestOnTheRealClock runs a bridge on the real clock: it mixes, and
// closing everything leaves no goroutine.
func TestOnTheRealClock(t *testing.T) {
	clk := clock.New(clock.Config{Shards: 2})
	defer clk.Close()
	a1, a2, err := virtual.NewPair(clk)
	require.NoError(t, err)
	defer a1.Close()
	b1, b2, err := virtual.NewPair(clk)
	require.NoError(t, err)
	defer b1.Close()
	r, err := New(clk, Config{})
	require.NoError(t, err)
	defer r.Close()
	_, err = r.Join(a1)
	require.NoError(t, err)
	_, err = r.Join(b1)
	require.NoError(t, err)
	a2.SetSource(constant(1234))
	heard := &mediatest.Collector{}
	b2.AddSink(heard)
	require.Eventually(t, func() bool {
		for _, f := range heard.Frames() {
			if f[0] == 1234 {
				return true
			}
		}
		return false
	}, 2*time.Second, 5*time.Millisecond)
}

func BenchmarkTickTenMembers(b *testing.B) {
	clk := mediatest.NewManualClock(time.Unix(0, 0))
	r, err := New(clk, Config{})
	require.NoError(b, err)
	frame := mediatest.Tone(300, 3000, media.FrameSamples)
	var members []*Member
	for range 10 {
		leg, _, err := virtual.NewPair(mediatest.NewManualClock(time.Unix(0, 0)))
		require.NoError(b, err)
		m, err := r.Join(leg)
		require.NoError(b, err)
		members = append(members, m)
	}
	out := media.NewFrame()
	b.ReportAllocs()
	for b.Loop() {
		for _, m := range members {
			_ = m.WriteFrame(frame)
		}
		r.Tick(time.Time{})
		for _, m := range members {
			_ = m.ReadFrame(out)
		}
	}
}
