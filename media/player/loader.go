package player

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/voxrun/voxrun/media"
	"github.com/voxrun/voxrun/media/diskcache"
	"github.com/voxrun/voxrun/media/wav"
)

// Defaults of Config.
const (
	DefaultMaxBytes       = 32 << 20
	DefaultCacheBytes     = 512 << 20
	DefaultConnectTimeout = 5 * time.Second
	DefaultTimeout        = 30 * time.Second
	// MaxSilence bounds silence_stream://<ms> (an hour).
	MaxSilence = time.Hour
)

// SilenceScheme is the prefix of a silence reference: silence_stream://500
// is half a second of silence.
const SilenceScheme = "silence_stream://"

// Config configures a Loader. The zero value (plus a Client) works: no disk
// cache, default limits.
type Config struct {
	// Client fetches http(s) URLs. cmd passes the guarded tenant client
	// (its dialer refuses loopback, private and metadata addresses); nil
	// refuses every URL with ErrReference.
	Client *http.Client
	// CacheDir is the directory of the URL cache; empty disables it (each
	// open fetches the body into memory).
	CacheDir string
	// CacheBytes bounds the cache's size; least recently used audio goes
	// first. Zero means DefaultCacheBytes; it is raised to twice MaxBytes
	// if below (a body and its 8 kHz copy must fit).
	CacheBytes int64
	// MaxBytes caps one body. Zero means DefaultMaxBytes.
	MaxBytes int64
	// ConnectTimeout bounds getting a connection (dial and TLS). Zero
	// means DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// Timeout bounds a whole fetch, body included. Zero means
	// DefaultTimeout.
	Timeout time.Duration
}

// Loader opens the audio references of play and say. It is safe for
// concurrent use and holds no goroutine.
type Loader struct {
	cfg   Config
	cache *diskcache.Cache // nil without CacheDir

	mu       sync.Mutex
	inflight map[string]*fetchFlight // by URL: one fetch however many calls ask
}

// fetchFlight is a fetch that other opens of the same URL wait for.
type fetchFlight struct {
	done      chan struct{}
	mem       []byte // the body, when it is not in the cache
	meta      entryMeta
	onDisk    bool
	err       error
	abandoned bool // the leader's context ended: waiters fetch again
	waiters   int  // opens waiting for it (a figure for tests)
}

// NewLoader returns a Loader for cfg.
func NewLoader(cfg Config) (*Loader, error) {
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	if cfg.CacheBytes <= 0 {
		cfg.CacheBytes = DefaultCacheBytes
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.CacheDir != "" {
		// A body the cache could not hold must not fail a play it allows.
		cfg.CacheBytes = max(cfg.CacheBytes, 2*cfg.MaxBytes)
	}
	l := &Loader{cfg: cfg, inflight: map[string]*fetchFlight{}}
	if cfg.CacheDir != "" {
		c, err := diskcache.Open(cfg.CacheDir, cfg.CacheBytes)
		if err != nil {
			return nil, fmt.Errorf("media/player: cache: %w", err)
		}
		l.cache = c
	}
	return l, nil
}

// CacheStats returns the URL cache's figures (zero without a cache).
func (l *Loader) CacheStats() diskcache.Stats {
	if l.cache == nil {
		return diskcache.Stats{}
	}
	return l.cache.Stats()
}

// Open opens a tenant's audio reference: an http(s) URL or
// silence_stream://<ms>. It fetches (or revalidates) the audio before it
// returns, so the first ReadFrame has audio ready. It never opens a local
// file. The caller closes the Player.
func (l *Loader) Open(ctx context.Context, ref string, opts Options) (*Player, error) {
	name := redact(ref)
	if rest, ok := strings.CutPrefix(ref, SilenceScheme); ok {
		ms, err := strconv.ParseInt(rest, 10, 64)
		if err != nil || ms < 0 || ms > MaxSilence.Milliseconds() {
			return nil, fmt.Errorf("%w: %q", ErrReference, name)
		}
		return newSilencePlayer(ms, opts), nil
	}
	u, err := url.Parse(ref)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: %q", ErrReference, name)
	}
	if l.cfg.Client == nil {
		return nil, fmt.Errorf("%w: no http client for %q", ErrReference, name)
	}
	body, meta, onDisk, err := l.fetchShared(ctx, ref)
	if err != nil {
		return nil, err
	}
	var onCapture func([]int16)
	if onDisk && (meta.ETag != "" || meta.LastModified != "") {
		// The transcoded copy (8 kHz mono WAV) of this very version, if a
		// previous play captured one: no decoding, no resampling.
		key := transcodedKey(ref)
		if f, m, ok := l.cache.Get(key); ok {
			var tm entryMeta
			if json.Unmarshal(m, &tm) == nil && tm == meta {
				body.Close()
				return OpenReader(f, opts)
			}
			f.Close()
		}
		onCapture = func(pcm []int16) { l.storeTranscoded(key, meta, pcm) }
	}
	return newStreamPlayer(body, body, opts, onCapture)
}

// OpenFile plays a local file that voxrun trusts (never a tenant's string).
// A missing file is ErrNotFound.
func OpenFile(path string, opts Options) (*Player, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, path)
	}
	if err != nil {
		return nil, fmt.Errorf("media/player: %w", err)
	}
	return newStreamPlayer(f, f, opts, nil)
}

// OpenReader plays audio the caller holds (a synthesised prompt, a cache
// entry, a test file). When rs is also an io.Closer (an *os.File), the
// Player's Close closes it, and so does a failed OpenReader.
func OpenReader(rs io.ReadSeeker, opts Options) (*Player, error) {
	c, _ := rs.(io.Closer)
	return newStreamPlayer(rs, c, opts, nil)
}

// entryMeta is what the cache keeps beside a body.
type entryMeta struct {
	URL          string `json:"url"`
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
}

// body is fetched audio: a cache entry or bytes in memory.
type body interface {
	io.ReadSeeker
	io.Closer
}

type memBody struct {
	*bytes.Reader
	data []byte
}

func newMemBody(b []byte) memBody { return memBody{bytes.NewReader(b), b} }

func (memBody) Close() error { return nil }

// fetchShared is fetch, once per URL at a time: a campaign that starts a
// hundred calls on one prompt downloads it once. Waiters open the cache
// entry the leader stored (or share its bytes).
func (l *Loader) fetchShared(ctx context.Context, ref string) (body, entryMeta, bool, error) {
	l.mu.Lock()
	for {
		f, ok := l.inflight[ref]
		if !ok {
			break
		}
		f.waiters++
		l.mu.Unlock()
		select {
		case <-f.done:
		case <-ctx.Done():
			return nil, entryMeta{}, false, context.Cause(ctx)
		}
		switch {
		case f.abandoned:
		case f.err != nil:
			return nil, entryMeta{}, false, f.err
		case !f.onDisk:
			return newMemBody(f.mem), f.meta, false, nil
		default:
			if file, _, ok := l.cache.Get(ref); ok {
				return file, f.meta, true, nil
			}
			// Evicted already (a tiny cache): fetch it ourselves.
		}
		l.mu.Lock()
	}
	f := &fetchFlight{done: make(chan struct{})}
	l.inflight[ref] = f
	l.mu.Unlock()

	b, meta, onDisk, err := l.fetch(ctx, ref)
	f.meta, f.onDisk, f.err = meta, onDisk, err
	f.abandoned = err != nil && ctx.Err() != nil
	if mb, ok := b.(memBody); ok {
		f.mem = mb.data
	}
	l.mu.Lock()
	delete(l.inflight, ref)
	l.mu.Unlock()
	close(f.done)
	return b, meta, onDisk, err
}

// fetch returns the body of ref, from the cache when the server says it has
// not changed.
//
// It returns the body, the validators of the version it is, and whether it
// is a cache entry.
func (l *Loader) fetch(ctx context.Context, ref string) (body, entryMeta, bool, error) {
	name := redact(ref) // what errors and the cache's metadata show
	var cached *os.File
	var meta entryMeta
	if l.cache != nil {
		if f, m, ok := l.cache.Get(ref); ok {
			if json.Unmarshal(m, &meta) == nil && meta.URL == name {
				cached = f
			} else {
				f.Close()
			}
		}
	}
	closeCached := func() {
		if cached != nil {
			cached.Close()
		}
	}

	parent := ctx
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	ctx, cancelTotal := context.WithTimeoutCause(ctx, l.cfg.Timeout, ErrTimeout)
	defer cancelTotal()
	connect := time.AfterFunc(l.cfg.ConnectTimeout, func() { cancel(ErrConnectTimeout) })
	defer connect.Stop()
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GotConn: func(httptrace.GotConnInfo) { connect.Stop() },
	})

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ref, nil)
	if err != nil {
		closeCached()
		return nil, entryMeta{}, false, fmt.Errorf("%w: %q: %w", ErrReference, name, err)
	}
	req.Header.Set("Accept", "audio/wav, audio/x-wav, audio/mpeg, audio/*;q=0.9, */*;q=0.1")
	if cached != nil {
		if meta.ETag != "" {
			req.Header.Set("If-None-Match", meta.ETag)
		}
		if meta.LastModified != "" {
			req.Header.Set("If-Modified-Since", meta.LastModified)
		}
	}
	resp, err := l.cfg.Client.Do(req)
	if err != nil {
		if cause := context.Cause(ctx); cause != nil {
			err = cause
		}
		if cached != nil && parent.Err() == nil {
			// The server is unreachable: the copy we have beats silence.
			return cached, meta, true, nil
		}
		closeCached()
		return nil, entryMeta{}, false, fmt.Errorf("%w: GET %s: %w", ErrFetch, name, err)
	}
	defer resp.Body.Close()

	switch {
	case resp.StatusCode == http.StatusNotModified && cached != nil:
		fresh := validators(ref, resp.Header, meta)
		if b, err := json.Marshal(fresh); err == nil {
			_ = l.cache.Touch(ref, b)
		}
		return cached, fresh, true, nil
	case resp.StatusCode != http.StatusOK:
		closeCached()
		if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone {
			if l.cache != nil {
				l.cache.Remove(ref)
				l.cache.Remove(transcodedKey(ref))
			}
		}
		return nil, entryMeta{}, false, &HTTPError{URL: name, Status: resp.StatusCode}
	}
	closeCached()
	if resp.ContentLength > l.cfg.MaxBytes {
		return nil, entryMeta{}, false, fmt.Errorf("%w: %s is %d bytes (cap %d)", ErrTooLarge, name, resp.ContentLength, l.cfg.MaxBytes)
	}
	br := bufio.NewReaderSize(resp.Body, 4096)
	head, _ := br.Peek(12)
	if _, ok := sniff(head); !ok {
		if err := context.Cause(ctx); err != nil {
			return nil, entryMeta{}, false, fmt.Errorf("%w: GET %s: %w", ErrFetch, name, err)
		}
		return nil, entryMeta{}, false, fmt.Errorf("%w: %s (%s) starts with %q", ErrNotAudio, name, resp.Header.Get("Content-Type"), head)
	}
	limited := &capReader{r: br, left: l.cfg.MaxBytes}
	readErr := func(err error) error {
		if errors.Is(err, ErrTooLarge) {
			return fmt.Errorf("%w: %s over %d bytes", ErrTooLarge, name, l.cfg.MaxBytes)
		}
		if cause := context.Cause(ctx); cause != nil {
			err = cause
		}
		return fmt.Errorf("%w: GET %s: body: %w", ErrFetch, name, err)
	}

	if l.cache == nil || noStore(resp.Header) {
		b, err := io.ReadAll(limited)
		if err != nil {
			return nil, entryMeta{}, false, readErr(err)
		}
		return newMemBody(b), entryMeta{}, false, nil
	}
	stored := validators(ref, resp.Header, entryMeta{})
	m, _ := json.Marshal(stored)
	err = l.cache.Put(ref, m, func(w io.Writer) error {
		_, err := io.Copy(w, limited)
		return err
	})
	if err != nil {
		if errors.Is(err, diskcache.ErrTooLarge) {
			err = ErrTooLarge
		}
		return nil, entryMeta{}, false, readErr(err)
	}
	f, _, ok := l.cache.Get(ref)
	if !ok {
		return nil, entryMeta{}, false, fmt.Errorf("%w: %s vanished from the cache", ErrFetch, name)
	}
	return f, stored, true, nil
}

// validators keeps the response's ETag and Last-Modified (a 304 may repeat
// or update them).
func validators(ref string, h http.Header, old entryMeta) entryMeta {
	m := entryMeta{URL: redact(ref), ETag: old.ETag, LastModified: old.LastModified}
	if v := h.Get("ETag"); v != "" {
		m.ETag = v
	}
	if v := h.Get("Last-Modified"); v != "" {
		m.LastModified = v
	}
	return m
}

func noStore(h http.Header) bool {
	return strings.Contains(strings.ToLower(h.Get("Cache-Control")), "no-store")
}

// capReader fails with ErrTooLarge past its limit.
type capReader struct {
	r    io.Reader
	left int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		var one [1]byte
		if n, _ := c.r.Read(one[:]); n > 0 {
			return 0, ErrTooLarge
		}
		return 0, io.EOF
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

// transcodedKey names the 8 kHz copy of a URL's audio in the cache.
func transcodedKey(ref string) string { return "pcm8k\x00" + ref }

// storeTranscoded keeps pcm (8 kHz mono) as a WAV, tagged with the
// validators of the version it came from. A failure costs a decode next
// time, nothing else.
func (l *Loader) storeTranscoded(key string, meta entryMeta, pcm []int16) {
	m, err := json.Marshal(meta)
	if err != nil {
		return
	}
	_ = l.cache.Put(key, m, func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 32<<10)
		if _, err := bw.Write(wav.Header(media.SampleRate, 1, 2*len(pcm))); err != nil {
			return err
		}
		var b [2]byte
		for _, s := range pcm {
			binary.LittleEndian.PutUint16(b[:], uint16(s))
			if _, err := bw.Write(b[:]); err != nil {
				return err
			}
		}
		return bw.Flush()
	})
}

// redact hides a password in a URL (https://user:xxxxx@host/...), so that
// neither errors (which become alerts) nor the cache's files carry it.
func redact(ref string) string {
	u, err := url.Parse(ref)
	if err != nil {
		return ref
	}
	return u.Redacted()
}
