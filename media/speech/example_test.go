package speech_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/voxrun/voxrun/media"
	"github.com/voxrun/voxrun/media/player"
	"github.com/voxrun/voxrun/media/speech"
)

// Example shows how the say verb speaks: one Speaker (built by cmd) over
// the espeak-ng engine; an unusable engine is an alert and the say is
// skipped, not a failed call.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "tts-cache")
	defer os.RemoveAll(dir)
	engine := speech.NewEspeak(ctx, speech.EspeakConfig{})
	speaker, _ := speech.NewSpeaker(engine, speech.Config{CacheDir: dir})

	p, err := speaker.Say(ctx, speech.Request{
		Text:     `<speak>Welcome <break time="300ms"/> to voxrun.</speak>`,
		Language: "en-US",
	}, player.Options{Loop: 1})
	switch {
	case errors.Is(err, speech.ErrUnavailable), errors.Is(err, speech.ErrVoice), errors.Is(err, speech.ErrSynthesis):
		fmt.Println("alert: tts-failure, say skipped")
		return
	case err != nil:
		fmt.Println(err)
		return
	}
	defer p.Close()
	frame := media.NewFrame() // the leg's pacing reads it: endpoint.SetSource(p)
	for p.ReadFrame(frame) == nil {
	}
	pr, _ := p.Wait(ctx)
	fmt.Println(pr.Completed, pr.Played > 0)
}
