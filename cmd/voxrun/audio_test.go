package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voxrun/voxrun/apps/webhook"
	"github.com/voxrun/voxrun/media"
	"github.com/voxrun/voxrun/media/player"
	"github.com/voxrun/voxrun/media/speech"
	"github.com/voxrun/voxrun/runtime"
	"github.com/voxrun/voxrun/verbs"
)

// wav8k is a mono 16-bit 8 kHz WAV of n samples.
func wav8k(n int) []byte {
	var b bytes.Buffer
	w := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	w(uint32(36 + 2*n))
	b.WriteString("WAVEfmt ")
	w(uint32(16))
	w(uint16(1))
	w(uint16(1))
	w(uint32(8000))
	w(uint32(16000))
	w(uint16(2))
	w(uint16(16))
	b.WriteString("data")
	w(uint32(2 * n))
	for i := range n {
		w(int16(i % 1000))
	}
	return b.Bytes()
}

func TestAudioProviderOpensURLsThroughTheGuard(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/hello.wav" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "audio/wav")
		_, _ = w.Write(wav8k(8000))
	}))
	defer srv.Close()

	open := func(t *testing.T, allow []string) *audio {
		g, err := webhook.NewGuard(allow, time.Second)
		require.NoError(t, err)
		l, err := player.NewLoader(player.Config{Client: webhook.NewHTTPClient(g), CacheDir: t.TempDir()})
		require.NoError(t, err)
		return &audio{loader: l}
	}

	a := open(t, webhook.LoopbackAllow)
	pb, err := a.OpenURL(context.Background(), srv.URL+"/hello.wav", 500*time.Millisecond)
	require.NoError(t, err)
	frames := 0
	buf := media.NewFrame()
	for {
		if err := pb.ReadFrame(buf); errors.Is(err, io.EOF) {
			break
		} else {
			require.NoError(t, err)
		}
		frames++
	}
	require.NoError(t, pb.Close())
	require.Equal(t, 25, frames, "one second of audio, started half a second in")

	_, err = a.OpenURL(context.Background(), srv.URL+"/missing.wav", 0)
	require.ErrorIs(t, err, verbs.ErrAudioNotFound)

	strict := open(t, nil)
	_, err = strict.OpenURL(context.Background(), srv.URL+"/hello.wav", 0)
	require.Error(t, err, "loopback is refused without the allow-list")

	_, err = a.Synthesize(context.Background(), "hi", runtime.Voice{})
	require.ErrorIs(t, err, verbs.ErrNoTTS, "no engine")

	sp, err := speech.NewSpeaker(speech.NewEspeak(context.Background(), speech.EspeakConfig{}), speech.Config{CacheDir: t.TempDir()})
	require.NoError(t, err)
	a.speaker = sp
	_, err = a.Synthesize(context.Background(), "hi", runtime.Voice{Vendor: "google", Language: "en-US"})
	require.ErrorIs(t, err, verbs.ErrNoTTS, "a vendor without credentials")
	pb, err = a.Synthesize(context.Background(), "<speak>Hello <break time='200ms'/> world</speak>", runtime.Voice{Language: "en-US"})
	require.NoError(t, err)
	frames = 0
	for pb.ReadFrame(buf) == nil {
		frames++
	}
	pb.Close()
	require.Greater(t, frames, 25, "at least half a second of speech")
}
