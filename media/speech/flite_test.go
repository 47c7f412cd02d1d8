package speech

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestEspeakAgainstFlite is the comparison docs/speech.md records: the
// start-up-plus-synthesis time of one sentence, and what each does with
// SSML. scripts/test-deps.sh installs flite (a Debian package); the test only
// logs the figures, apart from the properties the choice rests on.
func TestEspeakAgainstFlite(t *testing.T) {
	e := needEspeak(t)
	if _, err := exec.LookPath("flite"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("flite missing in CI (scripts/test-deps.sh installs it): %v", err)
		}
		t.Skip("flite not installed (scripts/test-deps.sh installs it): nothing to compare with")
	}
	const sentence = "Thank you for calling. Please press one for sales, or two for support."
	ctx := context.Background()
	dir := t.TempDir()
	median := func(run func() error) time.Duration {
		var d []time.Duration
		for range 7 {
			start := time.Now()
			require.NoError(t, run())
			d = append(d, time.Since(start))
		}
		slices.Sort(d)
		return d[3]
	}
	var espeakAudio Audio
	espeakT := median(func() error {
		var err error
		espeakAudio, err = e.Synthesize(ctx, Request{Text: sentence})
		return err
	})
	fliteWAV := filepath.Join(dir, "f.wav")
	fliteT := median(func() error { return exec.Command("flite", "-t", sentence, "-o", fliteWAV).Run() })
	b, err := os.ReadFile(fliteWAV)
	require.NoError(t, err)
	fliteAudio, err := decodeWAV(b)
	require.NoError(t, err)
	t.Logf("espeak-ng: %v for %.2f s of audio at %d Hz", espeakT, seconds(espeakAudio), espeakAudio.Rate)
	t.Logf("flite:     %v for %.2f s of audio at %d Hz", fliteT, seconds(fliteAudio), fliteAudio.Rate)
	require.Less(t, espeakT, 3*fliteT+50*time.Millisecond, "espeak-ng is not markedly slower to start")

	// SSML: espeak-ng -m honours a 1 s break; flite -ssml (a file) keeps
	// little of it.
	ssml := `<speak>Hello <break time="1s"/> world</speak>`
	plain, err := e.Synthesize(ctx, Request{Text: "Hello world"})
	require.NoError(t, err)
	spoken, err := e.Synthesize(ctx, Request{Text: ssml})
	require.NoError(t, err)
	ssmlFile := filepath.Join(dir, "x.ssml")
	require.NoError(t, os.WriteFile(ssmlFile, []byte(ssml), 0o600))
	fPlainWAV, fSSMLWAV := filepath.Join(dir, "p.wav"), filepath.Join(dir, "s.wav")
	require.NoError(t, exec.Command("flite", "-t", "Hello world", "-o", fPlainWAV).Run())
	require.NoError(t, exec.Command("flite", "-ssml", ssmlFile, "-o", fSSMLWAV).Run())
	fp, fs := readWAV(t, fPlainWAV), readWAV(t, fSSMLWAV)
	t.Logf("1 s break adds: espeak-ng %.2f s, flite %.2f s", seconds(spoken)-seconds(plain), seconds(fs)-seconds(fp))
	require.InDelta(t, 1.0, seconds(spoken)-seconds(plain), 0.4)
}

func readWAV(t *testing.T, path string) Audio {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	a, err := decodeWAV(b)
	require.NoError(t, err)
	return a
}
