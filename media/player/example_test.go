package player_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/voxrun/voxrun/media"
	"github.com/voxrun/voxrun/media/player"
)

// Example shows how the play verb uses a Loader: open the URL (a 404 is
// ErrNotFound: play-url-notfound), hand the Player to the leg as its
// source, wait for it under the verb's context, and report the progress in
// the actionHook.
func Example() {
	mp3, _ := os.ReadFile("testdata/tone_1k_44k1_stereo.mp3")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/hello.mp3" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(mp3)
	}))
	defer srv.Close()

	// cmd builds one Loader with the guarded tenant client.
	dir, _ := os.MkdirTemp("", "audio-cache")
	defer os.RemoveAll(dir)
	loader, _ := player.NewLoader(player.Config{Client: srv.Client(), CacheDir: dir})
	ctx := context.Background()

	if _, err := loader.Open(ctx, srv.URL+"/missing.wav", player.Options{Loop: 1}); errors.Is(err, player.ErrNotFound) {
		fmt.Println("alert: play-url-notfound")
	}

	p, err := loader.Open(ctx, srv.URL+"/hello.mp3", player.Options{Loop: 2, SeekOffset: 4000})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close()
	// The verb does endpoint.SetSource(p); here we pace it by hand.
	frame := media.NewFrame()
	for p.ReadFrame(frame) == nil {
	}
	pr, err := p.Wait(ctx) // nil: completed; ErrStopped or the context's cause otherwise
	fmt.Println(err, pr.Completed, pr.Passes)
	fmt.Printf("playback_seconds=%d playback_milliseconds=%d playback_last_offset_pos=%d\n",
		int(pr.Played.Seconds()), pr.Played.Milliseconds(), pr.LastOffset)
	// Output:
	// alert: play-url-notfound
	// <nil> true 2
	// playback_seconds=1 playback_milliseconds=1589 playback_last_offset_pos=8359
}
