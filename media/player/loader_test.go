package player

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// audioServer serves a WAV at /a.wav whose bytes the test can change; it
// honours If-None-Match and counts full bodies sent.
type audioServer struct {
	*httptest.Server
	mu        sync.Mutex
	body      []byte
	etag      string
	lastMod   string
	bodies    atomic.Int32
	requests  atomic.Int32
	condHdrs  []string
	extraPath map[string]http.HandlerFunc
}

func newAudioServer(t *testing.T, body []byte) *audioServer {
	s := &audioServer{body: body, etag: `"v1"`, extraPath: map[string]http.HandlerFunc{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		if h, ok := s.extraPath[r.URL.Path]; ok {
			h(w, r)
			return
		}
		if r.URL.Path != "/a.wav" {
			http.NotFound(w, r)
			return
		}
		s.mu.Lock()
		body, etag, lastMod := s.body, s.etag, s.lastMod
		s.condHdrs = append(s.condHdrs, r.Header.Get("If-None-Match")+"|"+r.Header.Get("If-Modified-Since"))
		s.mu.Unlock()
		if etag != "" {
			w.Header().Set("ETag", etag)
		}
		if lastMod != "" {
			w.Header().Set("Last-Modified", lastMod)
		}
		if (etag != "" && r.Header.Get("If-None-Match") == etag) ||
			(etag == "" && lastMod != "" && r.Header.Get("If-Modified-Since") == lastMod) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		s.bodies.Add(1)
		w.Header().Set("Content-Type", "audio/wav")
		_, _ = w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *audioServer) set(body []byte, etag, lastMod string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.body, s.etag, s.lastMod = body, etag, lastMod
}

func toneWAV(freq float64, seconds float64) []byte {
	return makeWAV(wavFormat{1, 8000, 1}, synth(8000, amp, seg{freq, seconds}))
}

// play opens ref and returns its frames' count and the tone measured.
func play(t *testing.T, l *Loader, ref string) (frames int, hz1k, hz2k float64) {
	t.Helper()
	p, err := l.Open(context.Background(), ref, Options{Loop: 1})
	require.NoError(t, err)
	defer func() { require.NoError(t, p.Close()) }()
	out, n := drain(t, p, 10000)
	return n, goertzel(out, 1000), goertzel(out, 2000)
}

func TestCacheRevalidates(t *testing.T) {
	cases := []struct {
		name    string
		etag    string
		lastMod string
		cond    string // the conditional headers of the second request
	}{
		{"etag", `"v1"`, "", `"v1"|`},
		{"last-modified", "", "Tue, 24 Nov 2026 08:00:00 GMT", "|Tue, 24 Nov 2026 08:00:00 GMT"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newAudioServer(t, toneWAV(1000, 0.2))
			srv.set(toneWAV(1000, 0.2), tc.etag, tc.lastMod)
			l, err := NewLoader(Config{Client: srv.Client(), CacheDir: t.TempDir()})
			require.NoError(t, err)
			ref := srv.URL + "/a.wav"

			frames, a, b := play(t, l, ref)
			require.Equal(t, 10, frames)
			require.Greater(t, a, b)
			frames, _, _ = play(t, l, ref)
			require.Equal(t, 10, frames)
			require.Equal(t, int32(1), srv.bodies.Load(), "the second play revalidated, 304, no body")
			require.Equal(t, int32(2), srv.requests.Load())
			require.Equal(t, tc.cond, srv.condHdrs[1])

			// The file changes: the next play fetches and plays the new one.
			srv.set(toneWAV(2000, 0.4), tc.etag+"2", "Tue, 24 Nov 2026 09:00:00 GMT")
			frames, a, b = play(t, l, ref)
			require.Equal(t, 20, frames)
			require.Greater(t, b, a)
			require.Equal(t, int32(2), srv.bodies.Load())
			require.Equal(t, 1, l.CacheStats().Entries)
		})
	}
}

func TestCacheServesStaleWhenServerIsDown(t *testing.T) {
	srv := newAudioServer(t, toneWAV(1000, 0.2))
	l, err := NewLoader(Config{Client: srv.Client(), CacheDir: t.TempDir(), ConnectTimeout: time.Second})
	require.NoError(t, err)
	ref := srv.URL + "/a.wav"
	frames, _, _ := play(t, l, ref)
	require.Equal(t, 10, frames)
	srv.Close()
	frames, _, _ = play(t, l, ref)
	require.Equal(t, 10, frames, "the cached copy plays")
	// Without a cache, the same outage is an error.
	l2, err := NewLoader(Config{Client: srv.Client()})
	require.NoError(t, err)
	_, err = l2.Open(context.Background(), ref, Options{Loop: 1})
	require.ErrorIs(t, err, ErrFetch)
}

func TestCacheSizeBound(t *testing.T) {
	srv := newAudioServer(t, nil)
	for i := range 6 {
		body := toneWAV(1000, 0.5) // ~8 KB each
		srv.extraPath["/"+strconv.Itoa(i)+".wav"] = func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(body) }
	}
	l, err := NewLoader(Config{Client: srv.Client(), CacheDir: t.TempDir(), CacheBytes: 20000, MaxBytes: 10000})
	require.NoError(t, err)
	for i := range 6 {
		frames, _, _ := play(t, l, fmt.Sprintf("%s/%d.wav", srv.URL, i))
		require.Equal(t, 25, frames)
		require.LessOrEqual(t, l.CacheStats().Bytes, int64(20000))
	}
	require.Equal(t, 2, l.CacheStats().Entries)
}

func TestFetchErrors(t *testing.T) {
	big := toneWAV(1000, 2) // 32 KB
	srv := newAudioServer(t, nil)
	srv.extraPath["/gone.wav"] = func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusGone) }
	srv.extraPath["/500.wav"] = func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) }
	srv.extraPath["/page.wav"] = func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<!doctype html><p>not found</p>"))
	}
	srv.extraPath["/big.wav"] = func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(big) }
	srv.extraPath["/big-chunked.wav"] = func(w http.ResponseWriter, _ *http.Request) {
		w.(http.Flusher).Flush() // no Content-Length
		_, _ = w.Write(big)
	}
	srv.extraPath["/slow.wav"] = func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(big[:100])
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}
	cases := []struct {
		name   string
		path   string
		cfg    Config
		is     []error
		status int
	}{
		{"404", "/missing.wav", Config{}, []error{ErrNotFound, ErrFetch}, 404},
		{"410", "/gone.wav", Config{}, []error{ErrNotFound, ErrFetch}, 410},
		{"500", "/500.wav", Config{}, []error{ErrFetch}, 500},
		{"html page", "/page.wav", Config{}, []error{ErrNotAudio}, 0},
		{"over the cap", "/big.wav", Config{MaxBytes: 10000}, []error{ErrTooLarge}, 0},
		{"over the cap, chunked", "/big-chunked.wav", Config{MaxBytes: 10000}, []error{ErrTooLarge}, 0},
		{"over the cap, cached", "/big-chunked.wav", Config{MaxBytes: 10000, CacheDir: "tmp"}, []error{ErrTooLarge}, 0},
		{"total timeout", "/slow.wav", Config{Timeout: 200 * time.Millisecond}, []error{ErrFetch, ErrTimeout}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Client = srv.Client()
			if cfg.CacheDir != "" {
				cfg.CacheDir = t.TempDir()
			}
			l, err := NewLoader(cfg)
			require.NoError(t, err)
			_, err = l.Open(context.Background(), srv.URL+tc.path, Options{Loop: 1})
			for _, want := range tc.is {
				require.ErrorIs(t, err, want)
			}
			var he *HTTPError
			require.Equal(t, tc.status != 0, errors.As(err, &he))
			if tc.status != 0 {
				require.Equal(t, tc.status, he.Status)
			}
			if cfg.CacheDir != "" {
				require.Zero(t, l.CacheStats().Entries)
			}
		})
	}
}

// TestConnectTimeout uses a client whose dialer never connects (a stand-in
// for a black-holed address), to prove the Loader bounds connecting with
// any client it is given.
func TestConnectTimeout(t *testing.T) {
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}}
	defer tr.CloseIdleConnections()
	l, err := NewLoader(Config{Client: &http.Client{Transport: tr}, ConnectTimeout: 100 * time.Millisecond})
	require.NoError(t, err)
	start := time.Now()
	_, err = l.Open(context.Background(), "http://192.0.2.1/a.wav", Options{Loop: 1})
	require.ErrorIs(t, err, ErrFetch)
	require.ErrorIs(t, err, ErrConnectTimeout)
	require.Less(t, time.Since(start), 2*time.Second)
}

func TestCallerCancelIsNotServedStale(t *testing.T) {
	srv := newAudioServer(t, toneWAV(1000, 0.2))
	l, err := NewLoader(Config{Client: srv.Client(), CacheDir: t.TempDir()})
	require.NoError(t, err)
	play(t, l, srv.URL+"/a.wav")
	hangup := errors.New("hangup")
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(hangup)
	_, err = l.Open(ctx, srv.URL+"/a.wav", Options{Loop: 1})
	require.ErrorIs(t, err, hangup)
}

// TestTranscodedCopy: the first whole play of an MP3 URL leaves an 8 kHz
// copy in the cache; the next play of the same version (304) plays it with
// no decoding and sounds identical; a new version is decoded again.
func TestTranscodedCopy(t *testing.T) {
	mp3a, err := os.ReadFile("testdata/tone_1k_44k1_stereo.mp3")
	require.NoError(t, err)
	mp3b, err := os.ReadFile("testdata/halves_22k05_mono.mp3")
	require.NoError(t, err)
	srv := newAudioServer(t, mp3a)
	l, err := NewLoader(Config{Client: srv.Client(), CacheDir: t.TempDir()})
	require.NoError(t, err)
	ref := srv.URL + "/a.wav"

	playAll := func(stopAfter int) ([]int16, string) {
		p, err := l.Open(context.Background(), ref, Options{Loop: 1})
		require.NoError(t, err)
		kind := fmt.Sprintf("%T", p.dec)
		out, _ := drain(t, p, stopAfter)
		require.NoError(t, p.Close())
		return out, kind
	}

	_, kind := playAll(10) // stopped early: nothing captured
	require.Equal(t, "*player.mp3Decoder", kind)
	require.Equal(t, 1, l.CacheStats().Entries)

	first, kind := playAll(1000)
	require.Equal(t, "*player.mp3Decoder", kind)
	require.Equal(t, 2, l.CacheStats().Entries, "source and its 8 kHz copy")

	second, kind := playAll(1000)
	require.Equal(t, "*player.wavDecoder", kind, "the copy plays")
	require.Equal(t, first, second)
	require.Equal(t, int32(1), srv.bodies.Load())

	srv.set(mp3b, `"v2"`, "")
	_, kind = playAll(1000)
	require.Equal(t, "*player.mp3Decoder", kind, "a new version is decoded")
	_, kind = playAll(1000)
	require.Equal(t, "*player.wavDecoder", kind)
}

func TestCredentialsStayOutOfErrorsAndCache(t *testing.T) {
	srv := newAudioServer(t, toneWAV(1000, 0.2))
	dir := t.TempDir()
	l, err := NewLoader(Config{Client: srv.Client(), CacheDir: dir})
	require.NoError(t, err)
	withPass := strings.Replace(srv.URL, "http://", "http://user:s3cret@", 1)
	_, err = l.Open(context.Background(), withPass+"/missing.wav", Options{Loop: 1})
	require.ErrorIs(t, err, ErrNotFound)
	require.NotContains(t, err.Error(), "s3cret")
	play(t, l, withPass+"/a.wav")
	files, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, f := range files {
		b, err := os.ReadFile(dir + "/" + f.Name())
		require.NoError(t, err)
		require.NotContains(t, string(b), "s3cret")
	}
}

// TestConcurrentOpensFetchOnce: calls that open one URL at the same time
// share one download, with or without a cache.
func TestConcurrentOpensFetchOnce(t *testing.T) {
	for _, cached := range []bool{true, false} {
		t.Run(fmt.Sprint("cache=", cached), func(t *testing.T) {
			release := make(chan struct{})
			var bodies atomic.Int32
			body := toneWAV(1000, 0.2)
			srv := newAudioServer(t, nil)
			srv.extraPath["/slow.wav"] = func(w http.ResponseWriter, _ *http.Request) {
				bodies.Add(1)
				<-release
				_, _ = w.Write(body)
			}
			cfg := Config{Client: srv.Client()}
			if cached {
				cfg.CacheDir = t.TempDir()
			}
			l, err := NewLoader(cfg)
			require.NoError(t, err)
			var wg sync.WaitGroup
			frames := make([]int, 6)
			for i := range frames {
				wg.Go(func() {
					p, err := l.Open(context.Background(), srv.URL+"/slow.wav", Options{Loop: 1})
					if err != nil {
						return
					}
					defer p.Close()
					frame := make([]int16, 160)
					for p.ReadFrame(frame) == nil {
						frames[i]++
					}
				})
			}
			require.Eventually(t, func() bool { return bodies.Load() == 1 }, 5*time.Second, time.Millisecond)
			require.Eventually(t, func() bool { // the others queue behind it
				l.mu.Lock()
				defer l.mu.Unlock()
				f := l.inflight[srv.URL+"/slow.wav"]
				return f != nil && f.waiters == 5
			}, 5*time.Second, time.Millisecond)
			close(release)
			wg.Wait()
			require.Equal(t, int32(1), bodies.Load())
			for _, n := range frames {
				require.Equal(t, 10, n)
			}
		})
	}
}
