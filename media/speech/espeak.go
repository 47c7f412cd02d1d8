package speech

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"regexp"
	"strings"
	"time"

	"github.com/voxrun/voxrun/media/wav"
)

// EspeakConfig configures the espeak-ng engine. The zero value works.
type EspeakConfig struct {
	// Binary is the program to run; empty means "espeak-ng" on PATH.
	Binary string
	// DefaultLanguage is used when a request names neither a voice nor a
	// language; empty means en-us.
	DefaultLanguage string
	// Timeout bounds one synthesis; zero means 20 s.
	Timeout time.Duration
	// MaxOutput caps the WAV read from espeak-ng; zero means 64 MiB
	// (about 25 minutes of speech).
	MaxOutput int64
}

// Espeak is the offline default Engine: espeak-ng run as a subprocess per
// request, text on stdin (never on the command line).
type Espeak struct {
	cfg    EspeakConfig
	path   string
	err    error           // why it is unavailable
	voices map[string]bool // languages and voice names espeak-ng knows
}

var _ Engine = (*Espeak)(nil)

var voiceName = regexp.MustCompile(`^[a-z0-9][a-z0-9_\-]*(\+[a-z0-9_\-]+)?$`)

// NewEspeak finds espeak-ng and lists its voices. A missing binary is not an
// error here: the engine reports ErrUnavailable from Available and
// Synthesize, so that voxrun starts without it.
func NewEspeak(ctx context.Context, cfg EspeakConfig) *Espeak {
	if cfg.Binary == "" {
		cfg.Binary = "espeak-ng"
	}
	if cfg.DefaultLanguage == "" {
		cfg.DefaultLanguage = "en-us"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 20 * time.Second
	}
	if cfg.MaxOutput <= 0 {
		cfg.MaxOutput = 64 << 20
	}
	e := &Espeak{cfg: cfg, voices: map[string]bool{}}
	e.path, e.err = exec.LookPath(cfg.Binary)
	if e.err != nil {
		e.err = fmt.Errorf("%w: %s: %w", ErrUnavailable, cfg.Binary, e.err)
		return e
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, e.path, "--voices").Output()
	if err != nil {
		e.err = fmt.Errorf("%w: %s --voices: %w", ErrUnavailable, e.path, err)
		return e
	}
	// Pty Language Age/Gender VoiceName File Other Languages
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		if len(f) < 5 || f[0] == "Pty" {
			continue
		}
		e.voices[strings.ToLower(f[1])] = true
		e.voices[strings.ToLower(f[3])] = true
	}
	return e
}

// Name is "espeak-ng".
func (e *Espeak) Name() string { return "espeak-ng" }

// Available returns nil when espeak-ng can run, else ErrUnavailable.
func (e *Espeak) Available() error { return e.err }

// Voice returns the espeak-ng voice that req resolves to: its Voice if
// espeak-ng has it (a variant such as en-us+f3 allowed), else its Language
// (en-US → en-us, or the primary tag: de-DE → de), else ErrVoice.
func (e *Espeak) Voice(req Request) (string, error) {
	if e.err != nil {
		return "", e.err
	}
	if v := strings.ToLower(req.Voice); v != "" {
		base, _, _ := strings.Cut(v, "+")
		if voiceName.MatchString(v) && e.voices[base] {
			return v, nil
		}
	}
	lang := strings.ToLower(strings.ReplaceAll(req.Language, "_", "-"))
	if lang == "" {
		lang = strings.ToLower(e.cfg.DefaultLanguage)
	}
	primary, _, _ := strings.Cut(lang, "-")
	for _, v := range []string{lang, primary} {
		if voiceName.MatchString(v) && e.voices[v] {
			return v, nil
		}
	}
	return "", fmt.Errorf("%w: espeak-ng has no voice %q or language %q", ErrVoice, req.Voice, req.Language)
}

// Synthesize runs espeak-ng on req and returns its audio (22.05 kHz).
func (e *Espeak) Synthesize(ctx context.Context, req Request) (Audio, error) {
	voice, err := e.Voice(req)
	if err != nil {
		return Audio{}, err
	}
	if strings.TrimSpace(req.Text) == "" {
		return Audio{}, fmt.Errorf("%w: empty", ErrText)
	}
	ctx, cancel := context.WithTimeout(ctx, e.cfg.Timeout)
	defer cancel()
	args := []string{"--stdout", "--stdin", "-b", "1", "-v", voice}
	if req.SSML() {
		args = append(args, "-m")
	}
	cmd := exec.CommandContext(ctx, e.path, args...)
	cmd.Stdin = strings.NewReader(req.Text)
	var stdout capBuffer
	stdout.left = e.cfg.MaxOutput
	var stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	cmd.WaitDelay = time.Second
	if err := cmd.Run(); err != nil {
		if cerr := context.Cause(ctx); cerr != nil {
			err = cerr
		}
		return Audio{}, fmt.Errorf("%w: espeak-ng -v %s: %w: %s", ErrSynthesis, voice, err, strings.TrimSpace(stderr.String()))
	}
	if stdout.over {
		return Audio{}, fmt.Errorf("%w: espeak-ng output over %d bytes", ErrSynthesis, e.cfg.MaxOutput)
	}
	a, err := decodeWAV(stdout.Bytes())
	if err != nil {
		return Audio{}, fmt.Errorf("%w: espeak-ng output: %w", ErrSynthesis, err)
	}
	return a, nil
}

// decodeWAV reads a whole WAV into mono samples.
func decodeWAV(b []byte) (Audio, error) {
	r, err := wav.NewReader(bytes.NewReader(b))
	if err != nil {
		return Audio{}, err
	}
	ch := r.Format.Channels
	samples := make([]int16, 0, len(b)/2/ch)
	buf := make([]int16, 4096*ch)
	for {
		n, err := r.Read(buf)
		for i := 0; i+ch <= n; i += ch {
			sum := 0
			for c := range ch {
				sum += int(buf[i+c])
			}
			samples = append(samples, int16(sum/ch))
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Audio{}, err
		}
	}
	return Audio{Rate: r.Format.SampleRate, Samples: samples}, nil
}

// capBuffer keeps up to left bytes and notes whether more came.
type capBuffer struct {
	bytes.Buffer
	left int64
	over bool
}

func (c *capBuffer) Write(p []byte) (int, error) {
	if int64(len(p)) > c.left {
		c.over = true
		return 0, errors.New("media/speech: output too large")
	}
	c.left -= int64(len(p))
	return c.Buffer.Write(p)
}
