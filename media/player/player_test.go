package player

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/media"
)

const amp = 10000.0

// TestFormats plays a 1 s, 1 kHz tone in every supported layout: one second
// of frames comes out, at the level it went in, with nothing but 1 kHz.
func TestFormats(t *testing.T) {
	cases := []struct {
		name string
		file func(t *testing.T) string
		tol  float64 // dB
	}{
		{"pcm16 8k mono", wavFile(wavFormat{1, 8000, 1}), 0.1},
		{"pcm16 16k mono", wavFile(wavFormat{1, 16000, 1}), 0.3},
		{"pcm16 22.05k stereo", wavFile(wavFormat{1, 22050, 2}), 0.3},
		{"pcm16 44.1k stereo", wavFile(wavFormat{1, 44100, 2}), 0.3},
		{"pcm16 48k mono", wavFile(wavFormat{1, 48000, 1}), 0.3},
		{"pcm16 48k stereo", wavFile(wavFormat{1, 48000, 2}), 0.3},
		{"µ-law 8k", wavFile(wavFormat{7, 8000, 1}), 0.3},
		{"A-law 8k", wavFile(wavFormat{6, 8000, 1}), 0.3},
		{"mp3 44.1k stereo (sox)", func(*testing.T) string { return "testdata/tone_1k_44k1_stereo.mp3" }, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := OpenFile(tc.file(t), Options{Loop: 1})
			require.NoError(t, err)
			defer p.Close()
			out, frames := drain(t, p, 1000)
			// 1 s is 50 frames; an MP3 carries encoder padding.
			require.InDelta(t, 50, frames, 3)
			mid := middle(out)
			want := amp / math.Sqrt2
			if tc.name == "mp3 44.1k stereo (sox)" {
				want = 0.5 * 32767 / math.Sqrt2 // sox's vol 0.5
			}
			require.InDelta(t, 0, dB(goertzel(mid, 1000)/want), tc.tol, "level of the tone")
			require.InDelta(t, 0, dB(rms(mid)/goertzel(mid, 1000)), 0.1, "nothing but the tone")
			pr, err := p.Wait(context.Background())
			require.NoError(t, err)
			require.True(t, pr.Completed)
			require.Equal(t, 1, pr.Passes)
		})
	}
}

func wavFile(f wavFormat) func(t *testing.T) string {
	return func(t *testing.T) string {
		return writeFile(t, "tone.wav", makeWAV(f, synth(f.rate, amp, seg{1000, 1})))
	}
}

// TestFrequencyResponse measures, with Goertzel on the 8 kHz output, what
// the player's resampling does to tones: the voice band passes within
// ±1 dB; a tone above 4 kHz, which naive decimation would fold into the
// voice band, is at least 40 dB down (measured at its alias and overall).
func TestFrequencyResponse(t *testing.T) {
	cases := []struct {
		rate  int
		freq  float64
		alias float64 // where it would land at 8 kHz; 0 for a passing tone
	}{
		{48000, 300, 0}, {48000, 1000, 0}, {48000, 3000, 0}, {48000, 3300, 0}, {48000, 3400, 0},
		{48000, 6000, 2000}, {48000, 4600, 3400}, {48000, 11000, 3000},
		{44100, 1000, 0}, {44100, 3300, 0}, {44100, 3400, 0}, {44100, 6000, 2000},
		{22050, 1000, 0}, {22050, 3300, 0}, {22050, 7000, 1000},
		{16000, 1000, 0}, {16000, 3300, 0}, {16000, 5000, 3000},
	}
	for _, tc := range cases {
		name := time.Duration(tc.rate).String() + "/" + time.Duration(tc.freq).String()
		t.Run(name, func(t *testing.T) {
			wav := makeWAV(wavFormat{1, tc.rate, 1}, synth(tc.rate, amp, seg{tc.freq, 1}))
			p, err := OpenReader(bytes.NewReader(wav), Options{Loop: 1})
			require.NoError(t, err)
			out, _ := drain(t, p, 100)
			mid := middle(out)
			in := amp / math.Sqrt2
			if tc.alias == 0 {
				g := dB(goertzel(mid, tc.freq) / in)
				t.Logf("%d Hz at %d Hz: %+.2f dB", int(tc.freq), tc.rate, g)
				require.InDelta(t, 0, g, 1)
				return
			}
			atAlias := dB(goertzel(mid, tc.alias) / in)
			overall := dB(rms(mid) / in)
			t.Logf("%d Hz at %d Hz: %.1f dB at its alias %d Hz, %.1f dB overall", int(tc.freq), tc.rate, atAlias, int(tc.alias), overall)
			require.Less(t, atAlias, -40.0)
			require.Less(t, overall, -40.0)
		})
	}
}

func TestLoopAndProgress(t *testing.T) {
	half := makeWAV(wavFormat{1, 16000, 1}, synth(16000, amp, seg{1000, 0.5})) // 25 frames
	cases := []struct {
		name   string
		opts   Options
		frames int
		passes int
		offset int64
	}{
		{"once", Options{Loop: 1}, 25, 1, 4000},
		{"three times", Options{Loop: 3}, 75, 3, 4000},
		{"seek 0.25 s", Options{Loop: 1, SeekOffset: 2000}, 13, 1, 4000},
		{"seek then loop: later passes are whole", Options{Loop: 2, SeekOffset: 2000}, 38, 2, 4000},
		{"seek past the end", Options{Loop: 1, SeekOffset: 80000}, 0, 1, 80000},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := OpenReader(bytes.NewReader(half), tc.opts)
			require.NoError(t, err)
			_, frames := drain(t, p, 1000)
			require.Equal(t, tc.frames, frames)
			pr, err := p.Wait(context.Background())
			require.NoError(t, err)
			played := time.Duration(0)
			if tc.frames > 0 {
				played = time.Duration(tc.frames-1)*media.FrameDuration + p.lastFrameLen()
			}
			require.Equal(t, Progress{
				Played:     played,
				LastOffset: tc.offset,
				Passes:     tc.passes,
				Completed:  true,
			}, pr)
			require.NoError(t, p.Close())
		})
	}
}

// lastFrameLen is how much of the last frame was audio (test hook).
func (p *Player) lastFrameLen() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	full := (p.played / media.FrameSamples) * media.FrameSamples
	if full == p.played && p.played > 0 {
		full -= media.FrameSamples
	}
	return time.Duration(p.played-full) * time.Second / media.SampleRate
}

func TestLoopForeverUntilStopped(t *testing.T) {
	wav := makeWAV(wavFormat{1, 8000, 1}, synth(8000, amp, seg{1000, 0.1})) // 5 frames
	p, err := OpenReader(bytes.NewReader(wav), Options{Loop: 0})
	require.NoError(t, err)
	_, frames := drain(t, p, 500)
	require.Equal(t, 500, frames, "loop 0 never ends by itself")
	// The 100th pass ends when the 501st frame is asked for.
	require.Equal(t, 99, p.Progress().Passes)
	p.Stop()
	p.Stop() // idempotent
	require.ErrorIs(t, p.ReadFrame(media.NewFrame()), io.EOF)
	pr, err := p.Wait(context.Background())
	require.ErrorIs(t, err, ErrStopped)
	require.False(t, pr.Completed)
	require.Equal(t, 10*time.Second, pr.Played)
	require.NoError(t, p.Close())
	require.NoError(t, p.Close())
}

// TestSeekLandsOnTheRightAudio: the file is 0.5 s of 1 kHz then 0.5 s of
// 2 kHz; seeking 0.5 s in plays only 2 kHz.
func TestSeekLandsOnTheRightAudio(t *testing.T) {
	cases := []struct {
		name string
		path func(t *testing.T) string
		tol  int
	}{
		{"wav 44.1k stereo", func(t *testing.T) string {
			return writeFile(t, "halves.wav", makeWAV(wavFormat{1, 44100, 2}, synth(44100, amp, seg{1000, 0.5}, seg{2000, 0.5})))
		}, 0},
		// sox's MP3 carries ~70 ms of encoder delay and padding.
		{"mp3 22.05k mono (sox)", func(*testing.T) string { return "testdata/halves_22k05_mono.mp3" }, 5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := OpenFile(tc.path(t), Options{Loop: 1, SeekOffset: 4000})
			require.NoError(t, err)
			defer p.Close()
			out, frames := drain(t, p, 1000)
			require.InDelta(t, 25, frames, float64(tc.tol))
			mid := out[800 : len(out)-800]
			require.Greater(t, dB(goertzel(mid, 2000)/goertzel(mid, 1000)), 30.0)
		})
	}
}

func TestWaitStopsOnContext(t *testing.T) {
	hangup := errors.New("hangup")
	p, err := Open(t, "silence_stream://10000")
	require.NoError(t, err)
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(hangup)
	pr, err := p.Wait(ctx)
	require.ErrorIs(t, err, hangup)
	require.False(t, pr.Completed)
	select {
	case <-p.Done():
	default:
		t.Fatal("done not closed")
	}
	require.ErrorIs(t, p.ReadFrame(media.NewFrame()), io.EOF)
}

// Open opens ref with a Loader that has no HTTP client.
func Open(t *testing.T, ref string) (*Player, error) {
	l, err := NewLoader(Config{})
	require.NoError(t, err)
	return l.Open(context.Background(), ref, Options{Loop: 1})
}

func TestSilenceStream(t *testing.T) {
	cases := []struct {
		ref    string
		frames int
		err    error
	}{
		{"silence_stream://500", 25, nil},
		{"silence_stream://30", 2, nil},
		{"silence_stream://0", 0, nil},
		{"silence_stream://", 0, ErrReference},
		{"silence_stream://-5", 0, ErrReference},
		{"silence_stream://abc", 0, ErrReference},
		{"silence_stream://999999999999", 0, ErrReference},
		{"file:///etc/passwd", 0, ErrReference},
		{"/etc/passwd", 0, ErrReference},
		{"ftp://example.com/a.wav", 0, ErrReference},
		{"https://example.com/a.wav", 0, ErrReference}, // no client
	}
	for _, tc := range cases {
		t.Run(tc.ref, func(t *testing.T) {
			p, err := Open(t, tc.ref)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			out, frames := drain(t, p, 1000)
			require.Equal(t, tc.frames, frames)
			require.Zero(t, rms(out))
			pr := p.Progress()
			require.True(t, pr.Completed)
			require.NoError(t, p.Close())
		})
	}
}

func TestFileErrors(t *testing.T) {
	cases := []struct {
		name string
		path func(t *testing.T) string
		err  error
	}{
		{"missing", func(t *testing.T) string { return t.TempDir() + "/nope.wav" }, ErrNotFound},
		{"html", func(t *testing.T) string { return writeFile(t, "x.wav", []byte("<html>oops</html>")) }, ErrNotAudio},
		{"empty", func(t *testing.T) string { return writeFile(t, "x.wav", nil) }, ErrNotAudio},
		{"riff but broken", func(t *testing.T) string { return writeFile(t, "x.wav", []byte("RIFF\x00\x00\x00\x00WAVEfmt ")) }, ErrNotAudio},
		{"mp3 sync then junk", func(t *testing.T) string {
			return writeFile(t, "x.mp3", append([]byte{0xFF, 0xFB, 0x90, 0x00}, bytes.Repeat([]byte{0x55}, 100)...))
		}, ErrNotAudio},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := OpenFile(tc.path(t), Options{Loop: 1})
			require.ErrorIs(t, err, tc.err)
		})
	}
}

// TestReadFrameDoesNotAllocate checks the steady state of the frame path.
func TestReadFrameDoesNotAllocate(t *testing.T) {
	cases := []struct {
		name string
		open func() (*Player, error)
	}{
		{"wav 8k", func() (*Player, error) {
			return OpenReader(bytes.NewReader(makeWAV(wavFormat{1, 8000, 1}, synth(8000, amp, seg{1000, 1}))), Options{})
		}},
		{"wav 44.1k stereo", func() (*Player, error) {
			return OpenReader(bytes.NewReader(makeWAV(wavFormat{1, 44100, 2}, synth(44100, amp, seg{1000, 1}))), Options{})
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := tc.open()
			require.NoError(t, err)
			defer p.Close()
			frame := media.NewFrame()
			for range 10 {
				require.NoError(t, p.ReadFrame(frame))
			}
			allocs := testing.AllocsPerRun(20, func() { _ = p.ReadFrame(frame) })
			require.Zero(t, allocs)
		})
	}
}

// BenchmarkReadFrame is the cost of one 20 ms frame while decoding and
// resampling (a first pass; loops replay from memory, see
// TestLoopsReplayTheFirstPass).
func BenchmarkReadFrame(b *testing.B) {
	mp3, err := os.ReadFile("testdata/tone_1k_44k1_stereo.mp3")
	require.NoError(b, err)
	cases := []struct {
		name string
		data []byte
	}{
		{"wav-8k-mono", makeWAV(wavFormat{1, 8000, 1}, synth(8000, amp, seg{1000, 10}))},
		{"wav-16k-mono", makeWAV(wavFormat{1, 16000, 1}, synth(16000, amp, seg{1000, 10}))},
		{"wav-22k05-mono", makeWAV(wavFormat{1, 22050, 1}, synth(22050, amp, seg{1000, 10}))},
		{"wav-44k1-stereo", makeWAV(wavFormat{1, 44100, 2}, synth(44100, amp, seg{1000, 10}))},
		{"wav-48k-mono", makeWAV(wavFormat{1, 48000, 1}, synth(48000, amp, seg{1000, 10}))},
		{"mp3-44k1-stereo", mp3},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			open := func() *Player {
				p, err := OpenReader(bytes.NewReader(tc.data), Options{Loop: 1})
				require.NoError(b, err)
				return p
			}
			p := open()
			frame := media.NewFrame()
			b.ReportAllocs()
			for b.Loop() {
				if p.ReadFrame(frame) != nil {
					p.Close()
					p = open() // counted, but once per 10 s (1 s for the MP3)
				}
			}
			p.Close()
		})
	}
}

func TestLoopsReplayTheFirstPass(t *testing.T) {
	cases := []struct {
		name string
		data func(t *testing.T) []byte
	}{
		{"wav 44.1k stereo", func(*testing.T) []byte {
			return makeWAV(wavFormat{1, 44100, 2}, synth(44100, amp, seg{1000, 0.3}, seg{2000, 0.2}))
		}},
		{"mp3", func(t *testing.T) []byte {
			b, err := os.ReadFile("testdata/halves_22k05_mono.mp3")
			require.NoError(t, err)
			return b
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := OpenReader(bytes.NewReader(tc.data(t)), Options{Loop: 3})
			require.NoError(t, err)
			defer p.Close()
			out, frames := drain(t, p, 10000)
			require.Zero(t, frames%3)
			third := len(out) / 3
			require.Equal(t, out[:third], out[third:2*third])
			require.Equal(t, out[:third], out[2*third:])
			_, replay := p.dec.(*pcmDecoder)
			require.True(t, replay, "passes 2 and 3 came from memory")
		})
	}
}
