// Package gather is the gather verb: it collects DTMF digits (and speech,
// when the call has a recognizer: verbs.SpeechListener) while or after
// playing a nested say or play prompt, and sends what it got to actionHook.
// A recognizer result ends the gather with reason speechDetected and
// jambonz's speech object.
//
// Digits pressed during the prompt count (listenDuringPrompt) and stop the
// prompt (dtmfBargein). Collection ends on finishOnKey (not part of the
// digits), on numDigits or maxDigits, or on a timeout: timeout before the
// first digit (15 s by default, 0 for none, as jambonz), interDigitTimeout
// between digits.
//
// Speech input needs a recognizer; without one the gather raises a no-stt
// alert and reports reason "error" at once, whether or not digits were asked
// for too. Speech barge-in (bargein) and the recognizer tuning attributes
// are accepted but not run yet: each one given is logged when the gather runs.
package gather

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/voxrun/voxrun/verbs"
)

// Name is the verb's name in documents.
const Name = "gather"

// Reasons reported in the action hook's "reason".
const (
	ReasonDTMF    = "dtmfDetected"
	ReasonSpeech  = "speechDetected"
	ReasonTimeout = "timeout"
	ReasonError   = "error"
)

// DefaultTimeout is the wait for the first digit when timeout is not given
// (jambonz's default).
const DefaultTimeout = 15 * time.Second

// notYet are gather attributes of jambonz's schema that need a speech
// engine's interim results or tuning, which voxrun does not have yet; each
// one given is logged when the gather runs. bargein is added when true.
var notYet = []string{"recognizer", "speechTimeout", "partialResultHook", "minBargeinWordCount",
	"actionHookDelayAction", "fillerNoise"}

// Gather is a decoded gather verb.
type Gather struct {
	// ActionHook receives digits and reason.
	ActionHook *verbs.Hook `json:"actionHook"`
	// Input lists what to collect: "digits", "speech".
	Input []string `json:"input"`
	// FinishOnKey ends collection; it is not part of the digits.
	FinishOnKey string `json:"finishOnKey"`
	// NumDigits ends collection when exactly this many digits arrived.
	NumDigits int `json:"numDigits"`
	// MinDigits is the fewest digits that count as a result (default 1).
	MinDigits int `json:"minDigits"`
	// MaxDigits ends collection when this many digits arrived.
	MaxDigits int `json:"maxDigits"`
	// InterDigitTimeout is the wait between digits, in seconds.
	InterDigitTimeout verbs.Seconds `json:"interDigitTimeout"`
	// Timeout is the wait for the first digit after the prompt, in seconds
	// (default 15; 0 waits without a limit).
	Timeout *verbs.Seconds `json:"timeout"`
	// ListenDuringPrompt collects digits while the prompt plays (default true).
	ListenDuringPrompt *bool `json:"listenDuringPrompt"`
	// DTMFBargein stops the prompt at the first digit (default true).
	DTMFBargein *bool `json:"dtmfBargein"`
	// Bargein would stop the prompt as soon as the caller starts speaking;
	// it needs a recognizer's interim results and is not supported yet
	// (logged, not run).
	Bargein bool `json:"bargein"`
	// Say and Play are the nested prompt.
	Say  json.RawMessage `json:"say"`
	Play json.RawMessage `json:"play"`

	prompt verbs.Verb
	// ignored lists the attributes given that voxrun does not run yet.
	ignored []string
}

var _ verbs.Verb = (*Gather)(nil)

// New decodes a gather verb and its nested prompt.
func New(attrs json.RawMessage, d *verbs.Decoder) (verbs.Verb, error) {
	g := &Gather{}
	if err := json.Unmarshal(attrs, g); err != nil {
		return nil, fmt.Errorf("gather: %w", err)
	}
	if len(g.Input) == 0 {
		g.Input = []string{"digits"}
	}
	if g.MinDigits <= 0 {
		g.MinDigits = 1
	}
	if g.NumDigits > 0 {
		g.MinDigits, g.MaxDigits = g.NumDigits, g.NumDigits
	}
	if g.MaxDigits > 0 && g.MinDigits > g.MaxDigits {
		return nil, fmt.Errorf("gather: minDigits %d is above maxDigits %d", g.MinDigits, g.MaxDigits)
	}
	var err error
	switch {
	case len(g.Say) > 0:
		g.prompt, err = d.Decode("say", g.Say)
	case len(g.Play) > 0:
		g.prompt, err = d.Decode("play", g.Play)
	}
	if err != nil {
		return nil, fmt.Errorf("gather: prompt: %w", err)
	}
	g.ignored = verbs.NotYet(attrs, notYet...)
	if g.Bargein {
		g.ignored = append(g.ignored, "bargein")
	}
	return g, nil
}

// Name implements verbs.Verb.
func (*Gather) Name() string { return Name }

func orTrue(b *bool) bool { return b == nil || *b }

// timeout is the wait for the first digit; 0 means no limit.
func (g *Gather) timeout() time.Duration {
	if g.Timeout == nil {
		return DefaultTimeout
	}
	return g.Timeout.Duration()
}

func (g *Gather) interDigit() time.Duration {
	if g.InterDigitTimeout > 0 {
		return g.InterDigitTimeout.Duration()
	}
	return g.timeout()
}

// Run implements verbs.Verb.
func (g *Gather) Run(ctx context.Context, call verbs.Call) (verbs.Outcome, error) {
	out := verbs.Outcome{ActionHook: g.ActionHook}
	verbs.WarnNotYet(call, Name, g.ignored)
	wantDigits := slices.Contains(g.Input, "digits")
	wantSpeech := slices.Contains(g.Input, "speech")
	var speech <-chan verbs.SpeechResult
	if wantSpeech {
		if sl, ok := call.(verbs.SpeechListener); ok {
			if ch, unsubscribe, ok := sl.SubscribeSpeech(); ok {
				speech = ch
				defer unsubscribe()
			}
		}
	}
	if wantSpeech && speech == nil {
		// No speech-to-text engine is configured yet: tell the tenant, and
		// report an error result so that the application can carry on. This
		// holds when digits were asked for too: the application asked for
		// speech and would otherwise wait for what can never come.
		if a, ok := call.(verbs.Alerter); ok {
			a.Alert(ctx, "no-stt", "gather: speech input needs a speech-to-text engine, and none is configured")
		}
		out.Results = map[string]any{"reason": ReasonError, "details": "no speech-to-text engine is configured"}
		return out, nil
	}
	m, err := verbs.Need[verbs.Media](call, Name, "media")
	if err != nil {
		return verbs.Outcome{}, err
	}
	if _, err := m.Endpoint(ctx, false); err != nil {
		return verbs.Outcome{}, err
	}
	dl, err := verbs.Need[verbs.DigitListener](call, Name, "DTMF")
	if err != nil {
		return verbs.Outcome{}, err
	}
	digits, unsubscribe := dl.SubscribeDigits()
	defer unsubscribe()

	var collected strings.Builder
	promptDone := make(chan error, 1)
	promptCtx, stopPrompt := context.WithCancelCause(ctx)
	defer stopPrompt(nil)
	if g.prompt != nil {
		go func() {
			promptDone <- verbs.Safely(func() error {
				_, err := g.prompt.Run(promptCtx, call)
				return err
			})
		}()
	} else {
		promptDone <- nil
	}

	listening := orTrue(g.ListenDuringPrompt)
	var timer *time.Timer
	var timerC <-chan time.Time
	startTimer := func(d time.Duration) {
		if d <= 0 {
			// timeout 0: no limit (jambonz); only numDigits, maxDigits,
			// finishOnKey or the end of the call end the gather.
			if timer != nil {
				timer.Stop()
			}
			timerC = nil
			return
		}
		if timer == nil {
			timer = time.NewTimer(d)
		} else {
			timer.Reset(d)
		}
		timerC = timer.C
	}
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	promptRunning := true
	result := func(reason string) (verbs.Outcome, error) {
		stopPrompt(verbs.CauseBargeIn)
		if promptRunning {
			<-promptDone
		}
		out.Results = map[string]any{"digits": collected.String(), "reason": reason}
		return out, nil
	}

	for {
		select {
		case <-ctx.Done():
			stopPrompt(context.Cause(ctx))
			if promptRunning {
				<-promptDone
			}
			return verbs.Outcome{}, nil
		case err := <-promptDone:
			promptRunning = false
			if errors.Is(err, verbs.ErrPanic) {
				return verbs.Outcome{}, err // the call ends with an alert
			}
			if err != nil && ctx.Err() == nil {
				call.Logger().Warn("gather: prompt failed", "err", err)
			}
			if collected.Len() > 0 {
				startTimer(g.interDigit())
			} else {
				startTimer(g.timeout())
			}
		case d := <-digits:
			if !wantDigits || (promptRunning && !listening) {
				continue
			}
			key := string(d.Key)
			if promptRunning && orTrue(g.DTMFBargein) {
				stopPrompt(verbs.CauseBargeIn)
			}
			if g.FinishOnKey != "" && strings.Contains(g.FinishOnKey, key) {
				return result(ReasonDTMF)
			}
			collected.WriteString(key)
			if g.MaxDigits > 0 && collected.Len() >= g.MaxDigits {
				return result(ReasonDTMF)
			}
			if !promptRunning {
				startTimer(g.interDigit())
			}
		case r := <-speech:
			stopPrompt(verbs.CauseBargeIn)
			if promptRunning {
				<-promptDone
			}
			out.Results = map[string]any{"speech": r.Payload(), "reason": ReasonSpeech}
			return out, nil
		case <-timerC:
			if collected.Len() >= g.MinDigits {
				return result(ReasonDTMF)
			}
			return result(ReasonTimeout)
		}
	}
}
