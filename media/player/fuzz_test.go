package player

import (
	"bytes"
	"os"
	"testing"

	"github.com/voxrun/voxrun/media"
)

// FuzzOpenReader feeds arbitrary bytes (a tenant's URL can serve anything)
// to the sniffers and decoders: an error or audio, never a panic or a hang.
// testdata/fuzz holds an MP3 frame that makes go-mp3 itself panic (index
// out of range in maindata), which the decoder guard turns into
// ErrNotAudio.
func FuzzOpenReader(f *testing.F) {
	for _, name := range []string{"testdata/tone_1k_44k1_stereo.mp3", "testdata/halves_22k05_mono.mp3"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b[:min(len(b), 1200)])
	}
	f.Add(makeWAV(wavFormat{1, 44100, 2}, synth(44100, amp, seg{1000, 0.01})))
	f.Add(makeWAV(wavFormat{7, 8000, 1}, synth(8000, amp, seg{1000, 0.02})))
	f.Add([]byte("ID3\x04\x00\x00\x00\x00\x00\x00\xff\xfb\x90\x00"))
	f.Add([]byte("<html></html>"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := OpenReader(bytes.NewReader(b), Options{Loop: 2, SeekOffset: int64(len(b) % 300)})
		if err != nil {
			return
		}
		defer p.Close()
		frame := media.NewFrame()
		for range 100 {
			if p.ReadFrame(frame) != nil {
				return
			}
		}
	})
}
