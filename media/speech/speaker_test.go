package speech

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/voxrun/voxrun/media"
	"github.com/voxrun/voxrun/media/player"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeEngine returns a 1 kHz tone at 22.05 kHz, as long as the text is in
// tenths of a second per byte, and counts its calls.
type fakeEngine struct {
	calls atomic.Int32
	gate  chan struct{} // when set, Synthesize waits for it
	err   error
}

func (f *fakeEngine) Name() string { return "fake" }

func (f *fakeEngine) Synthesize(ctx context.Context, req Request) (Audio, error) {
	f.calls.Add(1)
	if f.gate != nil {
		select {
		case <-f.gate:
		case <-ctx.Done():
			return Audio{}, context.Cause(ctx)
		}
	}
	if f.err != nil {
		return Audio{}, f.err
	}
	n := 2205 * len(req.Text)
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(8000 * math.Sin(2*math.Pi*1000*float64(i)/22050))
	}
	return Audio{Rate: 22050, Samples: s}, nil
}

func drain(t *testing.T, p *player.Player) []int16 {
	t.Helper()
	frame := media.NewFrame()
	var all []int16
	for {
		err := p.ReadFrame(frame)
		if errors.Is(err, io.EOF) {
			return all
		}
		require.NoError(t, err)
		all = append(all, frame...)
	}
}

func say(t *testing.T, s *Speaker, req Request) []int16 {
	t.Helper()
	p, err := s.Say(context.Background(), req, player.Options{Loop: 1})
	require.NoError(t, err)
	defer func() { require.NoError(t, p.Close()) }()
	return drain(t, p)
}

func TestCacheNeverSynthesisesTwice(t *testing.T) {
	eng := &fakeEngine{}
	s, err := NewSpeaker(eng, Config{CacheDir: t.TempDir()})
	require.NoError(t, err)
	base := Request{Text: "hello", Language: "en-US", Voice: "a"}
	cases := []struct {
		name  string
		req   Request
		calls int32
	}{
		{"first", base, 1},
		{"again", base, 1},
		{"other voice", Request{Text: "hello", Language: "en-US", Voice: "b"}, 2},
		{"other language", Request{Text: "hello", Language: "en-GB", Voice: "a"}, 3},
		{"other text", Request{Text: "hello!", Language: "en-US", Voice: "a"}, 4},
		{"first again", base, 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := say(t, s, tc.req)
			require.Len(t, out, 25*media.FrameSamples*len(tc.req.Text)/5, "0.1 s per byte, at 8 kHz")
			require.Equal(t, tc.calls, eng.calls.Load())
		})
	}
	require.Equal(t, Stats{Hits: 2, Syntheses: 4}, s.Stats())

	// A new Speaker on the same directory (a restart) still has them.
	s2, err := NewSpeaker(eng, Config{CacheDir: s.cfg.CacheDir})
	require.NoError(t, err)
	b, err := s2.WAV(context.Background(), base)
	require.NoError(t, err)
	require.Equal(t, int32(4), eng.calls.Load())
	require.Len(t, b, 44+2*4000)
}

func TestConcurrentSaysShareOneSynthesis(t *testing.T) {
	eng := &fakeEngine{gate: make(chan struct{})}
	s, err := NewSpeaker(eng, Config{CacheDir: t.TempDir()})
	require.NoError(t, err)
	var wg sync.WaitGroup
	lens := make([]int, 8)
	for i := range lens {
		wg.Go(func() {
			b, err := s.WAV(context.Background(), Request{Text: "same prompt"})
			if err == nil {
				lens[i] = len(b)
			}
		})
	}
	require.Eventually(t, func() bool { return s.Stats().Shared == 7 }, 5*time.Second, time.Millisecond)
	close(eng.gate)
	wg.Wait()
	require.Equal(t, int32(1), eng.calls.Load())
	require.Equal(t, 1, len(slices.Compact(lens)))
	require.NotZero(t, lens[0])
}

func TestCacheIsBounded(t *testing.T) {
	eng := &fakeEngine{}
	// Each 1-byte prompt is 0.1 s: 1644 bytes of WAV.
	s, err := NewSpeaker(eng, Config{CacheDir: t.TempDir(), CacheBytes: 5000})
	require.NoError(t, err)
	for i := range 10 {
		say(t, s, Request{Text: fmt.Sprint(i)})
		require.LessOrEqual(t, s.CacheStats().Bytes, int64(5000))
	}
	require.Equal(t, 3, s.CacheStats().Entries)
	say(t, s, Request{Text: "9"}) // recent: cached
	require.Equal(t, int32(10), eng.calls.Load())
	say(t, s, Request{Text: "0"}) // evicted long ago
	require.Equal(t, int32(11), eng.calls.Load())
}

func TestWithoutCacheSynthesisesEachTime(t *testing.T) {
	eng := &fakeEngine{}
	s, err := NewSpeaker(eng, Config{})
	require.NoError(t, err)
	say(t, s, Request{Text: "x"})
	say(t, s, Request{Text: "x"})
	require.Equal(t, int32(2), eng.calls.Load())
}

func TestErrors(t *testing.T) {
	cases := []struct {
		name string
		eng  *fakeEngine
		req  Request
		want error
	}{
		{"empty text", &fakeEngine{}, Request{Text: "  "}, ErrText},
		{"too long", &fakeEngine{}, Request{Text: string(make([]byte, 20000))}, ErrText},
		{"not utf-8", &fakeEngine{}, Request{Text: "\xff\xfe"}, ErrText},
		{"engine unavailable", &fakeEngine{err: ErrUnavailable}, Request{Text: "hi"}, ErrUnavailable},
		{"engine fails", &fakeEngine{err: fmt.Errorf("%w: boom", ErrSynthesis)}, Request{Text: "hi"}, ErrSynthesis},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewSpeaker(tc.eng, Config{CacheDir: t.TempDir()})
			require.NoError(t, err)
			_, err = s.Say(context.Background(), tc.req, player.Options{Loop: 1})
			require.ErrorIs(t, err, tc.want)
			require.Zero(t, s.CacheStats().Entries, "failures are not cached")
		})
	}
}

// TestCachedFirstFrameWithinOneFrameTime measures, for a cached prompt, the
// time from Say to the first frame in hand: it must be under 20 ms (the
// leg sends that frame at its next tick).
func TestCachedFirstFrameWithinOneFrameTime(t *testing.T) {
	eng := &fakeEngine{}
	s, err := NewSpeaker(eng, Config{CacheDir: t.TempDir()})
	require.NoError(t, err)
	req := Request{Text: "Thank you for calling. Please hold."} // 3.5 s
	say(t, s, req)
	frame := media.NewFrame()
	var lat []time.Duration
	for range 50 {
		start := time.Now()
		p, err := s.Say(context.Background(), req, player.Options{Loop: 1})
		require.NoError(t, err)
		require.NoError(t, p.ReadFrame(frame))
		lat = append(lat, time.Since(start))
		require.NoError(t, p.Close())
	}
	slices.Sort(lat)
	t.Logf("cached prompt, Say to first frame: median %v, p95 %v, max %v", lat[25], lat[47], lat[49])
	require.Less(t, lat[47], media.FrameDuration)
	require.Equal(t, int32(1), eng.calls.Load())
}

// TestFollowerRetriesWhenLeaderHangsUp: the call that started a synthesis
// hangs up; the one that waited for it synthesises instead of failing.
func TestFollowerRetriesWhenLeaderHangsUp(t *testing.T) {
	eng := &fakeEngine{gate: make(chan struct{})}
	s, err := NewSpeaker(eng, Config{CacheDir: t.TempDir()})
	require.NoError(t, err)
	req := Request{Text: "shared"}
	leaderCtx, hangup := context.WithCancelCause(context.Background())
	var leaderErr error
	var wg sync.WaitGroup
	wg.Go(func() { _, leaderErr = s.WAV(leaderCtx, req) })
	require.Eventually(t, func() bool { return eng.calls.Load() == 1 }, 5*time.Second, time.Millisecond)
	var b []byte
	var followerErr error
	wg.Go(func() { b, followerErr = s.WAV(context.Background(), req) })
	require.Eventually(t, func() bool { return s.Stats().Shared == 1 }, 5*time.Second, time.Millisecond)
	hangup(errors.New("hangup"))
	require.Eventually(t, func() bool { return eng.calls.Load() == 2 }, 5*time.Second, time.Millisecond)
	close(eng.gate)
	wg.Wait()
	require.Error(t, leaderErr)
	require.NoError(t, followerErr)
	require.NotEmpty(t, b)
}
