package speech

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/voxrun/voxrun/media"
	"github.com/voxrun/voxrun/media/diskcache"
	"github.com/voxrun/voxrun/media/player"
	"github.com/voxrun/voxrun/media/resample"
	"github.com/voxrun/voxrun/media/wav"
)

// Config configures a Speaker.
type Config struct {
	// CacheDir is the prompt cache's directory; empty disables the disk
	// cache (every say synthesises).
	CacheDir string
	// CacheBytes bounds the cache; zero means 256 MiB (about 4.5 hours of
	// 8 kHz speech).
	CacheBytes int64
	// MaxText bounds a request's text in bytes; zero means 16 KiB.
	MaxText int
}

// Stats count what a Speaker did.
type Stats struct {
	// Hits are prompts served from the cache.
	Hits uint64
	// Syntheses are prompts the engine synthesised.
	Syntheses uint64
	// Shared are requests that waited for an identical synthesis in flight.
	Shared uint64
}

// Speaker speaks requests through an Engine, with a disk cache of 8 kHz
// prompts in front of it. It is safe for concurrent use and holds no
// goroutine.
type Speaker struct {
	engine Engine
	cfg    Config
	cache  *diskcache.Cache

	mu       sync.Mutex
	inflight map[string]*flight

	hits, syntheses, shared atomic.Uint64
}

type flight struct {
	done      chan struct{}
	wav       []byte
	err       error
	abandoned bool // the leader's context ended: followers try again
}

// NewSpeaker returns a Speaker over engine.
func NewSpeaker(engine Engine, cfg Config) (*Speaker, error) {
	if cfg.CacheBytes <= 0 {
		cfg.CacheBytes = 256 << 20
	}
	if cfg.MaxText <= 0 {
		cfg.MaxText = 16 << 10
	}
	s := &Speaker{engine: engine, cfg: cfg, inflight: map[string]*flight{}}
	if cfg.CacheDir != "" {
		c, err := diskcache.Open(cfg.CacheDir, cfg.CacheBytes)
		if err != nil {
			return nil, fmt.Errorf("media/speech: cache: %w", err)
		}
		s.cache = c
	}
	return s, nil
}

// Key is the cache key of req for engine: engine, voice, language, text.
func Key(engine string, req Request) string {
	return strings.Join([]string{"tts/v1", engine, req.Voice, req.Language, req.Text}, "\x00")
}

// Say returns a Player of req at 8 kHz: from the cache when this prompt was
// spoken before, else synthesised now (and cached). opts loops and seeks as
// for play. The caller closes the Player.
func (s *Speaker) Say(ctx context.Context, req Request, opts player.Options) (*player.Player, error) {
	if err := s.check(req); err != nil {
		return nil, err
	}
	key := Key(s.engine.Name(), req)
	if s.cache != nil {
		if f, _, ok := s.cache.Get(key); ok {
			p, err := player.OpenReader(f, opts)
			if err == nil {
				s.hits.Add(1)
				return p, nil
			}
			s.cache.Remove(key) // unreadable: synthesise again
		}
	}
	b, err := s.synthesize(ctx, key, req)
	if err != nil {
		return nil, err
	}
	return player.OpenReader(bytes.NewReader(b), opts)
}

// WAV returns req as an 8 kHz mono 16-bit WAV, through the same cache.
func (s *Speaker) WAV(ctx context.Context, req Request) ([]byte, error) {
	if err := s.check(req); err != nil {
		return nil, err
	}
	key := Key(s.engine.Name(), req)
	if s.cache != nil {
		if f, _, ok := s.cache.Get(key); ok {
			b, err := io.ReadAll(f)
			f.Close()
			if err == nil {
				s.hits.Add(1)
				return b, nil
			}
		}
	}
	return s.synthesize(ctx, key, req)
}

// Stats returns the Speaker's counters.
func (s *Speaker) Stats() Stats {
	return Stats{Hits: s.hits.Load(), Syntheses: s.syntheses.Load(), Shared: s.shared.Load()}
}

// CacheStats returns the prompt cache's figures (zero without a cache).
func (s *Speaker) CacheStats() diskcache.Stats {
	if s.cache == nil {
		return diskcache.Stats{}
	}
	return s.cache.Stats()
}

func (s *Speaker) check(req Request) error {
	switch {
	case strings.TrimSpace(req.Text) == "":
		return fmt.Errorf("%w: empty", ErrText)
	case len(req.Text) > s.cfg.MaxText:
		return fmt.Errorf("%w: %d bytes (limit %d)", ErrText, len(req.Text), s.cfg.MaxText)
	case !utf8.ValidString(req.Text):
		return fmt.Errorf("%w: not UTF-8", ErrText)
	}
	return nil
}

// synthesize runs the engine once per key however many ask at once, and
// caches the 8 kHz WAV.
func (s *Speaker) synthesize(ctx context.Context, key string, req Request) ([]byte, error) {
	s.mu.Lock()
	for {
		f, ok := s.inflight[key]
		if !ok {
			break
		}
		s.mu.Unlock()
		s.shared.Add(1)
		select {
		case <-f.done:
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
		if !f.abandoned {
			return f.wav, f.err
		}
		// The call that led hung up mid-synthesis: lead a new one.
		s.mu.Lock()
	}
	f := &flight{done: make(chan struct{})}
	s.inflight[key] = f
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.inflight, key)
		s.mu.Unlock()
		close(f.done)
	}()

	s.syntheses.Add(1)
	a, err := s.engine.Synthesize(ctx, req)
	if err != nil {
		f.err, f.abandoned = err, ctx.Err() != nil
		return nil, err
	}
	f.wav, f.err = encode8k(a)
	if f.err != nil {
		return nil, f.err
	}
	if s.cache != nil {
		// A cache that cannot take it (full disk, too large) costs a
		// synthesis next time, not this say.
		_ = s.cache.Put(key, nil, func(w io.Writer) error {
			_, err := w.Write(f.wav)
			return err
		})
	}
	return f.wav, nil
}

// encode8k resamples a to 8 kHz and writes it as a 16-bit mono WAV.
func encode8k(a Audio) ([]byte, error) {
	if len(a.Samples) == 0 {
		return nil, fmt.Errorf("%w: no audio", ErrSynthesis)
	}
	pcm := a.Samples
	if a.Rate != media.SampleRate {
		r, err := resample.New(a.Rate, media.SampleRate)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrSynthesis, err)
		}
		pcm = r.Flush(r.Append(make([]int16, 0, len(pcm)*media.SampleRate/a.Rate+256), pcm))
		pcm = pcm[:min(len(pcm), len(a.Samples)*media.SampleRate/a.Rate)]
	}
	return wav.EncodeMono(media.SampleRate, pcm), nil
}
